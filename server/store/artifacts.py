"""Artifact rows: one per path of a build (the last upload), listed, found, and chosen for removal."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Artifact, Repo
from server.store.rows import save


async def keep_artifact(session: AsyncSession, artifact: Artifact) -> str:
    """Insert the artifact, or replace the build's earlier one of the same path; the replaced file's location
    ('' when there was none), to remove once this commits."""
    earlier = await find_artifact(session, artifact.build_id, artifact.path)
    if earlier is None:
        await save(session, artifact)
        return ""
    replaced = earlier.location
    for name in ("stage_id", "step", "size", "sha256", "location", "created"):
        setattr(earlier, name, getattr(artifact, name))
    await save(session, earlier)
    return replaced


async def find_artifact(session: AsyncSession, build_id: int, path: str) -> Artifact | None:
    """The build's artifact of that path."""
    query = select(Artifact).where(Artifact.build_id == build_id, Artifact.path == path)
    return (await session.exec(query)).first()


async def list_artifacts(session: AsyncSession, build_id: int) -> Sequence[Artifact]:
    """The build's artifacts, by path."""
    query = select(Artifact).where(Artifact.build_id == build_id).order_by(col(Artifact.path))
    return (await session.exec(query)).all()


async def expired_artifacts(session: AsyncSession, before: float) -> Sequence[Artifact]:
    """Artifacts created before `before`."""
    return (await session.exec(select(Artifact).where(col(Artifact.created) < before))).all()


async def artifacts_past_size(session: AsyncSession, max_bytes: int) -> list[Artifact]:
    """Per repository holding more than `max_bytes`, its oldest artifacts beyond what fits."""
    totals = select(Artifact.repo_id).group_by(col(Artifact.repo_id))
    over = (await session.exec(totals.having(func.sum(Artifact.size) > max_bytes))).all()
    chosen: list[Artifact] = []
    for repo_id in over:
        newest_first = select(Artifact).where(Artifact.repo_id == repo_id)
        kept = 0
        for artifact in (await session.exec(newest_first.order_by(col(Artifact.created).desc()))).all():
            kept += artifact.size
            if kept > max_bytes:
                chosen.append(artifact)
    return chosen


async def delete_artifacts(session: AsyncSession, ids: Sequence[int]) -> None:
    """Forget these rows."""
    if ids:
        await session.exec(delete(Artifact).where(col(Artifact.id).in_(ids)))


async def artifact_locations(session: AsyncSession) -> set[str]:
    """Where every artifact's bytes are."""
    return set((await session.exec(select(Artifact.location))).all())


async def repo_ids(session: AsyncSession) -> set[int]:
    """The ids of the repositories that exist."""
    return {repo_id for repo_id in (await session.exec(select(Repo.id))).all() if repo_id is not None}

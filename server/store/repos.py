"""Repositories."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, update
from sqlalchemy import select as core_select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import (
    Artifact,
    Build,
    CacheEntry,
    Delivery,
    LogChunk,
    Outbox,
    Repo,
    Secret,
    Stage,
    Step,
    TestResult,
    TestRun,
)
from server.store.rows import kept, save

_REPO_BY_SLUG = select(Repo).where(col(Repo.owner) == bindparam("owner"), col(Repo.name) == bindparam("name"))
"""Built once: every API request about a repository finds it by its slug."""


async def find_repo(session: AsyncSession, owner: str, name: str) -> Repo | None:
    """The repository `owner/name`, if registered."""
    return (await session.exec(_REPO_BY_SLUG, params={"owner": owner, "name": name})).first()


_HOOK_REPO = core_select(col(Repo.id), col(Repo.webhook_secret)).where(
    col(Repo.owner) == bindparam("owner"), col(Repo.name) == bindparam("name")
)


async def find_hook_repo(engine: AsyncEngine, owner: str, name: str) -> tuple[int, str] | None:
    """The id and (encrypted) webhook secret of repository `owner/name`: one Core statement, no ORM session
    (the webhook route's lookup, made for every delivery)."""
    async with engine.connect() as connection:
        row = (await connection.execute(_HOOK_REPO, {"owner": owner, "name": name})).first()
    return (row[0] or 0, row[1]) if row is not None else None


async def find_repo_by_id(session: AsyncSession, repo_id: int) -> Repo | None:
    """The repository with that id."""
    return kept(session, await session.get(Repo, repo_id))


async def list_repos(session: AsyncSession) -> Sequence[Repo]:
    """Every repository, by slug."""
    result = await session.exec(select(Repo).order_by(col(Repo.owner), col(Repo.name)))
    return result.all()


async def create_repo(session: AsyncSession, repo: Repo) -> Repo:
    """Register a repository."""
    return await save(session, repo)


async def update_repo(session: AsyncSession, repo: Repo) -> Repo:
    """Save a repository's changed settings."""
    return await save(session, repo)


async def delete_repo(session: AsyncSession, repo: Repo) -> None:
    """Forget a repository with its whole history: builds, stages, steps, logs, notifications not yet sent,
    secrets, webhook deliveries, test results, cache entries and artifacts."""
    repo_id = repo.id or 0
    stage_ids = select(Stage.id).where(Stage.repo_id == repo_id)
    step_ids = select(Step.id).where(col(Step.stage_id).in_(stage_ids))
    build_ids = select(Build.id).where(Build.repo_id == repo_id)
    await session.exec(delete(LogChunk).where(col(LogChunk.step_id).in_(step_ids)))
    for filed in (Artifact, CacheEntry):  # their files go with the data folder's sweep
        await session.exec(delete(filed).where(col(filed.repo_id) == repo_id))
    for results in (TestResult, TestRun):
        await session.exec(delete(results).where(col(results.step_id).in_(step_ids)))
    await session.exec(delete(Step).where(col(Step.stage_id).in_(stage_ids)))
    await session.exec(delete(Stage).where(col(Stage.repo_id) == repo_id))
    await session.exec(delete(Outbox).where(col(Outbox.build_id).in_(build_ids)))
    for table in (Build, Secret, Delivery):
        await session.exec(delete(table).where(col(table.repo_id) == repo_id))
    await session.delete(repo)
    await session.flush()


_REPOS = SQLModel.metadata.tables[Repo.__tablename__]
_NEXT_NUMBER = (
    update(_REPOS)
    .where(_REPOS.c.id == bindparam("repo_id"))
    .values(counter=_REPOS.c.counter + 1)
    .returning(_REPOS.c.counter)
)
"""Built once, a Core UPDATE (the ORM's UPDATE also looks for the row in the session, for every build)."""


async def next_build_number(session: AsyncSession, repo_id: int) -> int:
    """Reserve the repository's next build number (atomic: two triggers never get the same)."""
    result = await session.exec(_NEXT_NUMBER, params={"repo_id": repo_id})
    return int(result.scalar_one())

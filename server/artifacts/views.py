"""A build's artifacts as the API, the build page and the email show them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.links import artifact_link
from server.db.models import Artifact, Build, Repo
from server.store.artifacts import list_artifacts
from server.store.builds import list_stages


async def build_artifacts(
    session: AsyncSession, server_url: str, repo: Repo, build: Build
) -> list[dict[str, Any]]:
    """The build's artifacts as the API and the pages show them (`server_url` "": links are paths)."""
    artifacts = await list_artifacts(session, build.id or 0)
    stages = {stage.id: stage.number for stage in await list_stages(session, build.id or 0)}
    return [_view(artifact, stages, server_url, repo, build) for artifact in artifacts]


def _view(
    artifact: Artifact, stages: dict[int | None, int], server_url: str, repo: Repo, build: Build
) -> dict[str, Any]:
    return {
        "path": artifact.path,
        "size": artifact.size,
        "sha256": artifact.sha256,
        "stage": stages.get(artifact.stage_id, 0),
        "step": artifact.step,
        "created": artifact.created,
        "link": artifact_link(server_url, repo.slug, build.number, artifact.path),
    }


def total_size(artifacts: Sequence[dict[str, Any]]) -> int:
    """What the artifacts hold together."""
    return sum(int(artifact["size"]) for artifact in artifacts)

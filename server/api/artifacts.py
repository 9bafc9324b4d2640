"""A build's artifacts over the API: the list (`…/builds/{number}/artifacts`) and each file, streamed, with
the repository's read permission (a private repository's are 404 to those who may not see it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipelines.links import artifact_link
from server.api.access import readable_build
from server.api.common import services
from server.artifacts.storage import artifact_storage
from server.db.models import Artifact, Build, Repo
from server.store.artifacts import find_artifact, list_artifacts
from server.store.builds import list_stages

DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
"""A downloaded file is never run as a page of the server's origin (it is an attachment, too)."""


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


async def list_build_artifacts(request: Request) -> Response:
    """The build's artifacts: path, size, sha256, stage and step numbers, created, download link."""
    repo, build = await readable_build(request)
    hangar = services(request)
    async with hangar.reading() as session:
        views = await build_artifacts(session, hangar.settings.url, repo, build)
    return JSONResponse(views)


async def download(request: Request) -> Response:
    """One artifact's bytes, streamed from storage, as an attachment named after its file."""
    repo, build = await readable_build(request)
    path = str(request.path_params["path"])
    hangar = services(request)
    async with hangar.reading() as session:
        artifact = await find_artifact(session, build.id or 0, path)
    answer = None
    if artifact is not None:
        filename = path.rsplit("/", 1)[-1]
        headers = DOWNLOAD_HEADERS | {"X-Checksum-SHA256": artifact.sha256}
        answer = artifact_storage(hangar.settings).response(artifact.location, filename, headers)
    if answer is None:
        raise HTTPException(404, f"{repo.slug}#{build.number} has no artifact {path}")
    return answer


routes = [
    Route("/repos/{owner}/{name}/builds/{number}/artifacts", list_build_artifacts, methods=["GET"]),
    Route("/repos/{owner}/{name}/builds/{number}/artifacts/{path:path}", download, methods=["GET"]),
]

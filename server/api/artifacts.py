"""A build's artifacts over the API: the list (`…/builds/{number}/artifacts`) and each file, streamed, with
the repository's read permission (a private repository's are 404 to those who may not see it)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.api.access import readable_build
from server.api.common import services
from server.artifacts.storage import artifact_storage
from server.artifacts.views import build_artifacts
from server.store.artifacts import find_artifact

DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
"""A downloaded file is never run as a page of the server's origin (it is an attachment, too)."""


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

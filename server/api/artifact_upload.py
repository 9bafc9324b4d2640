"""`PUT /api/runner/stages/{id}/artifacts?step=N&path=P`: a runner uploads a step's file, streamed, with its
SHA-256 in `X-Hangar-Checksum`, under the stage's lease. Nothing is kept of a body that ends early or does not
match; the row is written (replacing the build's earlier file of that path) only once the file is whole."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.artifact_paths import is_safe_artifact_path
from pipelines.runner_api import CHECKSUM_HEADER, ArtifactInfo
from server.api.auth import held, runner_name
from server.api.common import int_param, model_response, query_int, services
from server.artifacts.storage import StoredFile, UploadRefused, artifact_storage
from server.db.models import Artifact, Stage
from server.store.artifacts import keep_artifact
from server.store.builds import find_step

MAX_PATH = 1000
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


async def upload(request: Request) -> Response:
    """Keep a step's file: 201 ArtifactInfo; 400 when the checksum does not match or the body ended early;
    409 when the stage is not this runner's (under this lease)."""
    runner, stage_id = await runner_name(request), int_param(request, "stage_id")
    step, path, sha256, size = _upload_params(request)
    hangar = services(request)
    async with hangar.transaction() as (session, _changes):  # short: the body is read after it
        stage = await held(session, stage_id, runner, request)
        if await find_step(session, stage_id, step) is None:
            raise HTTPException(404, f"stage {stage_id} has no step {step}")
    storage = artifact_storage(hangar.settings)
    folder = f"{stage.repo_id}/{stage.build_id}"
    try:
        stored = await storage.save(folder, path, _body(request), sha256, size)
    except UploadRefused as exc:
        raise HTTPException(400, str(exc)) from None
    try:
        try:
            replaced = await _record(request, stage, step, path, stored)
        except IntegrityError:  # another stage of the build wrote the same path meanwhile: replace it
            replaced = await _record(request, stage, step, path, stored)
    except BaseException:
        await storage.remove([stored.location])
        raise
    if replaced:
        await storage.remove([replaced])
    info = ArtifactInfo(path=path, size=stored.size, sha256=stored.sha256, step=step)
    return model_response(info, status_code=201)


def _upload_params(request: Request) -> tuple[int, str, str, int | None]:
    """The step, path, checksum and announced size (None: not announced); 400 when one is wrong."""
    step = query_int(request, "step", None)
    if step is None:
        raise HTTPException(400, "step is required (?step=N)")
    path = request.query_params.get("path", "")
    if len(path) > MAX_PATH or not is_safe_artifact_path(path):
        raise HTTPException(400, "path must be a relative path inside the workspace, without `..`")
    sha256 = request.headers.get(CHECKSUM_HEADER, "")
    if not _SHA256.fullmatch(sha256):
        raise HTTPException(400, f"{CHECKSUM_HEADER} must be the body's SHA-256 in hex")
    length = request.headers.get("content-length", "")
    if length and not (length.isascii() and length.isdigit()):
        raise HTTPException(400, "Content-Length is not a number")
    return step, path, sha256.lower(), int(length) if length else None


async def _body(request: Request) -> AsyncIterator[bytes]:
    """The request's body as it arrives; a client gone before its end is an upload refused."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise UploadRefused("the body ended early: nothing was kept") from None


async def _record(request: Request, stage: Stage, step: int, path: str, stored: StoredFile) -> str:
    """Write the row (the lease checked again: the upload may have outlived it); the replaced file's
    location ('' when none)."""
    runner = await runner_name(request)
    async with services(request).transaction() as (session, _changes):
        await held(session, stage.id or 0, runner, request)
        artifact = Artifact(
            repo_id=stage.repo_id,
            build_id=stage.build_id,
            stage_id=stage.id or 0,
            step=step,
            path=path,
            size=stored.size,
            sha256=stored.sha256,
            location=stored.location,
        )
        return await keep_artifact(session, artifact)


routes = [Route("/stages/{stage_id}/artifacts", upload, methods=["PUT"])]

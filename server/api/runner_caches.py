"""The runner API's shared cache (see `pipelines.runner_api`): look an entry up, download it, upload one.

Every call names a stage the runner holds under its lease; the stage's `CachePolicy` (`server.caches.policy`)
says which branches it may read and whether it may write. An upload goes to a temp file, hashed as written,
and only a whole body with the right checksum is renamed into place and given its row: a runner lost halfway
leaves nothing anyone sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from pipelines.runner_api import CHECKSUM_HEADER, CacheEntryInfo, CachePolicy
from server.api.auth import held, runner_name
from server.api.common import int_param, model_response, services
from server.caches import entries, files
from server.caches.policy import cache_policy, searched_branches
from server.db.models import CacheEntry, Repo, Stage
from server.store.builds import find_build_by_id
from server.store.repos import find_repo_by_id

MAX_KEY = 500
"""The longest key kept (the column's length)."""
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Held:
    """A stage the calling runner holds, with its repository and cache policy."""

    stage: Stage
    repo: Repo
    policy: CachePolicy


async def held_with_policy(session: AsyncSession, request: Request, runner: str) -> Held:
    """The path's stage (409 unless the runner holds it under the request's lease) and its policy."""
    stage = await held(session, int_param(request, "stage_id"), runner, request)
    build = await find_build_by_id(session, stage.build_id)
    repo = await find_repo_by_id(session, stage.repo_id)
    assert build is not None and repo is not None
    hangar = services(request)
    policy = cache_policy(
        build, repo, shared=hangar.settings.cache_shared, installation=hangar.cipher.installation
    )
    return Held(stage, repo, policy)


def entry_info(entry: CacheEntry) -> CacheEntryInfo:
    """An entry as the runner API shows it."""
    return CacheEntryInfo(
        id=entry.id or 0, key=entry.key, branch=entry.branch, size=entry.size, sha256=entry.sha256,
        created=entry.created,
    )  # fmt: skip


def _key(request: Request) -> str:
    key = request.query_params.get("key", "")
    if not key or len(key) > MAX_KEY:
        raise HTTPException(400, f"key must be given, at most {MAX_KEY} characters")
    return key


async def lookup(request: Request) -> Response:
    """The best entry for `?key=` (with `?prefix=` fallbacks) on the `?branch=`es the stage may read; 204 when
    none."""
    runner, key = await runner_name(request), _key(request)
    prefixes = request.query_params.getlist("prefix")
    asked = request.query_params.getlist("branch")
    async with services(request).transaction() as (session, _changes):
        stage = await held_with_policy(session, request, runner)
        if not stage.policy.shared:
            return Response(status_code=204)
        branches = searched_branches(stage.policy, asked)
        found = await entries.find_best(session, stage.repo, key, prefixes, branches)
    return model_response(entry_info(found)) if found is not None else Response(status_code=204)


async def download(request: Request) -> Response:
    """An entry's archive, streamed from disk; 404 when it is gone (or on a branch the stage may not read)."""
    runner, entry_id = await runner_name(request), int_param(request, "entry_id")
    data = services(request).settings.data
    async with services(request).transaction() as (session, _changes):
        stage = await held_with_policy(session, request, runner)
        entry = await entries.find_entry(session, stage.repo, entry_id)
        readable = searched_branches(stage.policy, [])
        if entry is None or entry.branch not in readable:
            raise HTTPException(404, f"no cache entry {entry_id}")
        await entries.touch(session, entry)
        try:  # opened now: a purge that removes the file meanwhile does not cut the download short
            file = files.entry_path(data, entry.repo_id, entry_id).open("rb")
        except FileNotFoundError:
            raise HTTPException(404, f"cache entry {entry_id} has no file") from None
    headers = {"Content-Length": str(entry.size), CHECKSUM_HEADER: entry.sha256}
    return StreamingResponse(files.chunks(file), media_type="application/octet-stream", headers=headers)


async def upload(request: Request) -> Response:
    """Keep the body as the entry `?key=` of the stage's branch: 201; 403 when the stage may not save, 409
    when the key is kept already, 400 when the body ended early or does not match its checksum."""
    runner, key = await runner_name(request), _key(request)
    checksum = request.headers.get(CHECKSUM_HEADER, "").strip().lower()
    if not _SHA256.match(checksum):
        raise HTTPException(400, f"{CHECKSUM_HEADER} must be the body's SHA-256, in hex")
    hangar = services(request)
    async with hangar.transaction() as (session, _changes):
        stage = await held_with_policy(session, request, runner)
        if not (stage.policy.save and stage.policy.shared):
            why = "a pull request from a fork" if not stage.policy.save else "this server keeps no caches"
            raise HTTPException(403, f"this stage may not save caches ({why})")
        repo_id, generation, branch = stage.repo.id or 0, stage.repo.cache_generation, stage.policy.branch
        if await entries.key_taken(session, repo_id, generation, branch, key):
            raise HTTPException(409, f"{key!r} is already kept for {branch}")
    received = await _received(request, repo_id)
    try:
        if received.sha256 != checksum:
            raise HTTPException(400, f"the body does not match {CHECKSUM_HEADER}: nothing was kept")
        entry = CacheEntry(
            repo_id=repo_id, generation=generation, branch=branch, key=key, size=received.size,
            sha256=received.sha256, runner=runner, build_id=stage.stage.build_id,
        )  # fmt: skip
        evicted = await _keep(request, runner, entry, received)
    finally:
        files.discard([received.path])
    files.discard(files.entry_path(hangar.settings.data, repo_id, old.id or 0) for old in evicted)
    return model_response(entry_info(entry), status_code=201)


async def _received(request: Request, repo_id: int) -> files.Received:
    """The body, in a temp file; 400 when it ended before its Content-Length, 413 past the size bound."""
    settings = services(request).settings
    folder = files.repo_folder(settings.data, repo_id)
    try:
        received = await files.receive(request.stream(), folder, settings.cache_repo_max_bytes)
    except ClientDisconnect:
        raise HTTPException(400, "the body ended early: nothing was kept") from None
    except files.TooLarge:
        raise HTTPException(413, f"an entry may take at most {settings.cache_repo_max_bytes} bytes") from None
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) != received.size:
        files.discard([received.path])
        raise HTTPException(400, "the body ended early: nothing was kept")
    return received


async def _keep(
    request: Request, runner: str, entry: CacheEntry, received: files.Received
) -> list[CacheEntry]:
    """Insert the entry and move its file into place in one transaction; the entries evicted to make room."""
    hangar = services(request)
    placed = None
    try:
        async with hangar.transaction() as (session, _changes):
            stage = await held_with_policy(session, request, runner)
            if stage.repo.cache_generation != entry.generation:
                raise HTTPException(409, "the repository's caches were purged meanwhile: nothing was kept")
            if await entries.key_taken(session, entry.repo_id, entry.generation, entry.branch, entry.key):
                raise HTTPException(409, f"{entry.key!r} is already kept for {entry.branch}")
            await entries.add_entry(session, entry)
            placed = files.entry_path(hangar.settings.data, entry.repo_id, entry.id or 0)
            files.place(received, placed)
            most = hangar.settings.cache_repo_max_bytes
            return await entries.evict_past(session, entry.repo_id, most, keep=entry.id or 0)
    except BaseException as exc:
        if placed is not None:  # the row was not committed: its file goes too
            files.discard([placed])
        if isinstance(exc, IntegrityError):  # another upload of the key won the race
            raise HTTPException(409, f"{entry.key!r} is already kept for {entry.branch}") from None
        raise


routes = [
    Route("/stages/{stage_id}/caches", lookup, methods=["GET"]),
    Route("/stages/{stage_id}/caches", upload, methods=["PUT"]),
    Route("/stages/{stage_id}/caches/{entry_id}", download, methods=["GET"]),
]

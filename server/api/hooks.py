"""`POST /hook`: verify a webhook, record the delivery once, queue the trigger (and answer at once)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.api.common import services
from server.forges import (
    Hook,
    HookError,
    Ignored,
    Ping,
    delivery_id,
    detect_forge,
    parse_hook,
    read_payload,
    repository_id,
    repository_slug,
    verify_signature,
)
from server.store.accounts import find_repo_by_forge_id
from server.store.repos import find_hook_repo

_log = logging.getLogger("hangar.hooks")
QUEUE_DOWN_RETRY_AFTER = "30"


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, or 413 as soon as it is longer than `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def receive_hook(request: Request) -> Response:
    """Verify, de-duplicate and queue a webhook; 401 and nothing stored when the signature is wrong."""
    hangar = services(request)
    body = await read_limited(request, hangar.settings.max_hook_bytes)
    forge = detect_forge(request.headers)
    if forge is None:
        raise HTTPException(400, "not a GitHub, Gitea/Forgejo or GitLab webhook (no event header)")
    try:
        payload = read_payload(request.headers, body)
        owner, name = repository_slug(forge, payload)
    except HookError as exc:
        raise HTTPException(400, str(exc)) from None
    if "\x00" in owner + name:
        raise HTTPException(400, "the repository's name has a NUL character")
    found = await find_hook_repo(hangar.engine, owner, name)
    if found is None:  # renamed or transferred on the forge since it was switched on
        async with hangar.reading() as session:
            repo = await find_repo_by_forge_id(session, forge, repository_id(forge, payload))
        found = (repo.id or 0, repo.webhook_secret) if repo is not None else None
    if found is None:
        raise HTTPException(404, f"repository {owner}/{name} is not registered with Hangar")
    repo_id, secret = found
    if not verify_signature(forge, request.headers, body, hangar.cipher.decrypt(secret)):
        raise HTTPException(401, "the webhook signature does not match the repository's secret")
    try:
        result = parse_hook(forge, request.headers, payload)
    except HookError as exc:
        raise HTTPException(400, str(exc)) from None
    if isinstance(result, Ping):
        return JSONResponse({"message": "pong"})
    if isinstance(result, Ignored):
        return JSONResponse({"ignored": result.reason}, status_code=202)
    return await _record(request, repo_id, delivery_id(forge, request.headers, body), result)


async def _record(request: Request, repo_id: int, delivery: str, hook: Hook) -> Response:
    hangar = services(request)
    recorded = await hangar.deliveries.record(
        repo_id, delivery, hook.cause.event, hook.model_dump(mode="json")
    )
    if not recorded.new and recorded.build_id is not None:
        return JSONResponse({"duplicate": delivery}, status_code=200)
    # The recorder queued the trigger (again for a redelivery whose first one never ran: the job id keeps it
    # once); if Redis was away the delivery stays recorded, and a redelivery or the worker's sweep queues it.
    if recorded.queue_error:
        _log.warning("delivery %s recorded but not queued: %s", delivery, recorded.queue_error)
        error = f"the job queue is unavailable; delivery {delivery} is recorded, send it again later"
        return JSONResponse(
            {"error": error}, status_code=503, headers={"Retry-After": QUEUE_DOWN_RETRY_AFTER}
        )
    if not recorded.new:
        return JSONResponse({"duplicate": delivery}, status_code=200)
    return JSONResponse({"delivery": delivery, "queued": True}, status_code=202)


routes = [Route("/hook", receive_hook, methods=["POST"])]

"""The runner API (see `pipelines.runner_api` for the protocol): offers, accepts, leases, reports, logs."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.links import build_link
from pipelines.plan import Plan
from pipelines.runner_api import (
    LEASE_HEADER,
    AcceptRequest,
    Assignment,
    Credentials,
    LeaseReply,
    RunnerInfo,
    StageOffer,
)
from pipelines.status import Status
from server.api.auth import held, runner_name
from server.api.common import int_param, model_response, read_model, services
from server.caches.policy import cache_policy
from server.db.models import Build, Repo, Stage
from server.db.one_trip import quick_reads
from server.keys import STAGES_CHANNEL, cancel_channel
from server.progress import finish_stage
from server.scheduler import (
    accept_stage,
    next_offer,
    renew_lease,
    stage_secrets_allowed,
)
from server.services import Services
from server.store.builds import build_number_and_slug, find_build_by_id, stage_hold, stage_plan
from server.store.repos import find_repo_by_id
from server.store.secrets import list_secrets

RECHECK_SECONDS = 2.0
"""Long-polls read the database at least this often, so a lost wake-up only delays."""


async def long_poll(
    request: Request, channel: str, check: Callable[[AsyncSession], Awaitable[Response | None]]
) -> Response:
    """`check`'s response as soon as it has one (woken by `channel`), or 204 after the poll time."""
    hangar = services(request)
    deadline = time.monotonic() + hangar.settings.poll_seconds
    async with hangar.broker.listen(channel) as wake_ups:
        while True:
            with quick_reads():  # a few reads by index, again and again
                async with hangar.reading() as session:
                    answer = await check(session)
            if answer is not None:
                return answer
            remaining = deadline - time.monotonic()
            if remaining <= 0 or await request.is_disconnected():
                return Response(status_code=204)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake_ups.get(), min(remaining, RECHECK_SECONDS))


async def request_stage(request: Request) -> Response:
    """Long-poll for a stage this runner may take: 200 with an offer, or 204 when none came in time."""
    await runner_name(request)
    info = await read_model(request, RunnerInfo)

    offers = services(request).offers

    async def offer(session: AsyncSession) -> Response | None:
        async with offers.choosing:
            stage = await next_offer(session, info, offers.current())
            if stage is None:
                return None
            offers.add(stage.id or 0)
        number, slug = await build_number_and_slug(session, stage.build_id)
        stage_id, version = stage.id or 0, stage.version
        return model_response(
            StageOffer(stage_id=stage_id, version=version, repo=slug, build=number, name=stage.name)
        )

    return await long_poll(request, STAGES_CHANNEL, offer)


async def accept(request: Request) -> Response:
    """Take an offered stage: 200 with the Plan, secrets and credentials; 409 when it is gone."""
    name = await runner_name(request)
    stage_id = int_param(request, "stage_id")
    body = await read_model(request, AcceptRequest)
    hangar = services(request)
    lease = hangar.settings.lease_seconds
    unreadable = ""
    async with hangar.transaction() as (session, changes):
        stage = await accept_stage(session, changes, stage_id, body, name, lease)
        if stage is None:
            raise HTTPException(409, "another runner took this stage, or it was cancelled")
        build = await find_build_by_id(session, stage.build_id)
        repo = await find_repo_by_id(session, stage.repo_id)
        assert build is not None and repo is not None
        try:
            assignment = await _assignment(hangar, session, stage, build, repo)
        except ValidationError as exc:  # e.g. stored by a Hangar whose Plan differed: it can never run
            unreadable = f"the stage's plan could not be read ({_first(exc)})"
            await finish_stage(session, changes, stage, Status.ERROR, unreadable)
    if unreadable:  # the stage ended in error (committed above) rather than being offered again and again
        raise HTTPException(409, unreadable)
    return model_response(assignment)


def _first(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"


async def _assignment(
    hangar: Services, session: AsyncSession, stage: Stage, build: Build, repo: Repo
) -> Assignment:
    plan = Plan.model_validate(await stage_plan(session, stage.id or 0))
    wanted = set(plan.secrets) | set(plan.image_pull_secrets)
    secrets: dict[str, str] = {}
    if wanted:
        for secret in await list_secrets(session, repo.id or 0):
            if secret.name in wanted and stage_secrets_allowed(build, secret.pull_request):
                secrets[secret.name] = hangar.cipher.decrypt(secret.value)
    credentials = None
    if repo.clone_login or repo.clone_password:
        credentials = Credentials(
            machine=urlsplit(repo.clone_url).hostname or "",
            login=repo.clone_login,
            password=hangar.cipher.decrypt(repo.clone_password),
        )
    return Assignment(
        stage_id=stage.id or 0,
        lease=stage.lease,
        plan=plan,
        secrets=secrets,
        credentials=credentials,
        lease_seconds=hangar.settings.lease_seconds,
        timeout_minutes=float(repo.timeout),
        link=build_link(hangar.settings.url, repo.slug, build.number),
        cache=cache_policy(
            build, repo, shared=hangar.settings.cache_shared, installation=hangar.cipher.installation
        ),
    )


async def renew(request: Request) -> Response:
    """Extend the lease; the answer says whether the stage was cancelled. 409 when it is no longer yours."""
    name = await runner_name(request)
    stage_id = int_param(request, "stage_id")
    hangar = services(request)
    async with hangar.transaction() as (session, _changes):
        stage = await held(session, stage_id, name, request)
        await renew_lease(session, stage, hangar.settings.lease_seconds)
        cancel = stage.cancel_requested
    return model_response(LeaseReply(cancel=cancel, lease_seconds=hangar.settings.lease_seconds))


async def watch(request: Request) -> Response:
    """Long-poll until the stage is cancelled (200 with `cancel`), or 204 after the poll time."""
    name = await runner_name(request)
    stage_id = int_param(request, "stage_id")
    lease = services(request).settings.lease_seconds
    held_under = request.headers.get(LEASE_HEADER, "")

    async def cancelled(session: AsyncSession) -> Response | None:
        stage = await stage_hold(session, stage_id)
        gone = stage is None or stage.runner != name or stage.finished is not None
        gone = gone or (stage is not None and bool(stage.lease) and stage.lease != held_under)
        if gone or (stage is not None and stage.cancel_requested):
            return model_response(LeaseReply(cancel=True, lease_seconds=lease))
        return None

    return await long_poll(request, cancel_channel(stage_id), cancelled)


routes = [
    Route("/stages/request", request_stage, methods=["POST"]),
    Route("/stages/{stage_id}/accept", accept, methods=["POST"]),
    Route("/stages/{stage_id}/lease", renew, methods=["POST"]),
    Route("/stages/{stage_id}/watch", watch, methods=["GET"]),
]

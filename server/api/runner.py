"""The runner API (see `pipelines.runner_api` for the protocol): offers, accepts, leases, reports, logs."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
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
    TakenStage,
)
from pipelines.status import Status
from server.api.auth import held, runner_name
from server.api.common import int_param, model_response, read_model, services
from server.caches.policy import cache_policy
from server.changes import Changes
from server.db.models import Build, Repo, Stage
from server.db.one_trip import quick_reads
from server.keys import STAGES_CHANNEL, cancel_channel
from server.progress import finish_stage
from server.scheduler import (
    accept_stage,
    offer_and_rest,
    offer_key,
    renew_lease,
    stage_secrets_allowed,
    taken_under,
    wakes,
)
from server.services import Services
from server.store.builds import build_number_and_slug, find_build_by_id, stage_hold
from server.store.repos import find_repo_by_id
from server.store.secrets import list_secrets
from server.store.taking import plan_of

T = TypeVar("T")
RECHECK_SECONDS = 2.0
"""Long-polls read the database at least this often, so a lost wake-up only delays."""


async def long_poll(
    request: Request,
    channel: str,
    check: Callable[[AsyncSession], Awaitable[T | None]],
    respond: Callable[[T], Awaitable[Response | None]],
    matters: Callable[[str], bool] = lambda _message: True,
) -> Response:
    """`respond`'s answer to what `check` found as soon as it finds something (woken by a message on
    `channel` that `matters`), or 204 after the poll time; `respond` runs outside the read session, and None
    from it means: look again now."""
    hangar = services(request)
    deadline = time.monotonic() + hangar.settings.poll_seconds
    async with hangar.broker.listen(channel) as wake_ups:
        while True:
            with quick_reads():  # a few reads by index, again and again
                async with hangar.reading() as session:
                    found = await check(session)
            answer = None if found is None else await respond(found)
            if answer is not None:
                return answer
            remaining = deadline - time.monotonic()
            if remaining <= 0 or await request.is_disconnected():
                return Response(status_code=204)
            if found is not None:
                continue  # another runner took it first: the next one, at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_woken(wake_ups, matters), min(remaining, RECHECK_SECONDS))


async def _woken(wake_ups: asyncio.Queue[str], matters: Callable[[str], bool]) -> None:
    """Returns on the first message that matters."""
    while not matters(await wake_ups.get()):
        pass


async def _as_is(response: Response) -> Response:
    return response


async def request_stage(request: Request) -> Response:
    """Long-poll for a stage this runner may take: 200 with an offer (with `take_lease`: the stage taken, a
    TakenStage), or 204 when none came in time."""
    name = await runner_name(request)
    info = await read_model(request, RunnerInfo)
    offers = services(request).offers
    if info.take_lease and info.retry:  # the answer to the last take may have been lost: that stage first
        taken = await _take(request, name, info.take_lease, None)
        if taken is not None:
            return taken

    key = offer_key(info)

    async def offer(session: AsyncSession) -> StageOffer | None:
        woke = time.monotonic()
        await asyncio.sleep(0)  # long-polls woken by the same message note when, before the first one reads
        async with offers.choosing:
            if offers.read_since(key, woke):  # woken with others: the first one's read found all there was
                return None
            began = time.monotonic()
            stage, last = await offer_and_rest(session, info, offers.current())
            if stage is not None:
                offers.add(stage.id or 0)
            if last:
                offers.exhausted(key, began)
            if stage is None:
                return None
        found = StageOffer(stage_id=stage.id or 0, version=stage.version, repo="", build=0, name=stage.name)
        if not info.take_lease:  # else the take reads them with the build and repository
            found.build, found.repo = await build_number_and_slug(session, stage.build_id)
        return found

    async def respond(offered: StageOffer) -> Response | None:
        if info.take_lease:
            return await _take(request, name, info.take_lease, offered)
        return model_response(offered)

    return await long_poll(request, STAGES_CHANNEL, offer, respond, lambda message: wakes(message, info))


async def accept(request: Request) -> Response:
    """Take an offered stage: 200 with the Plan, secrets and credentials; 409 when it is gone."""
    name = await runner_name(request)
    stage_id = int_param(request, "stage_id")
    body = await read_model(request, AcceptRequest)
    hangar = services(request)
    async with hangar.transaction() as (session, changes):
        stage = await accept_stage(session, changes, stage_id, body, name, hangar.settings.lease_seconds)
        if stage is None:
            raise HTTPException(409, "another runner took this stage, or it was cancelled")
        assigned = await _assign(hangar, session, changes, stage)
    if isinstance(assigned, str):  # the stage ended in error (committed above), not offered again and again
        raise HTTPException(409, assigned)
    return model_response(assigned[0])


class _Gone(Exception):
    """The runner hung up before its take was committed: the take is rolled back."""


async def _take(request: Request, name: str, lease: str, offered: StageOffer | None) -> Response | None:
    """Accept the offered stage under `lease` for runner `name` (None: the one it took under `lease` already)
    and answer a TakenStage; None when it is gone (another runner took it, or its plan is unreadable)."""
    hangar = services(request)
    try:
        async with hangar.transaction() as (session, changes):
            if offered is None:
                stage = await taken_under(session, name, lease)
            else:
                body = AcceptRequest(version=offered.version, lease=lease)
                seconds = hangar.settings.lease_seconds
                stage = await accept_stage(session, changes, offered.stage_id, body, name, seconds)
            if stage is None:
                return None
            assigned = await _assign(hangar, session, changes, stage)
            if offered is not None and await request.is_disconnected():
                raise _Gone  # nobody would run it: it stays pending
    except _Gone:
        return None
    if isinstance(assigned, str):
        return None
    assignment, build, repo = assigned
    version = stage.version - 1  # the version it was offered at
    offer = StageOffer(stage_id=assignment.stage_id, version=version, repo=repo, build=build, name=stage.name)
    return model_response(TakenStage(offer=offer, assignment=assignment))


async def _assign(
    hangar: Services, session: AsyncSession, changes: Changes, stage: Stage
) -> tuple[Assignment, int, str] | str:
    """The accepted stage's Assignment, build number and repository slug; or, when its plan cannot be read
    (stored by a Hangar whose Plan differed: it can never run), why: the stage ended in error."""
    build = await find_build_by_id(session, stage.build_id)
    repo = await find_repo_by_id(session, stage.repo_id)
    assert build is not None and repo is not None
    try:
        return await _assignment(hangar, session, stage, build, repo), build.number, repo.slug
    except ValidationError as exc:
        unreadable = f"the stage's plan could not be read ({_first(exc)})"
        await finish_stage(session, changes, stage, Status.ERROR, unreadable)
        return unreadable


def _first(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"


async def _assignment(
    hangar: Services, session: AsyncSession, stage: Stage, build: Build, repo: Repo
) -> Assignment:
    plan = Plan.model_validate(await plan_of(session, stage))
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

    return await long_poll(request, cancel_channel(stage_id), cancelled, _as_is)


routes = [
    Route("/stages/request", request_stage, methods=["POST"]),
    Route("/stages/{stage_id}/accept", accept, methods=["POST"]),
    Route("/stages/{stage_id}/lease", renew, methods=["POST"]),
    Route("/stages/{stage_id}/watch", watch, methods=["GET"]),
]

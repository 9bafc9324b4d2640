"""The arq jobs: trigger builds, send commit statuses and emails (retried), reap stages of lost runners."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
from arq import Retry
from arq.cron import cron
from arq.worker import Function, Worker, func

from pipelines.status import Status
from server.accounts.tokens import fresh_owner_token, owner_must_sign_in_again
from server.actions.crons import fire_due_crons
from server.artifacts.retention import sweep_artifacts
from server.keys import (
    EMAIL_JOB,
    HEARTBEAT_KEY,
    JOBS_CHANNEL,
    QUEUE_NAME,
    STATUS_JOB,
    TRIGGER_JOB,
    status_lock_key,
    status_sent_key,
    trigger_job_id,
)
from server.notify.commit_status import build_status_request, post_commit_status
from server.notify.email import build_email, send_email
from server.notify.errors import NotifyError
from server.scheduler import extend_leases, reap_lost_stages
from server.services import Services, open_services, redis_settings
from server.settings import Settings
from server.store.builds import find_build_by_id, list_stranded_builds
from server.store.deliveries import stale_deliveries
from server.store.outbox import (
    STATUS,
    delete_obsolete_statuses,
    delete_outbox,
    delete_statuses_through,
    find_outbox,
    list_stale_outbox,
    stage_status_kind,
)
from server.store.repos import find_repo_by_id
from server.trigger import FetchFailed, compile_build, trigger_delivery
from server.wakeable_worker import WakeableWorker

_log = logging.getLogger("hangar.jobs")
NOTIFY_TRIES = 12
TRIGGER_TRIES = 5
TRIGGER_TIMEOUT = 1800
"""Seconds a trigger may take: the first fetch of a big repository is slow."""
STALE_DELIVERY_SECONDS = 120.0
STRANDED_BUILD_SECONDS = 300.0
"""A build not compiled this long after it was made is compiled by the worker's sweep (a compile that is
merely slow, a big fetch, is not stepped on: the second compile would store nothing)."""
STALE_OUTBOX_SECONDS = 30.0
"""Age of an outbox row after which the sweep queues its job again (a no-op while the job is still queued,
running or waiting for a retry: same job id)."""
OUTBOX_GIVE_UP_SECONDS = 24 * 3600.0
"""Age of an outbox row after which the sweep drops it (a job that kept dying before it could end)."""


def _hangar(ctx: dict[str, Any]) -> Services:
    hangar: Services = ctx["hangar"]
    return hangar


async def trigger_build(ctx: dict[str, Any], delivery_id: int) -> int | None:
    """Turn a recorded webhook into a build (a failed fetch is tried again, then ends the build in error)."""
    tries = int(ctx.get("job_try", 1))
    try:
        return await trigger_delivery(_hangar(ctx), delivery_id, last_try=tries >= TRIGGER_TRIES)
    except FetchFailed as exc:
        _log.warning("delivery %s: %s (try %d, will retry)", delivery_id, exc, tries)
        raise Retry(defer=min(2.0**tries, 30.0)) from None


async def send_commit_status(
    ctx: dict[str, Any],
    build_id: int,
    status: str,
    sequence: int,
    outbox_id: int | None = None,
    stage: int = 0,
) -> str:
    """Send one commit status (of the build, or of its stage number `stage`: a Woodpecker workflow's), in
    order: an older status never overwrites a newer one (its outbox row is gone once a newer status was
    sent); done (or failed for good), it forgets the statuses of the same build (or stage) up to this one."""
    hangar = _hangar(ctx)
    async with hangar.redis.lock(status_lock_key(build_id), timeout=60, blocking_timeout=60):
        sent_key = status_sent_key(build_id, stage)
        last = int(await hangar.redis.get(sent_key) or 0)
        if sequence < last:
            await _forget(hangar, outbox_id)
            return "stale"
        if not await _still_to_send(hangar, outbox_id):
            return "stale"
        try:
            result = await _set_commit_status(hangar, ctx["http"], build_id, Status(status), stage)
        except NotifyError as exc:
            result = _retry_or_give_up(ctx, exc, f"commit status {status} of build {build_id}")
        else:
            await hangar.redis.set(sent_key, sequence, ex=7 * 24 * 3600)
        async with hangar.transaction() as (session, _changes):
            kind = stage_status_kind(stage) if stage else STATUS
            await delete_statuses_through(session, build_id, sequence, kind)
    return result


async def send_build_email(ctx: dict[str, Any], build_id: int, outbox_id: int | None = None) -> str:
    """Email about a finished build, as the repository's policy says (once: its outbox row is then gone)."""
    hangar = _hangar(ctx)
    if not await _still_to_send(hangar, outbox_id):
        return "already sent"
    try:
        async with hangar.reading() as session:
            message = await build_email(session, hangar.cipher, hangar.settings, build_id)
        if message is not None:
            await send_email(hangar.settings.smtp, message)
        result = "sent" if message is not None else "not needed"
    except NotifyError as exc:
        result = _retry_or_give_up(ctx, exc, f"email of build {build_id}")
    await _forget(hangar, outbox_id)
    return result


async def _set_commit_status(
    hangar: Services, client: httpx.AsyncClient, build_id: int, status: Status, stage: int = 0
) -> str:
    """Set the build's (or its stage's) commit status on its forge: "sent", or why not."""
    async with hangar.reading() as session:
        build = await find_build_by_id(session, build_id)
        repo = await find_repo_by_id(session, build.repo_id) if build else None
    if repo is not None:
        await fresh_owner_token(hangar, repo)  # switched on from the forge: sent with its owner's token
        refused = await owner_must_sign_in_again(hangar, repo.owner_id)
        if refused:
            raise NotifyError(f"not sent: {refused}", retryable=False)
    async with hangar.reading() as session:
        request = await build_status_request(
            session, hangar.cipher, hangar.settings.url, build_id, status, stage
        )
    if request is None:
        return "no forge API set"
    await post_commit_status(client, request)
    return "sent"


async def _still_to_send(hangar: Services, outbox_id: int | None) -> bool:
    """Whether the outbox row is still there (a job queued before the outbox existed has none)."""
    if outbox_id is None:
        return True
    async with hangar.reading() as session:
        return await find_outbox(session, outbox_id) is not None


async def _forget(hangar: Services, outbox_id: int | None) -> None:
    if outbox_id is not None:
        async with hangar.transaction() as (session, _changes):
            await delete_outbox(session, [outbox_id])


async def requeue_outbox(hangar: Services, older_than: float = STALE_OUTBOX_SECONDS) -> int:
    """Queue again the notifications recorded a while ago and still not done (their job may have been lost
    with Redis); of a build's statuses, only the newest. How many rows were queued."""
    async with hangar.reading() as session:
        rows = await list_stale_outbox(session, older_than)
    if not rows:
        return 0
    expired = [row for row in rows if row.created < time.time() - OUTBOX_GIVE_UP_SECONDS]
    async with hangar.transaction() as (session, _changes):
        await delete_obsolete_statuses(session, older_than)
        await delete_outbox(session, [row.id or 0 for row in expired])
    for row in expired:
        _log.error("%s of build %s given up: not done after a day", row.kind, row.build_id)
    queued = [row for row in rows if row not in expired]
    for row in queued:
        await hangar.enqueue_outbox(row, wake=False)
    if queued:
        await hangar.broker.publish(JOBS_CHANNEL, "queued")
    return len(queued)


async def requeue_deliveries(hangar: Services) -> None:
    """Queue again the trigger of deliveries recorded a while ago that never became a build."""
    async with hangar.reading() as session:
        stuck = await stale_deliveries(session, older_than=STALE_DELIVERY_SECONDS)
    for delivery_id in stuck:
        await hangar.enqueue(TRIGGER_JOB, delivery_id, job_id=trigger_job_id(delivery_id))


def _retry_or_give_up(ctx: dict[str, Any], exc: NotifyError, what: str) -> str:
    tries = int(ctx.get("job_try", 1))
    if exc.retryable and tries < NOTIFY_TRIES:
        _log.warning("%s failed (try %d, will retry): %s", what, tries, exc)
        settings: Settings = ctx["settings"]
        raise Retry(defer=min(2.0**tries, settings.notify_retry_max_seconds))
    _log.error("%s failed for good: %s", what, exc)
    return f"failed: {exc}"


async def reap_leases(ctx: dict[str, Any]) -> int:
    """End the stages of runners that stopped renewing their lease (only while an API server is up to hear
    from them: runners cannot renew while every server is down), and re-queue deliveries never triggered and
    notifications never done."""
    hangar = _hangar(ctx)
    await requeue_deliveries(hangar)
    await requeue_outbox(hangar)
    if not await hangar.redis.exists(HEARTBEAT_KEY):
        return 0
    async with hangar.transaction() as (session, changes):
        lost = await reap_lost_stages(session, changes, hangar.settings.lease_seconds)
    for stage in lost:
        _log.warning("stage %s of build %s: %s", stage.name, stage.build_id, stage.error)
    return len(lost)


async def build_due_crons(ctx: dict[str, Any]) -> int:
    """Build the crons that are due (each once, whatever the number of workers); how many were built."""
    return len(await fire_due_crons(_hangar(ctx)))


async def compile_stranded_builds(ctx: dict[str, Any]) -> int:
    """Compile the builds whose maker stopped before compiling them (a server or worker killed between the
    two): without this they would stay pending for ever. How many were found."""
    hangar = _hangar(ctx)
    async with hangar.reading() as session:
        stranded = await list_stranded_builds(session, STRANDED_BUILD_SECONDS)
    for build_id in stranded:
        _log.warning("build %s was made but never compiled: compiling it now", build_id)
        await compile_build(hangar, build_id)
    return len(stranded)


async def remove_old_artifacts(ctx: dict[str, Any]) -> int:
    """Artifact retention: remove the expired, the oldest past a repository's size, and unnamed files."""
    swept = await sweep_artifacts(_hangar(ctx))
    if swept.expired or swept.over_size or swept.orphans:
        _log.info("artifacts removed: %d expired, %d past the size, %d files unnamed", *vars(swept).values())
    return swept.expired + swept.over_size


async def _startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    if "hangar" not in ctx:
        ctx["hangar"] = await open_services(settings, ctx["redis_url"])
        ctx["own_services"] = True
    ctx["http"] = httpx.AsyncClient(timeout=30, trust_env=False)
    async with _hangar(ctx).transaction() as (session, _changes):
        await extend_leases(session, settings.lease_seconds)


async def _shutdown(ctx: dict[str, Any]) -> None:
    await ctx["http"].aclose()
    if ctx.pop("own_services", False):
        await ctx.pop("hangar").close()


def create_worker(
    settings: Settings, redis_url: str, hangar: Services | None = None, **options: Any
) -> Worker:
    """The arq worker of these jobs (shares `hangar`'s connections when given, as `hangar up` does)."""
    functions: list[Function] = [
        func(trigger_build, name=TRIGGER_JOB, max_tries=TRIGGER_TRIES, timeout=TRIGGER_TIMEOUT),
        func(send_commit_status, name=STATUS_JOB, max_tries=NOTIFY_TRIES),
        func(send_build_email, name=EMAIL_JOB, max_tries=NOTIFY_TRIES),
    ]
    seconds = max(1, int(settings.reap_seconds))
    context: dict[str, Any] = {"settings": settings, "redis_url": redis_url}
    if hangar is not None:
        context["hangar"] = hangar
    return WakeableWorker(
        functions=functions,
        cron_jobs=[
            cron(reap_leases, second=set(range(0, 60, seconds)), run_at_startup=True, unique=True),
            cron(build_due_crons, second=set(range(0, 60, seconds)), unique=True, timeout=TRIGGER_TIMEOUT),
            cron(compile_stranded_builds, second=45, unique=True, timeout=TRIGGER_TIMEOUT),
            cron(remove_old_artifacts, minute=set(range(0, 60, 10)), second=30, unique=True, timeout=3600),
        ],
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE_NAME,
        on_startup=_startup,
        on_shutdown=_shutdown,
        ctx=context,
        max_jobs=20,
        keep_result=60,
        job_lease=settings.job_lease_seconds,
        **options,
    )

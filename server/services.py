"""What every part of the server shares: settings, database, Redis, live events, job queue, secret cipher."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import result_key_prefix
from arq.jobs import Job, JobStatus
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from server.broker import Broker
from server.changes import Changes
from server.crypto import Cipher
from server.db.engine import WRITE_OPTION, create_engine, session_factory
from server.db.models import Outbox
from server.forges.configured import configured_forge
from server.forges.remote import RemoteForge
from server.ingest import DeliveryRecorder
from server.job_batch import QueuedJob, enqueue_many
from server.keycheck import cipher_for
from server.keys import (
    EMAIL_JOB,
    JOBS_CHANNEL,
    QUEUE_NAME,
    STAGES_CHANNEL,
    STATUS_JOB,
    TRIGGER_JOB,
    cancel_channel,
    outbox_job_id,
    trigger_job_id,
)
from server.notify.cache import NotifyCache
from server.scheduler import RecentOffers, ready_message
from server.settings import Settings
from server.store.outbox import EMAIL, STAGE_STATUS, STATUS, create_outbox, is_status, stage_status_kind

HEARTBEAT_SECONDS = 5.0
"""How often a running API server renews `HEARTBEAT_KEY`."""

_log = logging.getLogger("hangar.services")


def redis_settings(url: str) -> RedisSettings:
    """arq's settings for a `redis://` or `unix://` URL."""
    if url.startswith("unix://"):
        return RedisSettings(unix_socket_path=url.removeprefix("unix://").split("?")[0])
    return RedisSettings.from_dsn(url)


@dataclass
class Services:
    """Opened once per process by `open_services`, closed by `close`."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis
    jobs: ArqRedis
    broker: Broker
    cipher: Cipher
    notifies: NotifyCache = field(init=False)
    forge: RemoteForge | None = field(init=False)
    """The forge people sign in with (None: local users and API tokens only)."""
    offers: RecentOffers = field(init=False)
    deliveries: DeliveryRecorder = field(init=False)
    _waking: bool = field(init=False, default=False)
    _wake_again: bool = field(init=False, default=False)
    """Records webhook deliveries, the webhooks of a burst in one transaction."""
    writing: contextlib.AbstractAsyncContextManager[Any] = field(init=False)
    """Held by a write transaction: on SQLite, one at a time per process (the others wait here, in turn,
    rather than in SQLite's busy handler, which polls with sleeps of up to 100 ms and starves under load)."""

    def __post_init__(self) -> None:
        self.notifies = NotifyCache(self.sessions)
        self.forge = configured_forge(self.settings)
        self.offers = RecentOffers()
        self.deliveries = DeliveryRecorder(self.transaction, self.queue_triggers)
        sqlite = self.engine.dialect.name == "sqlite"
        self.writing = asyncio.Lock() if sqlite else contextlib.nullcontext()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[tuple[AsyncSession, Changes]]:
        """A session committed at the end of the block; what changed is published after the commit."""
        changes = Changes()
        async with self.writing, self.sessions() as session, session.begin():
            await session.connection(execution_options={WRITE_OPTION: True})
            yield session, changes
            await self._record_notifications(session, changes)
        await self.publish(changes)

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only."""
        async with self.sessions() as session:
            yield session

    async def publish(self, changes: Changes) -> None:
        """Send live events, wake runners and cancel watchers, queue the notifications; never raises: what
        it sends after the commit is a hint (live views and long-polls also read the database)."""
        try:
            await self._publish(changes)
        except Exception:
            _log.exception("could not publish a change (Redis unavailable?)")

    async def _publish(self, changes: Changes) -> None:
        messages = list(changes.messages)
        messages += [(cancel_channel(stage_id), "cancel") for stage_id in changes.cancelled_stages]
        if changes.wake_runners or changes.ready_for:
            wanted = None if changes.wake_runners else changes.ready_for
            messages.append((STAGES_CHANNEL, ready_message(wanted)))
        for row in changes.outbox:
            await self.enqueue_outbox(row, wake=False)
        if changes.outbox:
            messages.append((JOBS_CHANNEL, "queued"))
        await self.broker.publish_many(messages)

    async def _record_notifications(self, session: AsyncSession, changes: Changes) -> None:
        """Write the outbox rows of the commit statuses and emails to send, in the transaction that causes
        them: if Redis loses their jobs, the worker's sweep queues them again."""
        rows = [
            Outbox(build_id=build_id, kind=STATUS, status=status, sequence=sequence)
            for build_id, repo_id, status, sequence in changes.statuses
            if await self.notifies.forge(repo_id, session)
        ]
        for build_id, repo_id, number, status, sequence in changes.stage_statuses:
            if await self.notifies.forge(repo_id, session) and await self.notifies.workflow_statuses(
                build_id, session
            ):
                kind = stage_status_kind(number)
                rows.append(Outbox(build_id=build_id, kind=kind, status=status, sequence=sequence))
        if self.settings.smtp.host:
            rows += [
                Outbox(build_id=build_id, kind=EMAIL)
                for build_id, repo_id in changes.finished_builds.items()
                if await self.notifies.email(repo_id, session)
            ]
        if rows:
            changes.outbox = await create_outbox(session, rows)

    async def enqueue_outbox(self, row: Outbox, wake: bool = True) -> None:
        """Queue the job of an outbox row (once while it waits, runs or waits for a retry)."""
        job_id = outbox_job_id(row.id or 0)
        if is_status(row.kind):
            stage = int(row.kind.removeprefix(STAGE_STATUS)) if row.kind != STATUS else 0
            await self.enqueue(
                STATUS_JOB, row.build_id, row.status, row.sequence, row.id, stage, job_id=job_id, wake=wake
            )
        else:
            await self.enqueue(EMAIL_JOB, row.build_id, row.id, job_id=job_id, wake=wake)

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None, wake: bool = True) -> bool:
        """Queue a job (once per `job_id`, when given) and, unless told not to, wake the workers; False when a
        job of that id is already queued, deferred for a retry or running (it is logged, never silent)."""
        queued = await self.jobs.enqueue_job(function, *args, _queue_name=QUEUE_NAME, _job_id=job_id)
        if queued is None and job_id is not None:
            queued = await self._enqueue_over_result(function, args, job_id)
        if wake and queued is not None:
            await self._wake_workers()
        return queued is not None

    async def queue_triggers(self, delivery_ids: list[int]) -> None:
        """Queue the trigger jobs of recorded deliveries in one round trip, then wake the workers once; a job
        id still taken (a redelivery) goes the way of `enqueue`. Raises when Redis is unavailable."""
        wanted = [QueuedJob(TRIGGER_JOB, (each,), trigger_job_id(each)) for each in delivery_ids]
        queued = await enqueue_many(self.jobs, QUEUE_NAME, wanted)
        for job, done in zip(wanted, queued, strict=True):
            if not done:
                await self.enqueue(job.function, *job.args, job_id=job.job_id, wake=False)
        await self._wake_workers()

    async def _wake_workers(self) -> None:
        """Tell the workers a job is queued: while one wake-up is being sent, the callers meanwhile share the
        one sent right after it (a burst of webhooks wakes the workers a few times, not once per webhook)."""
        if self._waking:
            self._wake_again = True
            return
        self._waking = True
        try:
            await self.broker.publish(JOBS_CHANNEL, "queued")
            while self._wake_again:
                self._wake_again = False
                await self.broker.publish(JOBS_CHANNEL, "queued")
        finally:
            self._waking = False

    async def _enqueue_over_result(self, function: str, args: tuple[Any, ...], job_id: str) -> Job | None:
        """arq refuses a job id while a finished job's result is kept under it: what is queued here is work
        still to do (its row says so), so that result is dropped and the job queued; a job still waiting or
        running keeps the id (None)."""
        status = await Job(job_id, self.jobs, _queue_name=QUEUE_NAME).status()
        if status != JobStatus.complete:
            _log.info("%s not queued again: job %s is %s", function, job_id, status.value)
            return None
        _log.warning("job id %s held a finished job's result; queuing %s over it", job_id, function)
        await self.jobs.delete(result_key_prefix + job_id)
        queued = await self.jobs.enqueue_job(function, *args, _queue_name=QUEUE_NAME, _job_id=job_id)
        if queued is None:
            _log.info("%s not queued again: job %s was queued meanwhile", function, job_id)
        return queued

    async def close(self) -> None:
        """Release connections."""
        await self.deliveries.close()
        await self.broker.close()
        if self.forge is not None:
            await self.forge.http.aclose()
        await self.jobs.aclose()
        await self.redis.aclose()
        await self.engine.dispose()


async def open_services(settings: Settings, redis_url: str) -> Services:
    """Connect to the database and Redis, and start listening for live events."""
    settings.data.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.sqlalchemy_url)
    redis = Redis.from_url(redis_url)
    jobs = await create_pool(redis_settings(redis_url), default_queue_name=QUEUE_NAME)
    broker = Broker(redis)
    await broker.start()
    cipher = cipher_for(settings)
    return Services(settings, engine, session_factory(engine), redis, jobs, broker, cipher)

"""An arq worker that sleeps while nothing is queued and wakes when a job is (a `jobs` live event), instead of
polling Redis twenty times a second."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from arq.constants import in_progress_key_prefix
from arq.worker import Worker
from redis.exceptions import RedisError

from server.keys import JOBS_CHANNEL
from server.services import Services

BURST_POLL_SECONDS = 0.02
IDLE_POLL_SECONDS = 0.5
"""How often an idle worker still looks (deferred retries, cron, a wake-up lost while Redis restarted)."""
MAX_OUTAGE_POLL_SECONDS = 5.0
"""While Redis is unreachable, the worker tries again at most this long apart."""
_log = logging.getLogger("hangar.worker")


class WakeableWorker(Worker):
    """arq's Worker, polling every IDLE_POLL_SECONDS when idle and at once when woken; a running job's
    in-progress mark lasts `job_lease` seconds and is renewed while the job runs, so another worker retakes
    the job of a worker that died about that long after (arq marks it for the longest job timeout)."""

    def __init__(self, *args: Any, job_lease: float = 60.0, **kwargs: Any) -> None:
        super().__init__(*args, poll_delay=0, **kwargs)
        self.in_progress_timeout_s = job_lease
        self._renewing: asyncio.Task[None] | None = None
        self._wake_ups: asyncio.Queue[str] | None = None
        self._listening: contextlib.AbstractAsyncContextManager[asyncio.Queue[str]] | None = None
        self._outage_delay = 0.0
        self._slots_given_back = 0

    async def _poll_iteration(self) -> None:
        """Poll once, then wait for a wake-up (or the idle period); burst mode polls without waiting."""
        queue = await self._subscribed()
        if self._renewing is None:
            self._renewing = asyncio.create_task(self._renew_in_progress())
        if queue is not None:
            while not queue.empty():  # wake-ups that came during the last poll: this poll sees their jobs
                queue.get_nowait()
        try:
            await super()._poll_iteration()
        except (RedisError, OSError) as exc:  # Redis restarting: wait for it rather than end the worker
            self._outage_delay = min(max(2 * self._outage_delay, IDLE_POLL_SECONDS), MAX_OUTAGE_POLL_SECONDS)
            _log.warning("Redis unavailable (%s); trying again in %.1fs", exc, self._outage_delay)
            await asyncio.sleep(self._outage_delay)
            return
        if self._outage_delay:
            _log.warning("Redis is back; the worker goes on")
            self._outage_delay = 0.0
        if self.burst:  # tests: run what is queued, then end
            await asyncio.sleep(BURST_POLL_SECONDS)
            return
        if queue is None:
            await asyncio.sleep(IDLE_POLL_SECONDS)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(queue.get(), IDLE_POLL_SECONDS)

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """Start the jobs one by one as arq does, giving back the slot a job took if Redis failed before it
        started (arq would keep it: after `max_jobs` such failures the worker would take no more jobs). A job
        this worker is running is passed over at once: every poll of a burst lists it again."""
        for job_id in job_ids:
            task = self.tasks.get(job_id.decode())
            if task is not None and not task.done():
                continue  # running here (a job stays queued until it ends): arq would ask Redis three times
            if self.job_counter >= self.max_jobs:
                return  # full: arq would stop here too
            taken = self._slots_taken()
            try:
                await super().start_jobs([job_id])
            except BaseException:
                if self._slots_taken() > taken and self.tasks.get(job_id.decode()) is task:
                    self.job_counter -= 1
                    self.sem.release()
                raise

    def _slots_taken(self) -> int:
        """Slots ever taken: the job counter, not lowered by the jobs that ended (one may end meanwhile)."""
        return self.job_counter + self._slots_given_back

    def _release_sem_dec_counter_on_complete(self) -> None:
        """A job ended: its slot is free (counted, see `_slots_taken`)."""
        self._slots_given_back += 1
        super()._release_sem_dec_counter_on_complete()

    async def _renew_in_progress(self) -> None:
        """Keep the in-progress marks of this worker's running jobs alive, a third of their length apart."""
        lease = self.in_progress_timeout_s
        while True:
            await asyncio.sleep(lease / 3)
            running = [job_id for job_id, task in self.tasks.items() if not task.done()]
            if not running:
                continue
            try:
                async with self.pool.pipeline(transaction=False) as pipe:
                    for job_id in running:
                        pipe.pexpire(in_progress_key_prefix + job_id, int(lease * 1000))
                    await pipe.execute()
            except (RedisError, OSError) as exc:  # Redis away: the next round renews them
                _log.warning("could not renew the running jobs' marks: %s", exc)

    async def _subscribed(self) -> asyncio.Queue[str] | None:
        if self._wake_ups is None and not self.burst:
            hangar: Services | None = self.ctx.get("hangar")
            if hangar is not None:
                self._listening = hangar.broker.listen(JOBS_CHANNEL)
                self._wake_ups = await self._listening.__aenter__()
        return self._wake_ups

    async def close(self) -> None:
        """Stop listening and renewing, then close as arq does."""
        if self._renewing is not None:
            self._renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewing
        if self._listening is not None:
            await self._listening.__aexit__(None, None, None)
            self._listening, self._wake_ups = None, None
        await super().close()

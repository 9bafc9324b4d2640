"""What a build costs the server, counted rather than timed: SQL statements (every one SQLite runs, including
those sent straight to the driver) and transactions, HTTP requests by route, arq jobs queued and run, and
Redis round trips, each by phase (the route or job that caused it). Used by tests/server/test_counts.py and
bench/server_counts.py; counts do not depend on how busy the machine is."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from arq.connections import ArqRedis
from arq.typing import WorkerCoroutine
from arq.worker import Worker
from redis.asyncio.connection import AbstractConnection
from sqlalchemy import event
from sqlalchemy.orm import Mapper
from starlette.types import ASGIApp, Receive, Scope, Send

from server import job_batch
from server.db.one_trip import sqlite_driver
from server.services import Services

OTHER = "other (idle loops, crons, heartbeat)"
_PHASE: ContextVar[str] = ContextVar("hangar_count_phase", default=OTHER)
_NUMBER = re.compile(r"/\d+(?=/|$)")
_TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK")


@dataclass
class Counts:
    """Everything counted so far, by (phase, what)."""

    statements: Counter[tuple[str, str]] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    queued: Counter[tuple[str, str]] = field(default_factory=Counter)
    jobs: Counter[str] = field(default_factory=Counter)
    redis: Counter[str] = field(default_factory=Counter)
    rows: Counter[str] = field(default_factory=Counter)
    """ORM objects made from rows read (each costs tens of microseconds)."""

    def copy(self) -> Counts:
        """A snapshot."""
        return Counts(
            Counter(self.statements), Counter(self.requests), Counter(self.queued), Counter(self.jobs),
            Counter(self.redis), Counter(self.rows),
        )  # fmt: skip

    def __sub__(self, earlier: Counts) -> Counts:
        return Counts(
            self.statements - earlier.statements, self.requests - earlier.requests,
            self.queued - earlier.queued, self.jobs - earlier.jobs, self.redis - earlier.redis,
            self.rows - earlier.rows,
        )  # fmt: skip

    def without(self, phase: str) -> Counts:
        """The counts with that phase left out."""
        return Counts(
            Counter({key: n for key, n in self.statements.items() if key[0] != phase}),
            Counter({key: n for key, n in self.requests.items() if key != phase}),
            Counter({key: n for key, n in self.queued.items() if key[0] != phase}),
            Counter({key: n for key, n in self.jobs.items() if key != phase}),
            Counter({key: n for key, n in self.redis.items() if key != phase}),
            Counter({key: n for key, n in self.rows.items() if key != phase}),
        )

    def sql(self, phase: str | None = None, kind: str | None = None) -> int:
        """Statements (of a phase, of a kind: SELECT, INSERT, UPDATE, BEGIN, COMMIT, PRAGMA…)."""
        return sum(
            count
            for (each, what), count in self.statements.items()
            if phase in (None, each) and kind in (None, what)
        )

    def transactions(self) -> int:
        """Transactions begun."""
        return self.sql(kind="BEGIN")

    def phases(self) -> list[str]:
        """Every phase that counted something, in a stable order."""
        seen = {phase for phase, _ in self.statements} | set(self.requests) | set(self.jobs)
        seen |= {phase for phase, _ in self.queued} | set(self.redis)
        return sorted(seen)


def phase_of(scope: Scope) -> str:
    """A request's phase: its method and path, numbers as {n}."""
    return f"{scope.get('method', 'WS')} {_NUMBER.sub('/{n}', scope['path'])}"


class CountedApp:
    """Wraps an ASGI app: counts each HTTP request by route, and names the phase of what it causes."""

    def __init__(self, app: ASGIApp, counts: Counts) -> None:
        self.app, self.counts = app, counts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count and pass on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        phase = phase_of(scope)
        self.counts.requests[phase] += 1
        token = _PHASE.set(phase)
        try:
            await self.app(scope, receive, send)
        finally:
            _PHASE.reset(token)


def _kind(sql: str) -> str:
    word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
    return "BEGIN" if word == "BEGIN" else word


@contextlib.contextmanager
def counting(
    hangar: Services, worker: Worker | None = None, counts: Counts | None = None
) -> Iterator[Counts]:
    """Count into `counts` (a new one by default) what `hangar` and `worker`'s jobs do while the block runs
    (statements: SQLite only)."""
    counts = counts if counts is not None else Counts()
    traced: dict[int, Any] = {}
    phases: dict[int, str] = {}

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = sqlite_driver(dbapi_connection)
        if driver is None:
            return
        phases[id(driver)] = _PHASE.get()
        if id(driver) not in traced:
            traced[id(driver)] = driver
            key = id(driver)
            driver.set_trace_callback(lambda sql: _count_statement(counts, phases[key], sql))

    def on_load(_row: object, _context: object) -> None:
        counts.rows[_PHASE.get()] += 1

    pool = hangar.engine.sync_engine.pool
    event.listen(pool, "checkout", on_checkout)
    event.listen(Mapper, "load", on_load)
    undo = [_wrap_redis(counts), _wrap_enqueue(counts, hangar.jobs)]
    if worker is not None:
        undo.append(_wrap_jobs(counts, worker))
    try:
        yield counts
    finally:
        event.remove(pool, "checkout", on_checkout)
        event.remove(Mapper, "load", on_load)
        for driver in traced.values():
            with contextlib.suppress(Exception):
                driver.set_trace_callback(None)
        for step in undo:
            step()


def _count_statement(counts: Counts, phase: str, sql: str) -> None:
    """Called by SQLite for every statement it runs (often in the connection's thread, where the phase is not
    known): the phase is the one of the session that checked the connection out."""
    counts.statements[phase, _kind(sql)] += 1


def _wrap_redis(counts: Counts) -> Callable[[], None]:
    """Count every command (or pipeline) sent to Redis, by phase."""
    original = AbstractConnection.send_packed_command

    async def send(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        counts.redis[_PHASE.get()] += 1
        await original(self, command, check_health)

    AbstractConnection.send_packed_command = send  # type: ignore[method-assign]
    return lambda: setattr(AbstractConnection, "send_packed_command", original)


def _wrap_enqueue(counts: Counts, pool: ArqRedis) -> Callable[[], None]:
    """Count the arq jobs queued one by one (`enqueue_job`) and in groups (`server.job_batch`)."""
    import server.services

    original, batch = pool.enqueue_job, job_batch.enqueue_many

    async def enqueue_job(function: str, *args: Any, **options: Any) -> Any:
        counts.queued[_PHASE.get(), function] += 1
        return await original(function, *args, **options)

    async def enqueue_many(jobs: ArqRedis, queue: str, wanted: Sequence[job_batch.QueuedJob]) -> list[bool]:
        for job in wanted:
            counts.queued[_PHASE.get(), job.function] += 1
        return await batch(jobs, queue, wanted)

    pool.enqueue_job = enqueue_job  # type: ignore[method-assign]
    server.services.enqueue_many = enqueue_many  # type: ignore[attr-defined]

    def undo() -> None:
        pool.enqueue_job = original  # type: ignore[method-assign]
        server.services.enqueue_many = batch  # type: ignore[attr-defined]

    return undo


def _wrap_jobs(counts: Counts, worker: Worker) -> Callable[[], None]:
    """Name the phase of each job the worker runs after it, and count the runs."""
    originals = {name: function.coroutine for name, function in worker.functions.items()}

    def wrapped(name: str, coroutine: WorkerCoroutine) -> WorkerCoroutine:
        async def run(ctx: dict[Any, Any], *args: Any, **kwargs: Any) -> Any:
            phase = f"job {name}"
            counts.jobs[phase] += 1
            token = _PHASE.set(phase)
            try:
                return await coroutine(ctx, *args, **kwargs)
            finally:
                _PHASE.reset(token)

        return run

    for name, coroutine in originals.items():
        worker.functions[name].coroutine = wrapped(name, coroutine)

    def undo() -> None:
        for name, coroutine in originals.items():
            worker.functions[name].coroutine = coroutine

    return undo

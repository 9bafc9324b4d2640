"""SQLite write transactions begin on the event loop when the write lock is free, else wait for it."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text

from server.db.engine import WRITE_OPTION, create_engine, session_factory
from server.db.one_trip import quick_reads


async def _write(path: Path, value: int) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.connection(execution_options={WRITE_OPTION: True})
            await session.execute(text("INSERT INTO probe (value) VALUES (:value)"), {"value": value})
    finally:
        await engine.dispose()


def _values(path: Path) -> list[int]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT value FROM probe ORDER BY value")]


def _database(tmp_path: Path) -> Path:
    path = tmp_path / "probe.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE probe (value INTEGER)")
    return path


async def test_a_write_transaction_takes_the_free_lock_and_commits(tmp_path: Path) -> None:
    path = _database(tmp_path)
    await _write(path, 1)
    assert _values(path) == [1]


async def test_a_write_transaction_waits_for_a_lock_another_process_holds(tmp_path: Path) -> None:
    path = _database(tmp_path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO probe (value) VALUES (1)")
    writing = asyncio.create_task(_write(path, 2))
    await asyncio.sleep(0.3)
    assert not writing.done()  # waiting for the lock, not refused
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writing, 10)
    assert _values(path) == [1, 2]


async def test_quick_reads_run_on_the_event_loop_and_others_in_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _database(tmp_path)
    await _write(path, 1)
    trips: list[object] = []
    trip = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, function: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(function)
        return await trip(self, function, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with session_factory(engine)() as session:
            await session.execute(text("SELECT 1"))  # the connection is opened and set up
            trips.clear()
            with quick_reads():
                assert (await session.execute(text("SELECT value FROM probe"))).scalars().all() == [1]
            assert trips == []
            assert (await session.execute(text("SELECT value FROM probe"))).scalars().all() == [1]
            assert len(trips) == 1
    finally:
        await engine.dispose()

"""aiosqlite's connection with cursors that make at most one trip to its thread per statement.

aiosqlite runs each SQLite call in the connection's own thread, and SQLAlchemy's adapter makes four calls per
query (open a cursor, execute, fetch the rows, close): four hand-overs between the event loop and the thread,
each costing more CPU than a small statement itself. These cursors do all four in one call, and keep the rows.

A write transaction begins (BEGIN IMMEDIATE) on the event loop when the write lock is free, which it is but
when another process writes (this one's writers queue in `Services.writing`); else it waits for the lock in
the thread. Inside it nothing can wait any more: its statements run at once on the event loop, small as the
writes are. Reads, which may be big, and the commit, which may checkpoint the WAL to disk, still go to the
thread.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

BEGIN_WRITE = "BEGIN IMMEDIATE"
"""How a write transaction begins (server.db.engine): it takes SQLite's write lock at once."""
BUSY_TIMEOUT_MS = 30_000
"""How long a statement waits for a lock another process holds (the connection's `busy_timeout`)."""
_QUICK_READS: ContextVar[bool] = ContextVar("hangar_quick_reads", default=False)
_DRIVER_KEPT = "hangar_sqlite_driver"
"""In a session's `info`: (the transaction, its sqlite3 connection or None) found by `writing_driver`."""
Description = tuple[tuple[Any, ...], ...] | None
Outcome = tuple[Description, int, int | None, list[Any]]


class OneTripConnection:
    """Wraps an `aiosqlite.Connection`: cursors are `OneTripCursor`s, everything else is the connection's."""

    def __init__(self, connection: Any) -> None:
        self._wrapped = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)

    def cursor(self) -> OneTripCursor:
        """A cursor that runs each statement, with its fetch, in one call in the connection's thread."""
        return OneTripCursor(self._wrapped)


class OneTripCursor:
    """The part of aiosqlite's Cursor SQLAlchemy uses; the rows are fetched whole with the statement."""

    arraysize = 1

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._rows = []

    async def execute(self, sql: str, parameters: Any = ()) -> OneTripCursor:
        """Run the statement and fetch all its rows (in the connection's thread)."""
        if self._connection._conn.in_transaction:  # this connection holds the write lock: nothing to wait for
            outcome = _run(self._connection, sql, parameters, False)
        elif sql == BEGIN_WRITE and began_write_at_once(self._connection._conn):
            outcome = (None, -1, None, [])
        elif _QUICK_READS.get() and (quick := _read_at_once(self._connection, sql, parameters)) is not None:
            outcome = quick
        else:
            outcome = await self._connection._execute(_run, self._connection, sql, parameters, False)
        self._take(outcome)
        return self

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> OneTripCursor:
        """Run the statement once per parameter set (in the connection's thread)."""
        if self._connection._conn.in_transaction:
            outcome = _run(self._connection, sql, parameters, True)
        else:
            outcome = await self._connection._execute(_run, self._connection, sql, parameters, True)
        self._take(outcome)
        return self

    def _take(self, outcome: Outcome) -> None:
        self.description, self.rowcount, self.lastrowid, self._rows = outcome

    async def fetchone(self) -> Any:
        """The next row (None after the last)."""
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """The next `size` rows."""
        count = size or self.arraysize
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> list[Any]:
        """The remaining rows."""
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        """Forget the rows (the SQLite cursor was closed with its statement)."""
        self._rows = []

    async def nextset(self) -> None:
        """SQLite statements have one result set."""
        return None


@contextlib.contextmanager
def quick_reads() -> Iterator[None]:
    """Within the block, reads run at once on the event loop rather than in the connection's thread: for the
    few small reads by index that long-polls make again and again (the trip costs more than the read). A read
    that would wait for a lock (rare in WAL mode) still waits in the thread."""
    token = _QUICK_READS.set(True)
    try:
        yield
    finally:
        _QUICK_READS.reset(token)


def _read_at_once(connection: Any, sql: str, parameters: Any) -> Outcome | None:
    """The statement's outcome, run here without waiting for any lock; None when it would have to wait."""
    driver: sqlite3.Connection = connection._conn
    driver.execute("PRAGMA busy_timeout=0")
    try:
        return _run(connection, sql, parameters, False)
    except sqlite3.OperationalError as exc:
        if driver.in_transaction or ("locked" not in str(exc) and "busy" not in str(exc)):
            raise
        return None
    finally:
        driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def sqlite_driver(dbapi_connection: Any) -> sqlite3.Connection | None:
    """The sqlite3 connection under SQLAlchemy's adapted aiosqlite connection (None if it is not one)."""
    wrapped = getattr(dbapi_connection, "_connection", None)  # tests/test_dependency_internals.py
    return wrapped._wrapped._conn if isinstance(wrapped, OneTripConnection) else None


def began_write_at_once(driver: sqlite3.Connection) -> bool:
    """Take the write lock here if it is free (no other process writes, mostly); False when it is held, and
    the caller waits for it in the connection's thread (a trip there costs more than the BEGIN itself)."""
    driver.execute("PRAGMA busy_timeout=0")
    try:
        driver.execute(BEGIN_WRITE)
        return True
    except sqlite3.OperationalError:  # database is locked: another process writes
        return False
    finally:
        driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _run(connection: Any, sql: str, parameters: Any, many: bool) -> Outcome:
    """In the connection's thread: execute, fetch everything, close the cursor."""
    driver: sqlite3.Connection = connection._conn
    cursor = driver.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


async def writing_driver(session: AsyncSession) -> sqlite3.Connection | None:
    """The sqlite3 connection under the session's write transaction, which holds SQLite's write lock: a small
    write runs there at once, as plain SQL (SQLAlchemy's statement machinery costs ten times the statement).
    None for PostgreSQL, or outside a write transaction. Looked for once per transaction."""
    transaction = session.sync_session.get_transaction()
    kept: tuple[object, sqlite3.Connection | None] | None = session.info.get(_DRIVER_KEPT)
    if kept is None or kept[0] is not transaction:
        driver = None
        if session.sync_session.get_bind().dialect.name == "sqlite":
            raw = await (await session.connection()).get_raw_connection()
            driver = sqlite_driver(raw.dbapi_connection)
        kept = session.info[_DRIVER_KEPT] = (transaction, driver)
    driver = kept[1]
    return driver if driver is not None and driver.in_transaction else None

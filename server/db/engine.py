"""The asyncio database engine: SQLite in WAL mode (one writer at a time, immediately), or PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.one_trip import (
    BEGIN_WRITE,
    BUSY_TIMEOUT_MS,
    OneTripConnection,
    began_write_at_once,
    sqlite_driver,
)

CACHE_KIB = 256
"""SQLite's page cache per connection (its default is 2 MiB). Each pooled connection keeps its own, up to 15
of them, filled by reading long logs: 30 MiB of the server's memory that the OS's file cache holds anyway."""
SQLITE_POOL = 15
"""SQLite connections kept open (each has its own thread): as many as before (5 + 10 overflow), but kept for
reuse rather than closed and opened again (a new thread, and the PRAGMAs) whenever more than 5 are busy."""
WRITE_OPTION = "hangar_writes"
"""Execution option of sessions that will write (SQLite: their transaction takes the write lock first)."""


def create_engine(url: str) -> AsyncEngine:
    """An engine for an asyncio driver URL (`sqlite+aiosqlite://` or `postgresql+asyncpg://`)."""
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_async_engine(url, connect_args={"timeout": 30}, pool_size=SQLITE_POOL, max_overflow=0)
    _skip_idle_rollbacks(engine)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(connection: Any, _record: Any) -> None:
        connection._connection = OneTripConnection(connection._connection)  # before its first statement
        connection.isolation_level = None  # transactions are begun below, as BEGIN IMMEDIATE
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that reads, then writes after another
        # connection committed, fails at once with SQLITE_BUSY instead of waiting its turn. Readers run
        # each statement on its own (autocommit), so in WAL mode they never block a writer, at no cost.
        # The lock is taken straight on the sqlite3 connection when it is free (SQLAlchemy's statement
        # machinery costs more than the BEGIN); when another process holds it, the BEGIN waits in the thread.
        if connection.get_execution_options().get(WRITE_OPTION, False):
            driver = sqlite_driver(connection.connection.dbapi_connection)
            if driver is None or not began_write_at_once(driver):
                connection.exec_driver_sql(BEGIN_WRITE)

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def _skip_idle_rollbacks(engine: AsyncEngine) -> None:
    """A read session ends with a rollback, a round trip to the connection's thread; readers run
    autocommitted (no transaction is open), where it does nothing: skip it then."""
    dialect = engine.sync_engine.dialect
    rollback = dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        if _in_transaction(dbapi_connection):
            rollback(dbapi_connection)

    dialect.do_rollback = do_rollback  # type: ignore[method-assign]


def _in_transaction(dbapi_connection: Any) -> bool:
    """Whether SQLite has a transaction open on the connection (True when that cannot be told)."""
    adapted = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
    try:
        return bool(adapted._connection.in_transaction)
    except Exception:  # closed, or not aiosqlite's: let the rollback decide
        return True

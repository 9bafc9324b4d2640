"""An id that names something outside the database (a job, a Redis key, a live channel, a container label) is
never handed out twice: not after its row is deleted, on SQLite as on PostgreSQL, and not in a database made
before migration 0006 either (issue 13)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from alembic import command
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.engine import create_engine, session_factory
from server.db.migrate import alembic_config, upgrade_async
from server.db.models import Build, Delivery, Outbox, Repo, Stage, Step
from server.settings import Settings
from server.store.outbox import EMAIL, create_outbox, delete_outbox

Sessions = async_sessionmaker[AsyncSession]


async def _add_and_delete(sessions: Sessions, make: type[SQLModel], **fields: object) -> tuple[int, int]:
    """Add a row, delete it, add another: both ids."""
    ids = []
    for _ in range(2):
        async with sessions() as session, session.begin():
            row = make(**fields)
            session.add(row)
            await session.flush()
            ids.append(row.id)  # type: ignore[attr-defined]
            await session.exec(delete(make))
    return ids[0], ids[1]


async def test_deleted_rows_ids_are_never_handed_out_again(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        repo = Repo(owner="octo", name="app")
        session.add(repo)
        await session.flush()
        build = Build(repo_id=repo.id or 0, number=1)
        session.add(build)
        await session.flush()
        stage = Stage(build_id=build.id or 0, repo_id=repo.id or 0, number=1, name="s")
        session.add(stage)
        await session.flush()
        ids = (repo.id or 0, build.id or 0, stage.id or 0)
    repo_id, build_id, stage_id = ids
    first, second = await _add_and_delete(sessions, Outbox, build_id=build_id, kind=EMAIL)
    assert second > first, "an outbox row's id (its job id) came back"
    first, second = await _add_and_delete(sessions, Delivery, repo_id=repo_id, delivery="d")
    assert second > first, "a delivery's id (its trigger job id) came back"
    first, second = await _add_and_delete(sessions, Step, stage_id=stage_id, number=1, name="x")
    assert second > first, "a step's id (its log channel) came back"


async def test_the_outbox_of_a_database_made_before_the_fix_no_longer_reuses_ids(tmp_path: Path) -> None:
    url = Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}").sqlalchemy_url
    await upgrade_async(url, "0005")
    repo = {"owner": "octo", "name": "app", "email_recipients": "[]", "timeout": 60, "counter": 1}
    build = {"repo_id": 1, "number": 1, "sha": "abc", "pull_request": 0, "context": "{}"}
    with sqlite3.connect(tmp_path / "old.db") as db:
        _insert(db, "repos", repo)
        _insert(db, "builds", build)
        _insert(db, "outbox", {"build_id": 1, "kind": "email", "sequence": 0})
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            kept = await session.get(Build, 1)
            assert kept is not None and kept.sha == "abc", "the migration keeps the rows"
            await delete_outbox(session, [1])
        async with sessions() as session, session.begin():
            (row,) = await create_outbox(session, [Outbox(build_id=1, kind=EMAIL)])
        assert row.id == 2
    finally:
        await engine.dispose()
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0005")  # and back again
    with sqlite3.connect(tmp_path / "old.db") as db:
        assert db.execute("SELECT sha FROM builds").fetchall() == [("abc",)]


def _insert(db: sqlite3.Connection, table: str, values: dict[str, object]) -> None:
    """Insert a row as the schema at 0005 has it: columns not given are '' or 0, as their type wants."""
    columns = {row[1]: row[2] for row in db.execute(f"PRAGMA table_info({table})") if row[1] != "id"}
    row = {name: values.get(name, 0 if kind in ("INTEGER", "BOOLEAN", "FLOAT", "BIGINT") else "")
           for name, kind in columns.items()}  # fmt: skip
    db.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})", list(row.values())
    )

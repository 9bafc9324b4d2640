"""Migration 0007: builds and recorded hooks made at the previous head keep every value, both ways."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import select

from pipelines import BuildCause, cause_of
from server.db.engine import create_engine, session_factory
from server.db.migrate import alembic_config, upgrade_async
from server.db.models import Build, Delivery
from server.forges import Hook
from server.forges.hook import Repository
from server.settings import Settings
from tests.pipelines.causes import every_field_set

REVISION = "0007"
COLUMNS_BEFORE = {"pull_request_title": "title", "commit_link": "link"}
HOOK_KEYS_BEFORE = {"pull_request_title": "title"}
NEW_FIELDS = ("deploy_to", "cron", "parameters")
REPOSITORY = Repository(
    owner="octo", name="app", clone_url="https://git.example/octo/app.git", link="https://git.example/octo/app",
    private=True, default_branch="main",
)  # fmt: skip


def as_before(cause: BuildCause, former_names: dict[str, str]) -> dict[str, Any]:
    """The cause under its former names, without the fields it did not have."""
    return {former_names.get(name, name): value for name, value in cause if name not in NEW_FIELDS}


async def insert(connection: AsyncConnection, table_name: str, values: dict[str, Any]) -> None:
    """A row with `values`, and a zero of its type in every other NOT NULL column (as the table is now)."""

    def run(sync: sa.Connection) -> None:
        table = sa.Table(table_name, sa.MetaData(), autoload_with=sync)
        zeros = {
            column.name: {str: "", int: 0, float: 0.0, bool: False}.get(column.type.python_type, {})
            for column in table.columns
            if not column.nullable and not column.primary_key and column.name not in values
        }
        sync.execute(table.insert().values(zeros | values))

    await connection.run_sync(run)


async def ids_never_reused(engine: AsyncEngine) -> bool:
    """SQLite: whether `builds` is still AUTOINCREMENT (migration 0006); PostgreSQL never reuses ids."""
    if engine.dialect.name != "sqlite":
        return True
    async with engine.connect() as connection:
        sql = await connection.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = 'builds'"))
    return "AUTOINCREMENT" in str(sql)


async def test_builds_and_recorded_hooks_keep_their_values_through_the_upgrade_and_back(
    database_url: str,
) -> None:
    url = Settings(database_url=database_url).sqlalchemy_url
    previous = ScriptDirectory.from_config(alembic_config(url)).get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    await upgrade_async(url, previous)
    kept = every_field_set(
        **{name: BuildCause.model_fields[name].get_default(call_default_factory=True) for name in NEW_FIELDS}
    )
    row = as_before(kept, COLUMNS_BEFORE)
    flat_hook = {"forge": "gitea"} | REPOSITORY.model_dump() | as_before(kept, HOOK_KEYS_BEFORE)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await insert(connection, "repos", {"id": 1, "owner": "octo", "name": "app"})
            await insert(connection, "builds", {"id": 1, "repo_id": 1, "number": 1} | row)
            await insert(
                connection, "deliveries", {"id": 1, "repo_id": 1, "delivery": "d-1", "hook": flat_hook}
            )

        await upgrade_async(url, REVISION)
        async with session_factory(engine)() as session:
            build = (await session.exec(select(Build))).one()
            delivery = (await session.exec(select(Delivery))).one()
        assert cause_of(build) == kept
        assert await ids_never_reused(engine), "the columns changed in place, the table kept AUTOINCREMENT"
        assert Hook.model_validate(delivery.hook) == Hook(forge="gitea", repo=REPOSITORY, cause=kept)

        await asyncio.to_thread(command.downgrade, alembic_config(url), previous)
        async with engine.connect() as connection:
            old_build = (await connection.execute(sa.text("SELECT * FROM builds"))).mappings().one()
        assert {key: old_build[key] for key in row} == row
        assert await ids_never_reused(engine)
        async with session_factory(engine)() as session:
            assert (await session.exec(select(Delivery))).one().hook == flat_hook
    finally:
        await engine.dispose()

"""Migration 0011: cache entries, artifacts and a repository's cache settings come and go both ways, and a
repository registered before gets automatic caches on, at generation 0."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import command

from server.db.engine import create_engine
from server.db.migrate import alembic_config, upgrade_async
from server.settings import Settings
from tests.server.migrations.test_forge_accounts import OLD_REPO

BEFORE = "0010"


async def test_migration_0011_upgrades_and_downgrades(database_url: str) -> None:
    url = Settings(database_url=database_url).sqlalchemy_url
    await upgrade_async(url, BEFORE)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            old = {**OLD_REPO, "forge_id": "", "hook_id": ""}
            names, values = ", ".join(old), ", ".join(f":{name}" for name in old)
            await connection.execute(sa.text(f"INSERT INTO repos ({names}) VALUES ({values})"), old)
        await upgrade_async(url)
        async with engine.connect() as connection:
            row = (await connection.execute(sa.text("SELECT cache_auto, cache_generation FROM repos"))).one()
            assert (bool(row[0]), row[1]) == (True, 0)
            tables = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            assert {"cache_entries", "artifacts"} <= set(tables)
        await asyncio.to_thread(command.downgrade, alembic_config(url), BEFORE)
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {column["name"] for column in sa.inspect(sync).get_columns("repos")}
            )
            tables = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        assert "cache_auto" not in columns
        assert not {"cache_entries", "artifacts"} & set(tables)
        await upgrade_async(url)
    finally:
        await engine.dispose()

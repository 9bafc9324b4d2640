"""Migration 0010: forge accounts and a repository's forge id, owner and webhook come and go both ways, and a
repository registered before keeps its values (no forge id: the rule without a forge applies to it)."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from alembic import command

from server.db.engine import create_engine
from server.db.migrate import alembic_config, upgrade_async
from server.settings import Settings

BEFORE = "0009"
OLD_REPO: dict[str, object] = {
    "owner": "octo", "name": "app", "forge": "github", "clone_url": "x", "link": "", "default_branch": "main",
    "private": False, "webhook_secret": "s", "api_url": "", "api_token": "", "clone_login": "",
    "clone_password": "", "email_recipients": "[]", "email_policy": "change", "trusted": False,
    "config_path": "", "timeout": 60, "approval": "forks", "protected": False, "signing_key": "",
    "counter": 0, "created": 0.0,
}  # fmt: skip


async def test_migration_0010_upgrades_and_downgrades(database_url: str) -> None:
    url = Settings(database_url=database_url).sqlalchemy_url
    await upgrade_async(url, BEFORE)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            names, values = ", ".join(OLD_REPO), ", ".join(f":{name}" for name in OLD_REPO)
            await connection.execute(sa.text(f"INSERT INTO repos ({names}) VALUES ({values})"), OLD_REPO)
        await upgrade_async(url)
        async with engine.connect() as connection:
            row = (await connection.execute(sa.text("SELECT forge_id, owner_id, hook_id FROM repos"))).one()
            assert tuple(row) == ("", None, "")
            assert (await connection.execute(sa.text("SELECT count(*) FROM forge_accounts"))).scalar() == 0
        await asyncio.to_thread(command.downgrade, alembic_config(url), BEFORE)
        async with engine.connect() as connection:
            columns = await connection.run_sync(_column_names)
            tables = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        assert "forge_id" not in columns
        assert "forge_accounts" not in tables
        await upgrade_async(url)
    finally:
        await engine.dispose()


def _column_names(connection: sa.Connection) -> set[str]:
    return {column["name"] for column in sa.inspect(connection).get_columns("repos")}

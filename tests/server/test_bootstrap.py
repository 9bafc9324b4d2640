"""The bootstrap admin: replicas started together on a new PostgreSQL database each make it; the one that
loses the race must still start (it failed with a unique-key error, and `hangar server` exited)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from server import bootstrap as bootstrap_module
from server.bootstrap import ADMIN_LOGIN, bootstrap
from server.db.migrate import upgrade_async
from server.services import Services, open_services
from server.store.users import find_user, find_user_by_token
from tests.conftest import fresh_postgres
from tests.server.conftest import ADMIN_TOKEN, make_settings


@pytest.fixture
def postgres(services: dict[str, str]) -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards)."""
    with fresh_postgres(services["HANGAR_TEST_POSTGRES_URL"]) as url:
        yield url


@contextlib.asynccontextmanager
async def replicas(tmp_path: Path, postgres: str, redis_url: str) -> AsyncIterator[list[Services]]:
    """The services of two replicas (data folders of their own) on one fresh PostgreSQL database."""
    settings = [make_settings(str(tmp_path / name), postgres) for name in "ab"]
    await upgrade_async(settings[0].sqlalchemy_url)
    opened = [await open_services(one, redis_url) for one in settings]
    try:
        yield opened
    finally:
        for hangar in opened:
            await hangar.close()


async def test_two_replicas_bootstrapping_at_once_both_start_with_one_admin(
    tmp_path: Path, postgres: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_looked = asyncio.Barrier(2)
    looks = 0

    async def find_user_then_wait(*args: Any) -> Any:
        """Each replica finds no admin before either makes one (the race, made certain)."""
        nonlocal looks
        found = await find_user(*args)
        looks += 1
        if looks <= 2:
            await asyncio.wait_for(both_looked.wait(), 10)
        return found

    monkeypatch.setattr(bootstrap_module, "find_user", find_user_then_wait)
    async with replicas(tmp_path, postgres, redis_url) as (a, b):
        await asyncio.gather(bootstrap(a), bootstrap(b))
        async with a.reading() as session:
            admin = await find_user(session, ADMIN_LOGIN)
            holder = await find_user_by_token(session, ADMIN_TOKEN)
    assert admin is not None and admin.admin
    assert holder is not None and holder.id == admin.id

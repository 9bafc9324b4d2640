"""Server fixtures: a migrated database (SQLite, or PostgreSQL), real Redis, the services, an API client."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from server.app import create_app
from server.bootstrap import bootstrap
from server.db.migrate import upgrade_async
from server.services import Services, open_services
from server.settings import Settings
from tests.conftest import empty_postgres
from tests.server.support import PushedRepo, register_repo

ADMIN_TOKEN = "admin-token-for-tests"
RUNNER_SECRET = "runner-secret-for-tests"


@pytest.fixture
async def redis_url(services: dict[str, str]) -> AsyncIterator[str]:
    """The test Redis, emptied before and after the test."""
    url = services["HANGAR_TEST_REDIS_URL"]
    redis = Redis.from_url(url)
    await redis.flushdb()
    yield url
    await redis.flushdb()
    await redis.aclose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Each store test runs against both databases: a fresh SQLite file, and PostgreSQL emptied afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'hangar.db'}"
        return
    url: str = request.getfixturevalue("postgres_server")
    yield url
    asyncio.run(empty_postgres(url))


@pytest.fixture
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh SQLite database file (tests that need not run on both databases)."""
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'hangar.db'}"


def make_settings(data: str, database_url: str, **overrides: object) -> Settings:
    """Settings for tests: a public URL, an admin token, a shared runner secret, short polls."""
    values: dict[str, object] = {
        "data": data,
        "database_url": database_url,
        "url": "http://hangar.test",
        "admin_token": ADMIN_TOKEN,
        "runner_secret": RUNNER_SECRET,
        "poll_seconds": 2.0,
    }
    return Settings(**(values | overrides))  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: object, sqlite_url: str) -> Settings:
    """Settings over a fresh SQLite database."""
    return make_settings(str(tmp_path), sqlite_url)


@contextlib.asynccontextmanager
async def opened(settings: Settings, redis_url: str) -> AsyncIterator[Services]:
    """Migrate the database, open the services, create the admin; closed afterwards."""
    await upgrade_async(settings.sqlalchemy_url)
    hangar = await open_services(settings, redis_url)
    try:
        await bootstrap(hangar)
        yield hangar
    finally:
        await hangar.close()


@pytest.fixture
async def hangar(settings: Settings, redis_url: str) -> AsyncIterator[Services]:
    """The server's services over SQLite and the test Redis."""
    async with opened(settings, redis_url) as services:
        yield services


@pytest.fixture
async def client(hangar: Services, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the application (in process), signed in as nobody."""
    app = create_app(hangar.settings, redis_url, hangar)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hangar.test") as http:
        yield http


def admin_headers() -> dict[str, str]:
    """The bootstrap admin's Authorization header."""
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
async def pushed(tmp_path: Path, hangar: Services) -> PushedRepo:
    """A git repository pushed to a bare remote, registered as octo/app (webhook secret WEBHOOK_SECRET)."""
    repo = PushedRepo(tmp_path / "git")
    await register_repo(hangar, "octo", "app", str(repo.bare))
    return repo

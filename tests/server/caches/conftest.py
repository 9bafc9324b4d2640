"""The shared cache's fixtures: the services over SQLite and again over PostgreSQL, the app, a repository."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.db.models import Repo
from server.services import Services
from tests.server.api.seed import add_repo
from tests.server.conftest import make_settings, opened


@pytest.fixture
async def hangar(database_url: str, tmp_path: Path, redis_url: str) -> AsyncIterator[Services]:
    """The services over each database, its data folder in the test's own folder."""
    async with opened(make_settings(str(tmp_path / "data"), database_url), redis_url) as services:
        yield services


@pytest.fixture
def app(hangar: Services, redis_url: str) -> Starlette:
    """The application over those services."""
    return create_app(hangar.settings, redis_url, hangar)


@pytest.fixture
async def repo(hangar: Services) -> Repo:
    """A public repository, its default branch main."""
    return await add_repo(hangar, "octo", "app")


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app in process."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hangar.test"
    ) as client:
        yield client

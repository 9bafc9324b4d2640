"""A migrated database for store tests: every test here runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.engine import create_engine, session_factory
from server.db.migrate import upgrade_async
from server.settings import Settings


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions over a freshly migrated database."""
    url = Settings(database_url=database_url).sqlalchemy_url
    await upgrade_async(url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()

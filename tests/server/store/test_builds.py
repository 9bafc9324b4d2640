"""server.store.builds: which build the trigger may still compile (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Build, Repo, Stage
from server.store.builds import build_to_compile, create_build
from server.store.repos import create_repo

Sessions = async_sessionmaker[AsyncSession]


async def test_only_a_build_not_finished_and_without_stages_is_still_to_compile(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        repo = await create_repo(session, Repo(owner="octo", name="app"))
        fresh, finished, compiled = (Build(repo_id=repo.id or 0, number=n) for n in (1, 2, 3))
        finished.finished = 1.0
        await create_build(session, fresh, [])
        await create_build(session, finished, [])
        await create_build(session, compiled, [(Stage(build_id=0, repo_id=0, number=1, name="test"), [])])
    async with sessions() as session, session.begin():
        found = await build_to_compile(session, fresh.id or 0)
        assert found is not None and found.number == 1
        assert await build_to_compile(session, finished.id or 0) is None, "it ended meanwhile"
        assert await build_to_compile(session, compiled.id or 0) is None, "compiled by another"
        assert await build_to_compile(session, 10_000) is None

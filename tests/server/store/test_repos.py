"""Forgetting a repository with the store verb, on SQLite and PostgreSQL: its whole history goes, and nothing
of another repository's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Build, Delivery, LogChunk, Outbox, Repo, Secret, Stage, Step
from server.store.builds import create_build
from server.store.deliveries import create_delivery
from server.store.logs import append_lines
from server.store.outbox import EMAIL, STATUS, create_outbox
from server.store.repos import create_repo, delete_repo, find_repo
from server.store.secrets import save_secret

Sessions = async_sessionmaker[AsyncSession]
TABLES = (Build, Stage, Step, LogChunk, Outbox, Secret, Delivery)


async def repo_with_history(sessions: Sessions, name: str) -> int:
    """A repository with two builds (stages, steps, log lines), notifications not sent, a secret and a
    delivery; its id."""
    async with sessions() as session, session.begin():
        repo = await create_repo(session, Repo(owner="octo", name=name))
        repo_id = repo.id or 0
        for number in (1, 2):
            stage = Stage(build_id=0, repo_id=0, number=1, name="test")
            steps = [Step(stage_id=0, number=1, name="clone"), Step(stage_id=0, number=2, name="test")]
            build = await create_build(session, Build(repo_id=repo_id, number=number), [(stage, steps)])
            for step in steps:
                await append_lines(session, step, 0, [(0.1, f"{name} line {number}")])
            await create_outbox(
                session,
                [
                    Outbox(build_id=build.id or 0, kind=STATUS, status="success"),
                    Outbox(build_id=build.id or 0, kind=EMAIL),
                ],
            )
        await save_secret(session, Secret(repo_id=repo_id, name="token", value="sealed"))
        await create_delivery(session, repo_id, f"delivery-of-{name}", "push", {"ref": "refs/heads/main"})
    return repo_id


async def counts(sessions: Sessions) -> dict[str, int]:
    """Rows per table."""
    async with sessions() as session:
        return {
            table.__name__: (await session.exec(select(func.count()).select_from(table))).one()
            for table in TABLES
        }


async def test_forgetting_a_repository_deletes_its_history_and_keeps_the_others(sessions: Sessions) -> None:
    await repo_with_history(sessions, "gone")
    kept_id = await repo_with_history(sessions, "kept")
    one_repo = {"Build": 2, "Stage": 2, "Step": 4, "LogChunk": 4, "Outbox": 4, "Secret": 1, "Delivery": 1}
    assert await counts(sessions) == {table: 2 * rows for table, rows in one_repo.items()}

    async with sessions() as session, session.begin():
        repo = await find_repo(session, "octo", "gone")
        assert repo is not None
        await delete_repo(session, repo)

    assert await counts(sessions) == one_repo
    async with sessions() as session:
        assert await find_repo(session, "octo", "gone") is None
        assert await find_repo(session, "octo", "kept") is not None
        builds = (await session.exec(select(Build.repo_id).where(col(Build.repo_id) == kept_id))).all()
        assert len(builds) == 2, "the other repository's builds stay"
        texts = [line for chunk in (await session.exec(select(LogChunk))).all() for _s, line in chunk.lines]
        assert texts and all(text.startswith("kept ") for text in texts)

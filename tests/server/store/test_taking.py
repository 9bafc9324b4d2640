"""What a take reads: the stage with its Plan, the build with its repository (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Build, Repo, Stage, Step
from server.store.builds import create_build, find_build_by_id, find_stage
from server.store.repos import create_repo
from server.store.taking import find_build_and_repo, find_stage_with_plan, plan_of

Sessions = async_sessionmaker[AsyncSession]
PLAN = {"stage": {"name": "test"}, "steps": [1, 2]}


async def new_stage(sessions: Sessions) -> Stage:
    """A build of a new repository with one stage whose Plan is PLAN."""
    async with sessions() as session, session.begin():
        repo = await create_repo(session, Repo(owner="octo", name="app"))
        stage = Stage(build_id=0, repo_id=repo.id or 0, number=1, name="test", plan=PLAN)
        build = Build(repo_id=repo.id or 0, number=7)
        await create_build(session, build, [(stage, [Step(stage_id=0, number=1, name="clone")])])
    return stage


async def test_a_stage_read_for_a_take_has_its_plan_and_one_read_without_it_reads_it_apart(
    sessions: Sessions,
) -> None:
    stage = await new_stage(sessions)
    async with sessions() as session:
        taken = await find_stage_with_plan(session, stage.id or 0)
        assert taken is not None and await plan_of(session, taken) == PLAN
    async with sessions() as session:
        plain = await find_stage(session, stage.id or 0)
        assert plain is not None and await plan_of(session, plain) == PLAN
        assert await find_stage_with_plan(session, 10_000) is None


async def test_the_build_comes_with_its_repository_whether_the_session_held_the_build_or_not(
    sessions: Sessions,
) -> None:
    stage = await new_stage(sessions)
    async with sessions() as session:
        found = await find_build_and_repo(session, stage.build_id)
        assert found is not None
        build, repo = found
        assert (build.number, repo.slug) == (7, "octo/app")
        assert await find_build_by_id(session, stage.build_id) is build, "held: not read again"
    async with sessions() as session:
        held = await find_build_by_id(session, stage.build_id)
        found = await find_build_and_repo(session, stage.build_id)
        assert found is not None and found[0] is held and found[1].slug == "octo/app"
        assert await find_build_and_repo(session, 10_000) is None

"""The store verbs against real SQLite and PostgreSQL databases, migrated by Alembic."""

from __future__ import annotations

import asyncio
import json

import pytest
from alembic import command
from alembic.util.exc import CommandError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines import cause_of
from pipelines.status import Status
from server.changes import Changes
from server.db.engine import WRITE_OPTION
from server.db.migrate import alembic_config
from server.db.models import Build, Repo, Stage, Step, User
from server.progress import advance_build, cancel_build
from server.store.builds import (
    create_build,
    find_build,
    find_stage,
    list_builds,
    list_stages,
    list_steps,
    previous_build,
    stage_plan,
    stage_steps,
    update_build,
    update_stage,
    update_step,
)
from server.store.deliveries import create_delivery
from server.store.logs import (
    append_lines,
    append_lines_json,
    last_lines,
    lines_json,
    read_chunk_texts,
    read_lines,
)
from server.store.repos import create_repo, find_repo, next_build_number
from server.store.runners import create_runner, find_runner_by_token
from server.store.users import create_token, create_user, find_user_by_token
from tests.pipelines.causes import every_field_set

Sessions = async_sessionmaker[AsyncSession]


async def new_repo(sessions: Sessions) -> int:
    async with sessions() as session, session.begin():
        repo = await create_repo(session, Repo(owner="octo", name="app", email_recipients=["a@example.com"]))
        return repo.id or 0


async def test_builds_are_numbered_per_repository_without_two_getting_the_same(sessions: Sessions) -> None:
    repo_id = await new_repo(sessions)

    async def reserve() -> int:
        async with sessions() as session, session.begin():
            return await next_build_number(session, repo_id)

    numbers = await asyncio.gather(*(reserve() for _ in range(20)))
    assert sorted(numbers) == list(range(1, 21))
    async with sessions() as session:
        repo = await find_repo(session, "octo", "app")
        assert repo is not None and repo.counter == 20 and repo.email_recipients == ["a@example.com"]


async def test_a_build_is_stored_with_its_stages_and_steps_newest_first(
    sessions: Sessions,
) -> None:
    repo_id = await new_repo(sessions)
    async with sessions() as session, session.begin():
        for number in (1, 2, 3):
            stage = Stage(
                build_id=0, repo_id=0, number=1, name="test", plan={"steps": [1]}, labels={"a": "b"}
            )
            steps = [Step(stage_id=0, number=1, name="clone"), Step(stage_id=0, number=2, name="test")]
            build = Build(
                repo_id=repo_id, number=number, branch="main", status="success", finished=float(number)
            )
            await create_build(session, build, [(stage, steps)])
    async with sessions() as session:
        assert [b.number for b in await list_builds(session, repo_id)] == [3, 2, 1]
        assert [b.number for b in await list_builds(session, repo_id, limit=1, before=3)] == [2]
        latest = await find_build(session, repo_id, 3)
        assert latest is not None
        assert (await previous_build(session, latest)).number == 2  # type: ignore[union-attr]
        stages = await list_stages(session, latest.id or 0)
        assert [(s.name, s.labels) for s in stages] == [("test", {"a": "b"})]
        assert await stage_plan(session, stages[0].id or 0) == {"steps": [1]}, "loaded on its own"
        assert [s.name for s in await list_steps(session, [stages[0].id or 0])] == ["clone", "test"]


async def new_step(sessions: Sessions) -> Step:
    """The one step of a new build's one stage, in a new repository."""
    repo_id = await new_repo(sessions)
    async with sessions() as session, session.begin():
        stage = Stage(build_id=0, repo_id=0, number=1, name="s")
        await create_build(
            session, Build(repo_id=repo_id, number=1), [(stage, [Step(stage_id=0, number=1, name="x")])]
        )
    async with sessions() as session:
        return (await list_steps(session, [stage.id or 0]))[0]


@pytest.mark.parametrize("writing", [False, True], ids=["session", "write-transaction"])
async def test_log_lines_are_stored_once_whatever_the_retries(sessions: Sessions, writing: bool) -> None:
    """Also in the server's write transaction (on SQLite the statements go straight to the driver)."""
    step = await new_step(sessions)
    async with sessions() as session, session.begin():
        if writing:
            await session.connection(execution_options={WRITE_OPTION: True})
        step = await session.merge(step)
        assert await append_lines(session, step, 0, [(0.0, "a"), (0.1, "b")]) == 2
        assert await append_lines(session, step, 0, [(0.0, "a"), (0.1, "b")]) == 2
        assert await append_lines(session, step, 1, [(0.1, "b"), (0.2, "c")]) == 3
        assert await append_lines(session, step, 7, [(0.7, "h")]) == 3, "a gap is refused"
    async with sessions() as session:
        lines = await read_lines(session, step.id or 0)
        assert [(pos, text) for pos, _, text in lines] == [(0, "a"), (1, "b"), (2, "c")]
        assert [pos for pos, _, _ in await read_lines(session, step.id or 0, start=1, limit=1)] == [1]
        assert await last_lines(session, step.id or 0, 2) == ["b", "c"]
        chunks = await read_chunk_texts(session, step.id or 0, start=1, at_least=1)
        assert [(first, json.loads(text)) for first, text in chunks] == [(0, [[0.0, "a"], [0.1, "b"]])]
        chunks = await read_chunk_texts(session, step.id or 0, start=1, at_least=5)
        assert [first for first, _text in chunks] == [0, 2], "whole chunks, undecoded, up to the end"


async def test_log_lines_come_back_as_sent_whatever_their_characters(sessions: Sessions) -> None:
    step = await new_step(sessions)
    sent = [(0.001, 'quote " back \\ tab \t'), (1e-05, "é ☃ 𝄞 \u2028"), (2.5, ""), (3.0, "\u001b[31mred")]
    async with sessions() as session, session.begin():
        step = await session.merge(step)
        assert await append_lines(session, step, 0, sent) == len(sent)
    async with sessions() as session:
        assert [(seconds, text) for _, seconds, text in await read_lines(session, step.id or 0)] == sent
        chunks = await read_chunk_texts(session, step.id or 0, start=0, at_least=len(sent))
        assert [json.loads(text) for _, text in chunks] == [[list(line) for line in sent]]


async def test_lines_text_as_they_came_is_stored_as_it_is_and_a_retrys_new_lines_are_encoded(
    sessions: Sessions,
) -> None:
    step = await new_step(sessions)
    sent = [(0.5, "é ☃"), (1.0, 'quote "'), (1.5, "c")]
    text = '[[0.5,"é ☃"],[1,"quote \\""]]'  # as a runner may write it: a time without its ".0"
    async with sessions() as session, session.begin():
        step = await session.merge(step)
        assert await append_lines_json(session, step, 0, sent[:2], text) == (2, text)
        retried = '[[1.0,"quote \\""],[1.5,"c"]]'
        assert await append_lines_json(session, step, 1, sent[1:], retried) == (3, lines_json(sent[2:]))
    async with sessions() as session:
        chunks = await read_chunk_texts(session, step.id or 0, start=0, at_least=3)
        assert [chunk for _, chunk in chunks] == [text, lines_json(sent[2:])], "byte for byte"
        assert [(seconds, line) for _, seconds, line in await read_lines(session, step.id or 0)] == sent


def test_lines_json_writes_what_json_dumps_reads_back_also_a_lone_surrogate_or_no_time() -> None:
    lines = [(float("inf"), "\ud800 alone"), (float("-inf"), "é"), (0.5, "\x00")]
    decoded = json.loads(lines_json(lines))
    assert [(seconds, text) for seconds, text in decoded] == lines


async def test_cancel_skips_waiting_stages_and_asks_running_ones_to_stop(sessions: Sessions) -> None:
    repo_id = await new_repo(sessions)
    async with sessions() as session, session.begin():
        running = Stage(build_id=0, repo_id=0, number=1, name="a", status="running")
        waiting = Stage(
            build_id=0, repo_id=0, number=2, name="b", status="waiting_on_dependencies", depends_on=["a"]
        )
        build = await create_build(
            session, Build(repo_id=repo_id, number=1, status="running"), [(running, []), (waiting, [])]
        )
    changes = Changes()
    async with sessions() as session, session.begin():
        build = await find_build(session, repo_id, 1)  # type: ignore[assignment]
        await cancel_build(session, changes, build)
    async with sessions() as session:
        assert [(s.status, s.cancel_requested) for s in await list_stages(session, build.id or 0)] == [
            ("running", True),
            ("skipped", False),
        ]
    assert changes.cancelled_stages == {running.id}
    async with sessions() as session, session.begin():
        stage = await session.get(Stage, running.id)
        assert stage is not None
        stage.status = "killed"
        build = await find_build(session, repo_id, 1)  # type: ignore[assignment]
        await advance_build(session, changes, build)
        await update_build(session, build)
    assert build.status == "killed" and build.id in changes.finished_builds


async def test_a_build_keeps_every_field_of_its_cause(sessions: Sessions) -> None:
    repo_id = await new_repo(sessions)
    cause = every_field_set(message="a long commit message\n" * 2000)
    async with sessions() as session, session.begin():
        await create_build(session, Build(repo_id=repo_id, number=1, **cause.model_dump()), [])
    async with sessions() as session:
        stored = await find_build(session, repo_id, 1)
    assert stored is not None
    assert cause_of(stored) == cause


async def test_deliveries_users_and_runners(sessions: Sessions) -> None:
    repo_id = await new_repo(sessions)
    async with sessions() as session, session.begin():
        assert await create_delivery(session, repo_id, "d-1", "push", {"sha": "x"}) is not None
        assert await create_delivery(session, repo_id, "d-1", "push", {"sha": "x"}) is None
        user = await create_user(session, User(login="ann"))
        await create_token(session, user, "secret-token")
        await create_runner(session, "box", "runner-token")
    async with sessions() as session:
        assert (await find_user_by_token(session, "secret-token")).login == "ann"  # type: ignore[union-attr]
        assert await find_user_by_token(session, "other") is None
        assert (await find_runner_by_token(session, "runner-token")).name == "box"  # type: ignore[union-attr]


def test_the_migrations_match_the_models(database_url: str) -> None:
    from server.settings import Settings

    config = alembic_config(Settings(database_url=database_url).sqlalchemy_url)
    command.upgrade(config, "head")
    try:
        command.check(config)
    except CommandError as exc:  # pragma: no cover - the message is the diff
        raise AssertionError(f"models and migrations differ: {exc}") from None


async def test_a_changed_row_is_saved_with_what_changed_in_a_write_transaction_or_not(
    sessions: Sessions,
) -> None:
    repo_id = await new_repo(sessions)
    async with sessions() as session, session.begin():
        stage = Stage(build_id=0, repo_id=0, number=1, name="s", labels={"a": "b"})
        step = Step(stage_id=0, number=1, name="x")
        await create_build(session, Build(repo_id=repo_id, number=1), [(stage, [step])])
    for write in (True, False):
        async with sessions() as session, session.begin():
            if write:  # SQLite: the write lock is held, and plain columns go to the driver as plain SQL
                await session.connection(execution_options={WRITE_OPTION: True})
            found = await find_stage(session, stage.id or 0)
            steps = await stage_steps(session, stage.id or 0)
            assert found is not None
            found.status, found.cancel_requested, found.started = Status.RUNNING, write, 1.5
            found.labels = {"written": str(write)}  # a JSON column: through SQLAlchemy
            await update_stage(session, found)
            steps[1].status, steps[1].exit_code, steps[1].detached = Status.FAILURE, 2, write
            await update_step(session, steps[1])
            assert not session.dirty
        async with sessions() as session:
            again = (await list_stages(session, stage.build_id))[0]
            assert (again.status, again.cancel_requested, again.started) == ("running", write, 1.5)
            assert again.labels == {"written": str(write)}
            saved = (await list_steps(session, [stage.id or 0]))[0]
            assert (saved.status, saved.exit_code, saved.detached, saved.name) == ("failure", 2, write, "x")

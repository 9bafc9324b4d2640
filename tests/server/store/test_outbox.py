"""The outbox's store verbs against real SQLite and PostgreSQL: what the sweep queues again and what a sent
notification makes obsolete."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Build, Outbox
from server.store.builds import create_build
from server.store.outbox import (
    EMAIL,
    STATUS,
    create_outbox,
    delete_obsolete_statuses,
    delete_outbox,
    delete_statuses_through,
    find_outbox,
    list_stale_outbox,
)
from tests.server.store.test_store import new_repo

Sessions = async_sessionmaker[AsyncSession]
AN_HOUR_AGO = time.time() - 3600


async def new_builds(sessions: Sessions, count: int) -> list[int]:
    """`count` builds of a new repository; their ids."""
    repo_id = await new_repo(sessions)
    async with sessions() as session, session.begin():
        builds = [
            await create_build(session, Build(repo_id=repo_id, number=n), []) for n in range(1, count + 1)
        ]
        return [build.id or 0 for build in builds]


def status(build_id: int, state: str, sequence: int, created: float = AN_HOUR_AGO) -> Outbox:
    """A commit status row."""
    return Outbox(build_id=build_id, kind=STATUS, status=state, sequence=sequence, created=created)


async def remaining(sessions: Sessions) -> list[tuple[int, str, str, int]]:
    """(build id, kind, status, sequence) of every row left, oldest first."""
    async with sessions() as session:
        rows = await session.exec(select(Outbox).order_by(Outbox.id))  # type: ignore[arg-type]
        return [(row.build_id, row.kind, row.status, row.sequence) for row in rows]


async def test_rows_are_recorded_with_nanosecond_sequences_found_and_deleted(sessions: Sessions) -> None:
    [build_id] = await new_builds(sessions, 1)
    sequence = time.time_ns()  # beyond 32 bits: PostgreSQL needs a BIGINT
    async with sessions() as session, session.begin():
        rows = await create_outbox(
            session, [status(build_id, "pending", sequence), Outbox(build_id=build_id, kind=EMAIL)]
        )
        ids = [row.id or 0 for row in rows]
    assert all(ids), "ids are set on return"
    async with sessions() as session:
        found = await find_outbox(session, ids[0])
        assert found is not None and (found.status, found.sequence) == ("pending", sequence)
    async with sessions() as session, session.begin():
        await delete_outbox(session, [ids[0]])
        await delete_outbox(session, [])
    async with sessions() as session:
        assert await find_outbox(session, ids[0]) is None
    assert await remaining(sessions) == [(build_id, EMAIL, "", 0)]


async def test_a_sent_status_makes_the_builds_older_statuses_obsolete_only(sessions: Sessions) -> None:
    first, second = await new_builds(sessions, 2)
    async with sessions() as session, session.begin():
        await create_outbox(
            session,
            [
                status(first, "pending", 1), status(first, "running", 2), status(first, "success", 3),
                status(second, "pending", 1), Outbox(build_id=first, kind=EMAIL),
            ],
        )  # fmt: skip
    async with sessions() as session, session.begin():
        await delete_statuses_through(session, first, 2)
    assert await remaining(sessions) == [
        (first, STATUS, "success", 3),
        (second, STATUS, "pending", 1),
        (first, EMAIL, "", 0),
    ]


async def test_the_sweep_sees_old_rows_only_and_of_a_builds_statuses_the_newest(sessions: Sessions) -> None:
    first, second = await new_builds(sessions, 2)
    async with sessions() as session, session.begin():
        await create_outbox(
            session,
            [
                status(first, "pending", 1), status(first, "running", 2), status(first, "success", 3),
                Outbox(build_id=first, kind=EMAIL, created=AN_HOUR_AGO),
                status(second, "pending", 1), status(second, "running", 2, created=time.time()),
                Outbox(build_id=second, kind=EMAIL),  # just now: its job is surely still queued
            ],
        )  # fmt: skip
    async with sessions() as session:
        stale = await list_stale_outbox(session, older_than=30)
    assert [(row.build_id, row.kind, row.status) for row in stale] == [
        (first, STATUS, "success"),
        (first, EMAIL, ""),
    ], "the second build's pending is replaced by its running, too recent to queue again"
    async with sessions() as session, session.begin():
        await delete_obsolete_statuses(session, older_than=30)
    assert await remaining(sessions) == [
        (first, STATUS, "success", 3),
        (first, EMAIL, "", 0),
        (second, STATUS, "running", 2),
        (second, EMAIL, "", 0),
    ]
    async with sessions() as session:
        assert len(await list_stale_outbox(session, older_than=-60)) == 4, "a negative age: every row"

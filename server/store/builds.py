"""Builds, with their stages and steps."""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Boolean, Float, Integer, String, and_, bindparam, func, inspect, update
from sqlalchemy.orm import defer
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.util import identity_key
from sqlmodel import AutoString, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Build, Repo, Stage, Step
from server.db.one_trip import writing_driver
from server.store.new_rows import insert_build, insert_stage
from server.store.rows import kept, save

WITHOUT_PLAN = defer(Stage.plan)  # type: ignore[arg-type]
WITHOUT_CONTEXT = defer(Build.context)  # type: ignore[arg-type]
"""A build's compile context is written for the record, and read by nothing that runs often."""
"""Stages are read on every runner report: their Plan (dozens of KiB of JSON) only when one is taken."""
_STAGES = SQLModel.metadata.tables[Stage.__tablename__]
_ROW_ID = "row_id_"
_UPDATE_BY_ID = {
    model: update(table).where(table.c.id == bindparam(_ROW_ID))
    for model in (Build, Stage, Step)
    for table in (SQLModel.metadata.tables[model.__tablename__],)
}
"""Built once: the SET clause comes from the parameters' names (building a statement costs as much as running
it)."""
_SELECT_BY_ID: dict[type[SQLModel], Any] = {
    Build: select(Build).options(WITHOUT_CONTEXT).where(col(Build.id) == bindparam(_ROW_ID)),
    Stage: select(Stage).options(WITHOUT_PLAN).where(col(Stage.id) == bindparam(_ROW_ID)),
}
_STAGES_OF_BUILD = (
    select(Stage)
    .options(WITHOUT_PLAN)
    .where(col(Stage.build_id) == bindparam("build_id"))
    .order_by(col(Stage.number))
)
_BUILDS = SQLModel.metadata.tables[Build.__tablename__]
_REPOS = SQLModel.metadata.tables[Repo.__tablename__]
_NUMBER_AND_SLUG = (
    select(_BUILDS.c.number, _REPOS.c.owner, _REPOS.c.name)
    .join(_REPOS, _REPOS.c.id == _BUILDS.c.repo_id)
    .where(_BUILDS.c.id == bindparam(_ROW_ID))
)
_STAGE_HOLD = select(_STAGES.c.runner, _STAGES.c.lease, _STAGES.c.finished, _STAGES.c.cancel_requested).where(
    _STAGES.c.id == bindparam(_ROW_ID)
)
_STAGE_PLAN = select(_STAGES.c.plan).where(_STAGES.c.id == bindparam(_ROW_ID))
"""Built once, as the statements above: each is run for every runner report, offer or cancel check."""
_STEPS_OF_STAGE = select(Step).where(col(Step.stage_id) == bindparam("stage_id"))
Changed = TypeVar("Changed", Build, Stage, Step)
Held = TypeVar("Held", Build, Stage)
_STEPS_KEPT = "hangar_stage_steps"
"""In a session's `info`: (the transaction, {stage id: {number: step}}) the steps were read in."""


def held_row(session: AsyncSession, model: type[Held], row_id: int) -> Held | None:
    """The row of that id the session holds already (not expired), if any: no statement."""
    held = session.sync_session.identity_map.get(identity_key(model, row_id))
    return held if isinstance(held, model) and not inspect(held).expired else None


async def _by_id(session: AsyncSession, model: type[Held], row_id: int) -> Held | None:
    """The row the session holds, else read by a statement built once (`session.get` with options builds its
    query again on every call, held row or not); kept (see `kept`)."""
    held = held_row(session, model, row_id)
    if held is not None:
        return held
    row: Held | None = (await session.exec(_SELECT_BY_ID[model], params={_ROW_ID: row_id})).first()
    return kept(session, row)


async def find_build(session: AsyncSession, repo_id: int, number: int) -> Build | None:
    """Build `number` of a repository."""
    query = select(Build).options(WITHOUT_CONTEXT).where(Build.repo_id == repo_id, Build.number == number)
    result = await session.exec(query)
    return result.first()


async def find_build_by_id(session: AsyncSession, build_id: int, *, lock: bool = False) -> Build | None:
    """The build with that id; `lock` takes its row lock (PostgreSQL) so state changes apply one at a time.

    Without a lock to take (SQLite's writer holds the only one), a build the session has read is not read
    again."""
    if not lock or session.get_bind().dialect.name == "sqlite":
        return await _by_id(session, Build, build_id)
    query = select(Build).options(WITHOUT_CONTEXT).where(Build.id == build_id).with_for_update()
    result = await session.exec(query)
    return result.first()


async def build_number_and_slug(session: AsyncSession, build_id: int) -> tuple[int, str]:
    """A build's number and its repository's `owner/name`, in one query."""
    number, owner, name = (await session.exec(_NUMBER_AND_SLUG, params={_ROW_ID: build_id})).one()
    return number, f"{owner}/{name}"


async def list_builds(
    session: AsyncSession, repo_id: int, *, limit: int = 25, before: int | None = None, branch: str = ""
) -> Sequence[Build]:
    """A repository's builds, newest first, `limit` at a time, older than build number `before`."""
    query = select(Build).options(WITHOUT_CONTEXT).where(Build.repo_id == repo_id)
    if before is not None:
        query = query.where(Build.number < before)
    if branch:
        query = query.where(Build.branch == branch)
    result = await session.exec(query.order_by(col(Build.number).desc()).limit(limit))
    return result.all()


async def latest_per_branch(session: AsyncSession, repo_ids: Sequence[int]) -> Sequence[Build]:
    """The newest build of every branch of these repositories (one query, by the branch index)."""
    if not repo_ids:
        return []
    newest = (
        select(Build.repo_id, Build.branch, func.max(Build.number).label("number"))
        .where(col(Build.repo_id).in_(repo_ids))
        .group_by(col(Build.repo_id), col(Build.branch))
        .subquery()
    )
    query = (
        select(Build)
        .options(WITHOUT_CONTEXT)
        .join(
            newest,
            and_(
                col(Build.repo_id) == newest.c.repo_id,
                col(Build.branch) == newest.c.branch,
                col(Build.number) == newest.c.number,
            ),
        )
    )
    result = await session.exec(query)
    return result.all()


async def previous_build(session: AsyncSession, build: Build) -> Build | None:
    """The last finished build before this one on the same branch and event (for "broken"/"fixed")."""
    query = (
        select(Build)
        .options(WITHOUT_CONTEXT)
        .where(
            Build.repo_id == build.repo_id,
            Build.number < build.number,
            Build.branch == build.branch,
            Build.event == build.event,
            col(Build.finished).is_not(None),
        )
    )
    result = await session.exec(query.order_by(col(Build.number).desc()).limit(1))
    return result.first()


async def create_build(
    session: AsyncSession, build: Build, stages: Sequence[tuple[Stage, Sequence[Step]]]
) -> Build:
    """Store a build with its stages and their steps, by the INSERTs the trigger stores them with; on return
    every row has its id and is held by the session as if read."""
    await insert_build(session, build)
    for stage, steps in stages:
        stage.build_id, stage.repo_id = build.id or 0, build.repo_id
        await insert_stage(session, stage, steps, held=True)
    return build


async def update_build(session: AsyncSession, build: Build) -> Build:
    """Save a build's changed fields."""
    return await write_changes(session, build)


async def build_config_files(session: AsyncSession, build_id: int) -> list[str]:
    """The pipeline file(s) the build was made from, as its context records them ([] before it is read)."""
    query = select(col(Build.context)["config_files"]).where(col(Build.id) == build_id)
    found = (await session.exec(query)).first()
    return [str(name) for name in found] if isinstance(found, list) else []


async def list_stranded_builds(session: AsyncSession, older_than: float) -> list[int]:
    """Ids of builds made more than `older_than` seconds ago that are neither finished nor compiled (no
    stage): whoever made them stopped before compiling them."""
    compiled = select(Stage.id).where(col(Stage.build_id) == col(Build.id)).exists()
    query = select(Build.id).where(
        col(Build.finished).is_(None), col(Build.created) < time.time() - older_than, ~compiled
    )
    return [build_id for build_id in await session.exec(query) if build_id is not None]


async def list_stages(session: AsyncSession, build_id: int) -> Sequence[Stage]:
    """A build's stages in order."""
    return (await session.exec(_STAGES_OF_BUILD, params={"build_id": build_id})).all()


async def has_stages(session: AsyncSession, build_id: int) -> bool:
    """Whether the build was compiled (has any stage): one small Core query, no ORM rows."""
    query = select(_STAGES.c.id).where(_STAGES.c.build_id == build_id).limit(1)
    return (await session.exec(query)).first() is not None


_TO_COMPILE = (
    select(Build)
    .options(WITHOUT_CONTEXT)
    .where(col(Build.id) == bindparam(_ROW_ID), col(Build.finished).is_(None))
    .where(~select(_STAGES.c.id).where(_STAGES.c.build_id == col(Build.id)).exists())
)


async def build_to_compile(session: AsyncSession, build_id: int) -> Build | None:
    """The build if it is still to compile (not finished, no stage), locked (PostgreSQL). On SQLite, whose
    writer holds the only lock, in one statement; on PostgreSQL its stages are looked for once the row lock is
    held (a statement that waited for the lock would not see the stages committed meanwhile)."""
    if session.get_bind().dialect.name == "sqlite":
        return kept(session, (await session.exec(_TO_COMPILE, params={_ROW_ID: build_id})).first())
    build = await find_build_by_id(session, build_id, lock=True)
    if build is None or build.finished is not None or await has_stages(session, build_id):
        return None
    return build


async def find_stage(session: AsyncSession, stage_id: int) -> Stage | None:
    """The stage with that id."""
    return await _by_id(session, Stage, stage_id)


class StageHold(NamedTuple):
    """Who holds a stage and whether it should stop: what a runner's cancel watch reads, again and again."""

    runner: str
    lease: str
    finished: float | None
    cancel_requested: bool


async def stage_hold(session: AsyncSession, stage_id: int) -> StageHold | None:
    """The stage's holder and cancel flag, in one small Core query (no ORM row)."""
    row = (await session.exec(_STAGE_HOLD, params={_ROW_ID: stage_id})).first()
    return StageHold(str(row[0]), str(row[1]), row[2], bool(row[3])) if row is not None else None


async def stage_plan(session: AsyncSession, stage_id: int) -> dict[str, Any]:
    """The Plan (JSON) of a stage: loaded only when a runner takes the stage, it is the biggest column."""
    plan = (await session.exec(_STAGE_PLAN, params={_ROW_ID: stage_id})).one()
    return dict(plan)


async def update_stage(session: AsyncSession, stage: Stage) -> Stage:
    """Save a stage's changed fields."""
    return await write_changes(session, stage)


async def list_steps(session: AsyncSession, stage_ids: Sequence[int]) -> Sequence[Step]:
    """The steps of these stages, by stage and number."""
    if not stage_ids:
        return []
    query = (
        select(Step).where(col(Step.stage_id).in_(stage_ids)).order_by(col(Step.stage_id), col(Step.number))
    )
    result = await session.exec(query)
    return result.all()


async def stage_steps(session: AsyncSession, stage_id: int) -> dict[int, Step]:
    """A stage's steps by number, read once per transaction (a runner's report names them one by one)."""
    transaction = session.sync_session.get_transaction()
    kept: tuple[object, dict[int, dict[int, Step]]] | None = session.info.get(_STEPS_KEPT)
    if kept is None or kept[0] is not transaction:
        kept = session.info[_STEPS_KEPT] = (transaction, {})
    by_stage = kept[1]
    if stage_id not in by_stage:
        result = await session.exec(_STEPS_OF_STAGE, params={"stage_id": stage_id})
        by_stage[stage_id] = {step.number: step for step in result.all()}
    return by_stage[stage_id]


async def find_step(session: AsyncSession, stage_id: int, number: int) -> Step | None:
    """Step `number` of a stage."""
    return (await stage_steps(session, stage_id)).get(number)


async def create_step(session: AsyncSession, step: Step) -> Step:
    """Store a step the stage did not have (one its runner reports)."""
    await save(session, step)
    (await stage_steps(session, step.stage_id))[step.number] = step
    return step


async def update_step(session: AsyncSession, step: Step) -> Step:
    """Save a step's changed fields."""
    return await write_changes(session, step)


async def write_changes(session: AsyncSession, row: Changed) -> Changed:
    """Save the changed columns of a stored row with one UPDATE, now (a row not stored yet is flushed).

    A flush of the unit of work costs several times its one small statement, and state changes are the
    runner's every report: the row is marked unchanged in the session, and the UPDATE sent as is: on SQLite,
    as plain SQL straight to the driver when every changed column holds a number, text or a flag."""
    state = inspect(row)
    if not state.persistent or state.identity is None:
        return await save(session, row)
    changed: dict[str, Any] = {
        key: state.dict[key]
        for key, before in state.committed_state.items()
        if key in state.dict and (before is NO_VALUE or before != state.dict[key])
    }
    state._commit_all(state.dict, session.sync_session.identity_map)  # tests/test_dependency_internals.py
    if not changed:
        return row
    row_id, driver = state.identity[0], await writing_driver(session)
    if driver is not None and changed.keys() <= _PLAIN_COLUMNS[type(row)]:
        driver.execute(_update_sql(str(type(row).__tablename__), tuple(changed)), [*changed.values(), row_id])
    else:
        await session.exec(_UPDATE_BY_ID[type(row)], params=changed | {_ROW_ID: row_id})
    return row


@functools.cache
def _update_sql(table: str, columns: tuple[str, ...]) -> str:
    """SQLite's UPDATE of these columns of the row with id `?` (last)."""
    assignments = ", ".join(f'"{column}" = ?' for column in columns)
    return f'UPDATE "{table}" SET {assignments} WHERE id = ?'


def _plain_columns(model: type[SQLModel]) -> frozenset[str]:
    """The columns whose values the sqlite3 driver stores as SQLAlchemy would: numbers, text, flags."""
    table = SQLModel.metadata.tables[str(model.__tablename__)]
    plain = (Integer, Float, String, Boolean, AutoString)  # AutoString: sqlmodel's `str`, stored as is
    return frozenset(column.name for column in table.columns if isinstance(column.type, plain))


_PLAIN_COLUMNS = {model: _plain_columns(model) for model in (Build, Stage, Step)}

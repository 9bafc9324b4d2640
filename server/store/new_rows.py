"""New builds, stages and steps stored with Core INSERTs built once: the ORM's flush of new rows costs many
times its statements, and the trigger job stores a build, its stages and their steps for every webhook."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Table, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Build, Stage, Step
from server.store.rows import kept

_BUILDS, _STAGES, _STEPS = (SQLModel.metadata.tables[str(m.__tablename__)] for m in (Build, Stage, Step))
Stored = TypeVar("Stored", Build, Stage, Step)
_INSERT_BUILD = insert(_BUILDS).returning(_BUILDS.c.id)
_INSERT_STAGE = insert(_STAGES).returning(_STAGES.c.id)
_INSERT_STEPS = insert(_STEPS)
_INSERT_STEPS_WITH_IDS = insert(_STEPS).returning(_STEPS.c.id, sort_by_parameter_order=True)


def _values(table: Table, row: SQLModel) -> dict[str, Any]:
    """Every column of `row` as the INSERT's parameters, its id only when it was given one."""
    return {
        column.name: getattr(row, column.name)
        for column in table.columns
        if column.name != "id" or row.id is not None  # type: ignore[attr-defined]
    }


async def insert_build(session: AsyncSession, build: Build) -> Build:
    """Store a new build; on return it has its id and is held by the session as if read from the database
    (no statement: what the transaction changes on it afterwards is saved at the commit, as usual)."""
    build.id = (await session.exec(_INSERT_BUILD, params=_values(_BUILDS, build))).scalar_one()
    return _held(session, build)


async def insert_stage(
    session: AsyncSession, stage: Stage, steps: Sequence[Step], *, held: bool = False
) -> Stage:
    """Store a new stage of a stored build and its steps (in one INSERT); the stage's id is set on return.

    These rows stay out of the session (a transaction that changes them reads them from the database), and
    the steps' ids are not read, unless `held`: then the steps' ids are set too, and the session holds the
    rows as if read, so that what the transaction changes on them is saved at the commit."""
    stage.id = (await session.exec(_INSERT_STAGE, params=_values(_STAGES, stage))).scalar_one()
    for step in steps:
        step.stage_id = stage.id
    rows = [_values(_STEPS, step) for step in steps]
    if steps and held:
        ids = (await session.exec(_INSERT_STEPS_WITH_IDS, params=rows)).scalars().all()
        for step, step_id in zip(steps, ids, strict=True):
            step.id = step_id
    elif steps:
        await session.exec(_INSERT_STEPS, params=rows)
    if held:
        _held(session, stage)
        for step in steps:
            _held(session, step)
    return stage


def _held(session: AsyncSession, row: Stored) -> Stored:
    """A row just inserted (its id set), held by the session as if read from the database (no statement)."""
    make_transient_to_detached(row)
    session.add(row)
    return kept(session, row) or row

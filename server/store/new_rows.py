"""New builds, stages and steps stored with Core INSERTs built once: the ORM's flush of new rows costs many
times its statements, and the trigger job stores a build, its stages and their steps for every webhook."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Build, Stage, Step
from server.store.rows import kept

_BUILDS, _STAGES, _STEPS = (SQLModel.metadata.tables[str(m.__tablename__)] for m in (Build, Stage, Step))
_INSERT_BUILD = insert(_BUILDS).returning(_BUILDS.c.id)
_INSERT_STAGE = insert(_STAGES).returning(_STAGES.c.id)
_INSERT_STEPS = insert(_STEPS)


def _values(table: Table, row: SQLModel) -> dict[str, Any]:
    """Every column of `row` but its id, as the INSERT's parameters."""
    return {column.name: getattr(row, column.name) for column in table.columns if column.name != "id"}


async def insert_build(session: AsyncSession, build: Build) -> Build:
    """Store a new build; on return it has its id and is held by the session as if read from the database
    (no statement: what the transaction changes on it afterwards is saved at the commit, as usual)."""
    build.id = (await session.execute(_INSERT_BUILD, _values(_BUILDS, build))).scalar_one()
    make_transient_to_detached(build)
    session.add(build)
    return kept(session, build) or build


async def insert_stage(session: AsyncSession, stage: Stage, steps: Sequence[Step]) -> Stage:
    """Store a new stage of a stored build and its steps (in one INSERT); the ids are set on return. These
    rows stay out of the session: a transaction that changes them reads them from the database."""
    stage.id = (await session.execute(_INSERT_STAGE, _values(_STAGES, stage))).scalar_one()
    for step in steps:
        step.stage_id = stage.id
    if steps:
        await session.execute(_INSERT_STEPS, [_values(_STEPS, step) for step in steps])
    return stage

"""Step logs as numbered chunks: appending is idempotent, so a retried batch never duplicates a line."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic_core import PydanticSerializationError, to_json
from sqlalchemy import JSON, Text, bindparam, cast, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import LogChunk, Step
from server.db.one_trip import writing_driver

_CHUNKS = SQLModel.metadata.tables[LogChunk.__tablename__]
_STEPS = SQLModel.metadata.tables[Step.__tablename__]


async def append_lines(
    session: AsyncSession, step: Step, first: int, lines: Sequence[tuple[float, str]]
) -> int:
    """Store the lines from position `first` that the step does not have yet; the next position expected.

    Lines before `step.log_lines` are already stored (a retry) and are dropped. A batch that starts past the
    end would leave a gap: nothing is stored and the caller is told where to resume.
    """
    after, _stored = await append_lines_json(session, step, first, lines)
    return after


async def append_lines_json(
    session: AsyncSession,
    step: Step,
    first: int,
    lines: Sequence[tuple[float, str]],
    text: str | None = None,
) -> tuple[int, str]:
    """`append_lines`, also giving the lines it stored as JSON text ('' when none): encoded once, for the
    database and for the live viewers' message alike; `text` is the lines' JSON as they came (stored as it is
    when every line is new), if known."""
    have = step.log_lines
    if first > have:
        return have, ""
    fresh = lines[have - first :]
    if not fresh:
        return have, ""
    after = have + len(fresh)
    stored = text if text is not None and first == have else lines_json(fresh)
    # Two statements, no ORM object for a chunk that may hold a megabyte; the text goes in as it is. On SQLite
    # (whose JSON is text) as plain SQL straight to the driver holding the write lock: SQLAlchemy's statement
    # machinery cost more than the two statements. Else Core statements built once (on PostgreSQL the text is
    # cast to its json column).
    chunk = {"step_id": step.id or 0, "first": have, "count": len(fresh), "lines": stored}
    driver = await writing_driver(session)
    if driver is not None:
        driver.execute(_INSERT_CHUNK_SQL, chunk)
        driver.execute(_STEP_LINES_SQL, {"log_lines": after, "id": step.id})
    else:
        sqlite = session.get_bind().dialect.name == "sqlite"  # a CAST there would make the text a number
        await session.exec(_INSERT_CHUNK_TEXT if sqlite else _INSERT_CHUNK_JSON, params=chunk)
        await session.exec(_STEP_LINES, params={"log_lines": after, "step": step.id})
    set_committed_value(step, "log_lines", after)
    return after, stored


_INSERT_CHUNK_SQL = (
    'INSERT INTO log_chunks (step_id, "first", "count", lines) VALUES (:step_id, :first, :count, :lines)'
)
_STEP_LINES_SQL = "UPDATE steps SET log_lines = :log_lines WHERE id = :id"
_INSERT_CHUNK_TEXT = insert(_CHUNKS).values(lines=bindparam("lines", type_=Text))
_INSERT_CHUNK_JSON = insert(_CHUNKS).values(lines=cast(bindparam("lines", type_=Text), JSON))
_STEP_LINES = update(_STEPS).where(_STEPS.c.id == bindparam("step"))


def lines_json(lines: Sequence[tuple[float, str]]) -> str:
    """Lines as JSON text, `[[seconds, text], …]` (encoded in Rust: a batch is thousands of lines; json.dumps
    took 4-5 times as long), non-ASCII text as UTF-8 and a non-finite time as json.dumps writes it."""
    try:
        return to_json(lines, inf_nan_mode="constants").decode()
    except (PydanticSerializationError, UnicodeDecodeError):  # a lone surrogate: escaped, as json.dumps does
        return json.dumps(lines)


async def read_lines(
    session: AsyncSession, step_id: int, start: int = 0, limit: int | None = None
) -> list[tuple[int, float, str]]:
    """The stored lines of a step from position `start`, as (position, seconds, text)."""
    query = select(LogChunk).where(LogChunk.step_id == step_id, LogChunk.first + LogChunk.count > start)
    if limit is not None:  # only the chunks that hold the page: paging a long log stays linear
        query = query.where(LogChunk.first < start + limit)
    result = await session.exec(query.order_by(col(LogChunk.first)))
    lines: list[tuple[int, float, str]] = []
    for chunk in result:
        for offset, (seconds, text) in enumerate(chunk.lines):
            position = chunk.first + offset
            if position >= start:
                lines.append((position, float(seconds), str(text)))
                if limit is not None and len(lines) >= limit:
                    return lines
    return lines


async def read_chunk_texts(
    session: AsyncSession, step_id: int, start: int, at_least: int
) -> list[tuple[int, str]]:
    """The stored chunks of a step holding its lines from position `start`, at least `at_least` of them if
    there are: (first position, lines as JSON text), undecoded (a live view renders a chunk once for all its
    viewers, and a chunk it has rendered is not decoded again)."""
    query = (
        select(_CHUNKS.c.first, _CHUNKS.c.count, cast(_CHUNKS.c.lines, Text))
        .where(_CHUNKS.c.step_id == step_id, _CHUNKS.c.first + _CHUNKS.c.count > start)
        .where(_CHUNKS.c.first < start + at_least)  # the chunks holding those lines, not the whole log
        .order_by(_CHUNKS.c.first)
    )
    chunks: list[tuple[int, str]] = []
    for first, count, lines in await session.exec(query):
        chunks.append((first, str(lines)))
        if first + count >= start + at_least:
            break
    return chunks


async def last_lines(session: AsyncSession, step_id: int, count: int) -> list[str]:
    """The text of the last `count` lines of a step."""
    query = select(LogChunk).where(LogChunk.step_id == step_id).order_by(col(LogChunk.first).desc())
    texts: list[str] = []
    for chunk in await session.exec(query):
        texts[:0] = [str(text) for _, text in chunk.lines]
        if len(texts) >= count:
            break
    return texts[-count:] if count else []

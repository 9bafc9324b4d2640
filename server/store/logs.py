"""Step logs as numbered chunks: appending is idempotent, so a retried batch never duplicates a line."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import LogChunk, Step


async def append_lines(
    session: AsyncSession, step: Step, first: int, lines: Sequence[tuple[float, str]]
) -> int:
    """Store the lines from position `first` that the step does not have yet; the next position expected.

    Lines before `step.log_lines` are already stored (a retry) and are dropped. A batch that starts past the
    end would leave a gap: nothing is stored and the caller is told where to resume.
    """
    have = step.log_lines
    if first > have:
        return have
    fresh = [list(line) for line in lines[have - first :]]
    if fresh:
        session.add(LogChunk(step_id=step.id or 0, first=have, count=len(fresh), lines=fresh))
        step.log_lines = have + len(fresh)
        session.add(step)
        await session.flush()
    return step.log_lines


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


async def last_lines(session: AsyncSession, step_id: int, count: int) -> list[str]:
    """The text of the last `count` lines of a step."""
    query = select(LogChunk).where(LogChunk.step_id == step_id).order_by(col(LogChunk.first).desc())
    texts: list[str] = []
    for chunk in await session.exec(query):
        texts[:0] = [str(text) for _, text in chunk.lines]
        if len(texts) >= count:
            break
    return texts[-count:] if count else []

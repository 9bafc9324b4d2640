"""What every store verb that writes a row does: add it to the session's transaction and flush it."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row", bound=SQLModel)


async def save(session: AsyncSession, row: Row) -> Row:
    """Insert or update `row` now (its id is set on return; the transaction commits it)."""
    session.add(row)
    await session.flush()
    return row

"""What every store verb that writes a row does: add it to the session's transaction and flush it."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row", bound=SQLModel)
_KEPT = "hangar_kept_rows"


def kept(session: AsyncSession, row: Row | None) -> Row | None:
    """`row`, held by the session until it ends: its identity map only holds rows weakly, so a row read by one
    step of a request and wanted by the next would otherwise be read again (`session.get` finds it held)."""
    if row is not None:
        session.info.setdefault(_KEPT, []).append(row)
    return row


async def save(session: AsyncSession, row: Row) -> Row:
    """Insert or update `row` now (its id is set on return; the transaction commits it)."""
    session.add(row)
    await session.flush()
    return row

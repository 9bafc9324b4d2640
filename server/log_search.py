"""Searching a step's log: the lines showing a text, colours and case ignored, read a page at a time."""

from __future__ import annotations

import asyncio

from server.services import Services
from server.store.logs import read_lines
from webui.ansi import strip_ansi, without_sequences

MAX_MATCHES = 1000
"""Positions a log search answers with at most."""
READ_PAGE = 10_000
"""Lines read from the database at a time (a log of millions of lines is never held whole)."""


async def search_log(
    hangar: Services, step_id: int, needle: str, limit: int = MAX_MATCHES
) -> tuple[list[tuple[int, float, str]], bool]:
    """The lines containing `needle` (case-insensitive, colours ignored), and whether there were more."""
    folded, start = needle.casefold(), 0
    found: list[tuple[int, float, str]] = []
    while True:
        async with hangar.reading() as session:
            lines = await read_lines(session, step_id, start, READ_PAGE)
        for line in await asyncio.to_thread(matching_lines, lines, folded):  # CPU work off the event loop
            if len(found) == limit:
                return found, True
            found.append(line)
        if len(lines) < READ_PAGE:
            return found, False
        start = lines[-1][0] + 1


def matching_lines(lines: list[tuple[int, float, str]], folded: str) -> list[tuple[int, float, str]]:
    """The lines whose text shows `folded` (casefolded); a page without it anywhere is ruled out at once."""
    if folded not in without_sequences("\n".join(text for _p, _s, text in lines)).casefold():
        return []
    return [
        line
        for line in lines
        if folded in without_sequences(line[2]).casefold() and folded in strip_ansi(line[2]).casefold()
    ]

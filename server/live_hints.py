"""Live log messages this process published, with their lines as parsed: a viewer served by the same process
renders them as they are, rather than decoding the message's JSON again (it took longer than the rendering).

A hint only: a message published by another process, or dropped from here, is decoded as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PUBLISHED_HINTS = 2
"""Messages remembered at most (every viewer of a step takes the same message at about the same time)."""

_published: dict[str, tuple[int, Sequence[Sequence[Any]]]] = {}


def published(message: str, first: int, lines: Sequence[Sequence[Any]]) -> None:
    """Say that `message` (a live log message about to be published) holds `lines` from position `first`."""
    while len(_published) >= PUBLISHED_HINTS:
        del _published[next(iter(_published))]
    _published[message] = (first, lines)


def take_published(message: str) -> tuple[int, Sequence[Sequence[Any]]] | None:
    """The first position and lines of a message this process published, once; None if not known here."""
    return _published.pop(message, None)


def remembered() -> int:
    """How many messages are remembered now."""
    return len(_published)

"""A step's log lines as server-sent `line` events, and the live message that carries a batch of them.

The server that stores a batch renders its events once and publishes them as they are: every viewer, on
every server, sends the same text without decoding or rendering anything (a million-line log is a million
events per viewer).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from json.encoder import encode_basestring_ascii
from typing import NamedTuple

_HEADER = "lines "
"""How a live message of log lines starts: `lines <first> <count>\n`, then the `line` events."""
_END = "\n\n"
"""What ends every event (no event holds it elsewhere: the text in it is JSON-escaped)."""


def line_event(position: int, seconds: float, text: str) -> str:
    """The `line` event of a log line (as `sse("line", json.dumps(line_view(...)), position)` writes it)."""
    time_json = repr(seconds) if math.isfinite(seconds) else json.dumps(seconds)
    out = encode_basestring_ascii(text)
    return f'event: line\nid: {position}\ndata: {{"pos": {position}, "time": {time_json}, "out": {out}}}\n\n'


def line_events(lines: Iterable[tuple[int, float, str]]) -> str:
    """The `line` events of (position, seconds, text) lines, one after the other."""
    return "".join([line_event(position, float(seconds), str(text)) for position, seconds, text in lines])


def lines_message(first: int, lines: Sequence[tuple[float, str]]) -> str:
    """The live message of a stored batch: lines `first`, `first + 1`… as (seconds, text)."""
    events = "".join(
        [
            line_event(position, float(seconds), str(text))
            for position, (seconds, text) in enumerate(lines, first)
        ]
    )
    return f"{_HEADER}{first} {len(lines)}\n{events}"


class LiveLines(NamedTuple):
    """A live message read back: its first position, how many lines it holds, their events as sent."""

    first: int
    size: int
    events: str

    def since(self, position: int) -> str:
        """The events of the lines from `position` on (`position` within the batch)."""
        skip = position - self.first
        if skip <= 0:
            return self.events
        rest = self.events.split(_END, skip)[-1]
        return rest if skip < self.size else ""


def read_lines_message(message: str) -> LiveLines | None:
    """The lines of a live message; None for any other message on the channel (such as the step's end)."""
    if not message.startswith(_HEADER):
        return None
    header, _, events = message.partition("\n")
    try:
        first, count = (int(number) for number in header.removeprefix(_HEADER).split())
    except ValueError:
        return None
    return LiveLines(first, count, events)

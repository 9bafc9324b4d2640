"""Live views as server-sent events: a build's state changes, and a step's log lines as they come.

Both subscribe to their broker channel before reading the database, so nothing that happens in between is
missed; pub/sub messages are hints only, and the database is read again every few seconds.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import operator
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, filterfalse, repeat
from json.encoder import encode_basestring_ascii
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from pipelines.status import Status
from server.api.access import build_detail, readable_build, readable_step
from server.api.common import parse_number, query_int, services
from server.changes import build_view
from server.db.models import Step
from server.keys import build_channel, log_channel
from server.live_hints import take_published
from server.services import Services
from server.store.builds import find_build_by_id
from server.store.logs import read_chunk_texts

KEEP_ALIVE_SECONDS = 15.0
"""A comment is sent after this long without an event, so proxies keep the connection open."""
POLL_SECONDS = 5.0
"""The database is read after this long without a live message that moved the stream on (a lost pub/sub
message only delays); new lines and a step's end come as pub/sub messages, so this is only the guard. While
lines flow in order it is not read: a viewer behind would read again the lines its queue holds."""
PAGE_LINES = 5000
"""Log lines read from the database at a time (at least: the chunks holding them are read whole)."""
LIVE_BATCHES = 8
"""Live log messages (a runner's batch each, up to 1 MiB) held for one viewer. A viewer that falls behind
(reading the database, or on a slow connection) must not hold every batch sent meanwhile: the ones dropped
are read back from the database."""
WRITE_BYTES = 256 * 1024
"""The most a stream writes at a time: each write is copied once more (HTTP chunked encoding) and held while
a viewer is slow to read, so each viewer of a step holds a quarter of a batch rather than all of it."""
Chunk = str | bytes | memoryview
"""What a stream writes: log lines come encoded already (and shared by the step's viewers)."""
KEEP_ALIVE = ": keep-alive\n\n"
RETRY = "retry: 3000\n\n"
DONE_STATUSES = frozenset(status.value for status in Status if status.is_done)


def sse(event: str, data: str, event_id: int | None = None) -> str:
    """One server-sent event."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head + "".join(f"data: {part}\n" for part in data.split("\n")) + "\n"


def event_stream(events: AsyncIterator[str] | AsyncIterator[Chunk]) -> Response:
    """A `text/event-stream` response that proxies must not buffer."""
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def build_events(request: Request) -> Response:
    """`snapshot` (the build as `GET` shows it), then `build`, `stage` and `step` changes until it ends."""
    _repo, build = await readable_build(request)
    return event_stream(follow_build(services(request), build.id or 0))


async def follow_build(hangar: Services, build_id: int) -> AsyncIterator[str]:
    """The events of one build; ends after the build's own event with a finished status."""
    async with hangar.broker.listen(build_channel(build_id)) as queue:
        async with hangar.reading() as session:
            build = await find_build_by_id(session, build_id)
            if build is None:
                return
            snapshot = await build_detail(session, build)
        yield RETRY + sse("snapshot", json.dumps(snapshot))
        if build.finished is not None:
            return
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                async with hangar.reading() as session:
                    build = await find_build_by_id(session, build_id)
                if build is None:
                    return
                if build.finished is not None:  # its own event was lost
                    yield sse("build", json.dumps(build_view(build)))
                    return
                yield KEEP_ALIVE
                continue
            change = _decode(message)
            kind = str(change.get("type", "message"))
            yield sse(kind, message)
            if kind == "build" and change.get("status") in DONE_STATUSES:
                return


async def log_stream(request: Request) -> Response:
    """Every line of a step's log once and in order (`line` events), then `done` with the step's status."""
    _repo, _build, _stage, step = await readable_step(request)
    return event_stream(follow_log(services(request), step.id or 0, resume_position(request)))


def resume_position(request: Request) -> int:
    """The first line to send: after `Last-Event-ID` (a browser reconnecting), else `?start=`, else 0."""
    last = request.headers.get("last-event-id", "").strip()
    if not last:
        return query_int(request, "start", 0) or 0
    value = parse_number(last)
    if value is None:
        raise HTTPException(400, f"Last-Event-ID must be a line position, not {last[:40]!r}")
    return value + 1


async def follow_log(hangar: Services, step_id: int, start: int) -> AsyncIterator[Chunk]:
    """The step's lines from `start`: stored ones, then live ones; a gap in the live ones is read back."""
    position = start
    quiet_since = time.monotonic()
    async with hangar.broker.listen(log_channel(step_id), maxsize=LIVE_BATCHES) as queue:
        while True:
            async with hangar.reading() as session:
                step = await session.get(Step, step_id)
                chunks = await read_chunk_texts(session, step_id, position, PAGE_LINES) if step else []
            if step is None:
                return
            if step.log_lines < position and not chunks:  # its stage was restarted: a new log begins
                yield sse("reset", json.dumps({"reason": "the step runs again"}))
                position = 0
                continue
            page_start = position
            for first, lines in chunks:  # one write per chunk, not one per line
                rendered = _rendered_chunk(first, lines)
                for part in rendered.since(position):
                    yield part
                position = rendered.end
                quiet_since = time.monotonic()
            if position - page_start >= PAGE_LINES:
                continue
            if step.status in DONE_STATUSES and position >= step.log_lines:
                yield sse("done", json.dumps({"status": step.status, "exit_code": step.exit_code}))
                return
            deadline = time.monotonic() + POLL_SECONDS
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    message = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    break
                live = _rendered(message)
                if (
                    live is None or live.first > position
                ):  # the step ended, or lines were missed: read the database
                    break
                if live.end > position:
                    for part in live.since(position):
                        yield part
                    position = live.end
                    quiet_since = time.monotonic()
                    deadline = quiet_since + POLL_SECONDS  # lines flow in order: the database has no more
            if time.monotonic() - quiet_since >= KEEP_ALIVE_SECONDS:
                yield KEEP_ALIVE
                quiet_since = time.monotonic()


@dataclass(frozen=True)
class RenderedLines:
    """Consecutive log lines as `line` events, encoded once for every viewer of the step."""

    first: int
    count: int
    events: bytes

    @property
    def end(self) -> int:
        """The position after the last line."""
        return self.first + self.count

    def since(self, position: int) -> Iterator[memoryview]:
        """The events from line `position` (at least `first`) on, in writes of `WRITE_BYTES`, not copied."""
        events = memoryview(self.events)
        for offset in range(self.start_of(position), len(events), WRITE_BYTES):
            yield events[offset : offset + WRITE_BYTES]

    def start_of(self, position: int) -> int:
        """Where the event of line `position` starts in `events` (its end when past the last line): found when
        asked, as a viewer joins within a batch, rather than measured for every line of every batch."""
        if position <= self.first:
            return 0
        if position >= self.end:
            return len(self.events)
        # An event's head holds newlines, which a line's text (JSON) cannot: it is found at its event only.
        return self.events.find(b"%s%d\n" % (_EVENT_ID.encode(), position))


def render(first: int, lines: Iterable[Sequence[Any]]) -> RenderedLines:
    """Lines ([seconds, text] each) from position `first` as `line` events: `sse("line",
    json.dumps(line_view(...)), position)` each, written directly and a batch at a time (a million-line log
    is a million of them per viewer: C-level maps, no Python call per line)."""
    rows = lines if isinstance(lines, list) else list(lines)
    count = len(rows)
    seconds = list(map(_SECONDS, rows))
    # A batch's lines share a few times (a runner stamps each read it makes): each is written once.
    distinct = set(seconds)
    written = dict(zip(distinct, map(repr, map(float, distinct)), strict=True))  # json.dumps writes repr
    for stamp in filterfalse(
        math.isfinite, distinct
    ):  # but Infinity, NaN: rare, so checked by C, not written
        written[stamp] = json.dumps(float(stamp))
    times = map(written.__getitem__, seconds)
    texts = map(encode_basestring_ascii, map(_TEXT, rows))
    ids = list(map(str, range(first, first + count)))
    # The events' pieces in order, joined at once (a third faster than formatting each event).
    pieces = zip(
        repeat(_EVENT_ID), ids, repeat(_POS), ids, repeat(_TIME), times, repeat(_OUT), texts, repeat(_END),
    )  # fmt: skip
    return RenderedLines(first, count, "".join(chain.from_iterable(pieces)).encode("ascii"))


_SECONDS, _TEXT = operator.itemgetter(0), operator.itemgetter(1)
_EVENT_ID, _POS, _TIME, _OUT, _END = (
    "event: line\nid: ",
    '\ndata: {"pos": ',
    ', "time": ',
    ', "out": ',
    "}\n\n",
)
"""A line event's fixed pieces: `event: line`, `id: N`, `data: {"pos": N, "time": T, "out": TEXT}`."""


def _decode(message: str) -> dict[str, Any]:
    try:
        data = json.loads(message)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@functools.lru_cache(maxsize=2)
def _rendered(message: str) -> RenderedLines | None:
    """A live log message's lines as `line` events (None when it is not one: the step's end).

    Every viewer of the step gets the same message object: it is decoded and rendered once for all of them.
    """
    if (known := take_published(message)) is not None:
        rendered = render(*known)
        return rendered if rendered.events else None
    data = _decode(message)
    try:
        rendered = render(int(data["first"]), data["lines"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    return rendered if rendered.events else None


@functools.lru_cache(maxsize=2)
def _rendered_chunk(first: int, lines: str) -> RenderedLines:
    """A stored chunk's lines (as JSON text) as `line` events: viewers reading the log back, behind the live
    lines, read the same chunks one after the other, and it is decoded and rendered once for all of them."""
    return render(first, json.loads(lines))


PATH = "/repos/{owner}/{name}/builds/{number}"
routes = [
    Route(PATH + "/events", build_events, methods=["GET"]),
    Route(PATH + "/logs/{stage}/{step}/stream", log_stream, methods=["GET"]),
]

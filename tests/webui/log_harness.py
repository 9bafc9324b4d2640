"""A small server for the log viewer's browser tests: the build page's log section and the log API in memory.

The test owns a `HarnessLog` (the step's lines, whether it has finished) and changes it while the page is
open: appends lines, ends or restarts the step, drops the live stream or has it answer 502 like a restarting
server. `serve(log)` runs the Starlette app with uvicorn in a thread on a free loopback port.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parents[2] / "webui" / "static"
LOG_API = "/api/repos/o/n/builds/7/logs/1/2"
PAGE_PATH = "/build"
RENDERED_LINES = 50
"""Lines the page renders itself (for readers without JavaScript); the viewer replaces them."""
SEARCH_LIMIT = 1000
RETRY_MS = 250
"""The reconnection delay the stream asks browsers for (short, so tests that drop it stay quick)."""
POLL_SECONDS = 0.02
KEEP_ALIVE_POLLS = 50
ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b.")

Line = tuple[float, str]
"""Seconds since the step started, and the raw text (with ANSI escapes)."""


@dataclass(frozen=True)
class GeneratedLines:
    """A long log made up on demand, so a million lines cost no memory: line i is `text(i)` at i/10 s."""

    count: int
    text: Callable[[int], str]

    def __len__(self) -> int:
        """How many lines the log has."""
        return self.count

    def __getitem__(self, position: int) -> Line:
        """The line at a 0-based position."""
        if not 0 <= position < self.count:
            raise IndexError(position)
        return position / 10, self.text(position)


@dataclass(frozen=True)
class StreamRequest:
    """One request for the live stream, as the harness answered it."""

    start: int | None  # ?start=
    last_event_id: int | None  # the Last-Event-ID header of a browser reconnecting by itself
    status: int


@dataclass
class HarnessLog:
    """The step log the harness serves; the test changes it while the page is open."""

    lines: list[Line] | GeneratedLines = field(default_factory=list)
    done: dict[str, Any] | None = None
    """The `done` event's data once the step has finished; None while it runs."""
    fail_streams: int = 0
    """The next this many stream requests are answered 502 (a server restarting behind a proxy)."""
    replay_on_resume: int = 0
    """A stream resumed with Last-Event-ID starts this many lines early (the viewer must drop the copies)."""
    skip_once: set[int] = field(default_factory=set)
    """Positions the stream leaves out (once): the viewer must notice the gap and fetch it."""
    stream_requests: list[StreamRequest] = field(default_factory=list)
    open_streams: int = 0
    closing: bool = False
    _drops: int = 0
    _restarts: int = 0

    def append(self, text: str, seconds: float | None = None) -> None:
        """A new line of the running step."""
        assert isinstance(self.lines, list), "only a list of lines grows"
        self.lines.append((len(self.lines) / 10 if seconds is None else seconds, text))

    def finish(self, status: str = "success", exit_code: int = 0) -> None:
        """The step ends: open streams send what is left, then `done`."""
        self.done = {"status": status, "exit_code": exit_code}

    def restart(self, lines: list[Line]) -> None:
        """The step runs again: a new log begins; open streams send `reset`, then the new lines."""
        self.lines = list(lines)
        self.done = None
        self._restarts += 1

    def drop_streams(self) -> None:
        """End every open stream now (the connection closes, as when a server goes away)."""
        self._drops += 1

    def search(self, query: str) -> dict[str, Any]:
        """The positions of lines whose text without escapes contains query (case-insensitive)."""
        needle = query.casefold()
        matches: list[int] = []
        lines = self.lines
        for position in range(len(lines)):
            if needle in ANSI_ESCAPE.sub("", lines[position][1]).casefold():
                if len(matches) == SEARCH_LIMIT:
                    return {"matches": matches, "truncated": True}
                matches.append(position)
        return {"matches": matches, "truncated": False}

    async def events(self, position: int) -> AsyncIterator[str]:
        """The live stream from a position: lines, `reset` when restarted, `done` at the end."""
        drops, restarts = self._drops, self._restarts
        self.open_streams += 1
        try:
            yield f"retry: {RETRY_MS}\n\n"
            polls = 0
            while not self.closing and drops == self._drops:
                if restarts != self._restarts:
                    restarts, position = self._restarts, 0
                    yield sse("reset", {"reason": "the step runs again"})
                    continue
                lines = self.lines
                if position < len(lines):
                    chunk: list[str] = []
                    while position < len(lines) and len(chunk) < 500:
                        if position in self.skip_once:
                            self.skip_once.discard(position)
                        else:
                            chunk.append(line_event(position, lines[position]))
                        position += 1
                    if chunk:
                        yield "".join(chunk)
                    continue
                if self.done is not None:
                    yield sse("done", self.done)
                    return
                await asyncio.sleep(POLL_SECONDS)
                polls += 1
                if polls % KEEP_ALIVE_POLLS == 0:
                    yield ": keep-alive\n\n"
        finally:
            self.open_streams -= 1


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    """One server-sent event."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return f"{head}data: {json.dumps(data)}\n\n"


def line_event(position: int, line: Line) -> str:
    """A `line` event, its id the line's position (what the browser sends back as Last-Event-ID)."""
    return sse("line", {"pos": position, "time": line[0], "out": line[1]}, event_id=position)


def page_html(log: HarnessLog) -> str:
    """The build page's log section as the server renders it, with the viewer's assets."""
    lines = log.lines
    rendered = "".join(
        f'<div class="line" id="L{n}"><a class="ln" href="#L{n}">{n}</a><span class="time">'
        f'{lines[n - 1][0]:.1f}s</span><span class="text">{html.escape(lines[n - 1][1])}</span></div>'
        for n in range(1, min(len(lines), RENDERED_LINES) + 1)
    )
    pages = f'<nav class="log-pages">Lines 1-{RENDERED_LINES}: <a href="?start=50">next</a></nav>'
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Build 7 · Hangar</title>
<link rel="stylesheet" href="/static/hangar.css">
<link rel="stylesheet" href="/static/ansi.css">
<link rel="stylesheet" href="/static/log-viewer.css">
<script src="/static/log-viewer.js"></script>
<script>
  document.addEventListener("DOMContentLoaded", () => HangarLog.mount(document.getElementById("log")));
</script>
</head><body><main style="max-width: 1100px; margin: 1rem auto">
<section id="log" class="log" data-log-url="{LOG_API}" data-stream-url="{LOG_API}/stream"
         data-search-url="{LOG_API}/search" data-lines="{len(lines)}" data-done="{"1" if log.done else "0"}"
         data-started="1790000000.5">
  <div class="log-toolbar">
    <form class="log-search" method="get">
      <input type="search" name="q" aria-label="Search the log"><button>Search</button>
    </form>
    <span class="log-search-result" aria-live="polite"></span>
    <label><input type="checkbox" class="log-times"> Timestamps</label>
    <label><input type="checkbox" class="log-follow"> Follow</label>
    <a class="log-download" href="{LOG_API}?format=text" download>Raw</a>
  </div>
  <div class="log-body" tabindex="0">{rendered}</div>
  {pages if len(lines) > RENDERED_LINES else ""}
</section></main></body></html>"""


def query_int(request: Request, name: str, default: int) -> int:
    """A non-negative integer query parameter."""
    return max(0, int(request.query_params.get(name, default)))


def harness_app(log: HarnessLog) -> Starlette:
    """The page, the log API (pages, search, live stream) and webui/static."""

    async def page(_request: Request) -> Response:
        return HTMLResponse(page_html(log))

    async def log_lines(request: Request) -> Response:
        lines = log.lines
        start = query_int(request, "start", 0)
        end = min(len(lines), start + min(query_int(request, "limit", 1000), 10_000))
        if request.query_params.get("format") == "text":
            return PlainTextResponse("".join(lines[pos][1] + "\n" for pos in range(start, end)))
        return JSONResponse(
            [{"pos": pos, "time": lines[pos][0], "out": lines[pos][1]} for pos in range(start, end)]
        )

    async def search(request: Request) -> Response:
        return JSONResponse(log.search(request.query_params.get("q", "")))

    async def stream(request: Request) -> Response:
        header = request.headers.get("last-event-id", "").strip()
        last = int(header) if header else None
        start = int(request.query_params["start"]) if "start" in request.query_params else None
        if log.fail_streams > 0:
            log.fail_streams -= 1
            log.stream_requests.append(StreamRequest(start, last, 502))
            return PlainTextResponse("bad gateway", status_code=502)
        log.stream_requests.append(StreamRequest(start, last, 200))
        position = max(0, last + 1 - log.replay_on_resume) if last is not None else start or 0
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(log.events(position), media_type="text/event-stream", headers=headers)

    return Starlette(
        routes=[
            Route(PAGE_PATH, page),
            Route(LOG_API, log_lines),
            Route(LOG_API + "/search", search),
            Route(LOG_API + "/stream", stream),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )


@contextlib.contextmanager
def serve(log: HarnessLog) -> Iterator[str]:
    """The harness on a free 127.0.0.1 port in a thread; yields its base URL, and stops it on leaving."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        harness_app(log), log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="log-harness", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the log harness server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        log.closing = True  # open streams end, so the server can stop
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("the log harness server did not stop")

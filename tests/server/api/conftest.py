"""REST API fixtures: a client that keeps every body, both databases, a real server for SSE and its reader."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from server.app import create_app
from server.services import Services
from tests.server.conftest import make_settings, opened


class RecordingClient(httpx.AsyncClient):
    """An API client that keeps every response body, so a test can show a secret never came back."""

    def __init__(self, **options: Any) -> None:
        self.bodies: list[str] = []
        super().__init__(event_hooks={"response": [self._record]}, **options)

    async def _record(self, response: httpx.Response) -> None:
        self.bodies.append((await response.aread()).decode())

    def assert_never_shown(self, *values: str) -> None:
        """Fail when any response so far contained one of `values`."""
        assert self.bodies, "no responses were recorded"
        for value in values:
            shown = [body for body in self.bodies if value in body]
            assert not shown, f"{value!r} appeared in a response: {shown[0][:300]}"


@pytest.fixture
async def api(hangar: Services, redis_url: str) -> AsyncIterator[RecordingClient]:
    """An in-process client of the application over SQLite."""
    app = create_app(hangar.settings, redis_url, hangar)
    async with RecordingClient(transport=httpx.ASGITransport(app=app), base_url="http://hangar.test") as http:
        yield http


@pytest.fixture
async def hangar_each_db(database_url: str, tmp_path: Path, redis_url: str) -> AsyncIterator[Services]:
    """The services over SQLite, and again over PostgreSQL."""
    async with opened(make_settings(str(tmp_path / "data"), database_url), redis_url) as services:
        yield services


@pytest.fixture
async def api_each_db(hangar_each_db: Services, redis_url: str) -> AsyncIterator[RecordingClient]:
    """An in-process client of the application over each database."""
    app = create_app(hangar_each_db.settings, redis_url, hangar_each_db)
    async with RecordingClient(transport=httpx.ASGITransport(app=app), base_url="http://hangar.test") as http:
        yield http


class _QuietServer(uvicorn.Server):
    """Leaves the test process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[int]:
    """The application served by uvicorn on 127.0.0.1 for the block: its port."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn did not start")
            await asyncio.sleep(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def live(hangar: Services, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the application served by uvicorn on 127.0.0.1 (httpx's ASGITransport buffers streams)."""
    async with (
        served(create_app(hangar.settings, redis_url, hangar)) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=30) as http,
    ):
        yield http


@dataclass(frozen=True)
class Event:
    """One server-sent event."""

    name: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        """The data as JSON."""
        return json.loads(self.data)


class EventReader:
    """Reads server-sent events off a streaming response, one at a time."""

    def __init__(self, response: httpx.Response) -> None:
        assert response.status_code == 200, response.status_code
        assert response.headers["content-type"].startswith("text/event-stream")
        self._lines = response.aiter_lines()

    async def next(self, timeout: float = 30.0) -> Event | None:
        """The next event; None when the stream ended. Fails the test when none comes within `timeout`."""
        name, data, event_id = "message", list[str](), None
        async with asyncio.timeout(timeout):
            while True:
                try:
                    line = await anext(self._lines)
                except StopAsyncIteration:
                    return None
                if not line:
                    if data:
                        return Event(name, "\n".join(data), event_id)
                    name, event_id = "message", None
                    continue
                if line.startswith(":"):
                    continue
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "data":
                    data.append(value)
                elif field == "event":
                    name = value
                elif field == "id":
                    event_id = value

    async def take(self, count: int) -> list[Event]:
        """The next `count` events; fails when the stream ends before."""
        events: list[Event] = []
        for _ in range(count):
            event = await self.next()
            assert event is not None, f"the stream ended after {len(events)} of {count} events"
            events.append(event)
        return events

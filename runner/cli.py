"""`hangar exec`: run a pipeline file here, on the local Docker engine, this folder as the workspace."""

from __future__ import annotations

import asyncio
import atexit
import gc
import os
import sys
import threading
from pathlib import Path
from typing import NoReturn

import click

from pipelines import BuildContext, Compilation, ConfigError, Plan
from pipelines.cli import default_config_file, read_configuration
from pipelines.configuration import compile_configuration
from pipelines.gc_tuning import settle_start_up
from pipelines.local import local_context
from runner.console import PipeSafeConsole
from runner.early_network import EarlyNetwork
from runner.labels import OWNER_LABEL, owner_label

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
    plans = [_with_environment(plan, environment) for plan in _selected(compilation, pipelines)]
    early = EarlyNetwork.begin({OWNER_LABEL: owner_label()})  # made while the runner's modules load
    try:
        from runner.exec_run import run_pipelines  # noqa: PLC0415 (~200 ms of imports, beside the network's)

        # what start-up made lives until the end (its imports ran with the collector paused: no collection);
        # a big log is thousands of lines a read, in no cycle
        settle_start_up(collect=False)
        ok = run_pipelines(
            plans,
            context,
            _console,
            secrets=secret_values,
            timeout=timeout,
            artifacts_dir=artifacts_dir,
            no_cache=no_cache,
            early=early,
        )
    except (asyncio.CancelledError, KeyboardInterrupt):
        _console.print("[yellow]killed: every container, network and volume of the run was removed[/]")
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if early is not None:
            early.discard()
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

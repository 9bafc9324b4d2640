"""`hangar exec`'s run: the pipelines on the local Docker engine, one stage after another (runner.cli loads it
once the command line and the pipeline file are read, while the first stage's network is being made)."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import BuildContext, Plan
from pipelines.report import StageReport
from pipelines.stage_rules import stage_should_run
from pipelines.status import Status
from runner.artifact_stores import FolderArtifacts
from runner.artifacts import ArtifactOptions
from runner.caches.setup import disk_setup, local_policy, user_cache_dir
from runner.console import ConsoleReporter
from runner.docker import DockerEngine
from runner.docker.leftovers import remove_orphans
from runner.early_network import EarlyNetwork
from runner.engine import EngineError
from runner.executor import StageOptions, run_stage
from runner.labels import OWNER_LABEL, owner_label
from runner.rules import stage_order
from runner.workspace import local_workspace

if TYPE_CHECKING:
    from rich.console import Console


def run_pipelines(
    plans: list[Plan],
    context: BuildContext,
    console: Console,
    *,
    secrets: dict[str, str],
    timeout: float,
    artifacts_dir: Path | None,
    no_cache: bool,
    early: EarlyNetwork | None,
) -> bool:
    """Run the pipelines here, this folder as the workspace; True when all succeeded (or were skipped)."""
    options = StageOptions(
        secrets=secrets,
        labels={OWNER_LABEL: owner_label()},
        timeout=timeout * 60,
        artifacts=ArtifactOptions(FolderArtifacts(artifacts_dir.resolve())) if artifacts_dir else None,
    )
    if not no_cache:  # caches on this machine, a folder per project
        policy = local_policy(Path.cwd(), context.branch, context.repo.default_branch)
        options = replace(options, cache=disk_setup(policy, user_cache_dir("exec")))
    return asyncio.run(_run_all(plans, options, Path.cwd(), console, early))


async def _run_all(
    plans: list[Plan], options: StageOptions, root: Path, console: Console, early: EarlyNetwork | None
) -> bool:
    """Run the pipelines one after another, respecting their `depends_on`; True when all succeeded."""
    try:
        engine = await DockerEngine.connect()
    except EngineError as exc:
        console.print(f"[red]error:[/] {exc}")
        return False
    if early is not None:
        await engine.adopt_network(early)
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    current = asyncio.current_task()
    presses = 0

    def interrupted() -> None:
        nonlocal presses
        presses += 1
        if presses == 1:
            console.print("[yellow]stopping: the running steps get a grace period (Ctrl-C again to kill)[/]")
            cancel.set()
        elif current is not None:
            current.cancel()

    loop.add_signal_handler(signal.SIGINT, interrupted)
    loop.add_signal_handler(signal.SIGTERM, interrupted)
    outcomes: dict[str, Status] = {}
    try:
        # the sweep runs beside the first stage: it touches only orphans
        sweep = asyncio.create_task(_sweep(engine, console))
        by_name = {plan.stage.name: plan for plan in plans}
        order = stage_order({name: plan.stage.depends_on for name, plan in by_name.items()})
        reporter = _ExecReporter(console, engine, last_stage=order[-1])
        for name in order:
            plan = by_name[name]
            upstream = [outcomes[dep] for dep in plan.stage.depends_on if dep in outcomes]
            if cancel.is_set() or not stage_should_run(plan.stage.run_policy, upstream):
                outcomes[name] = Status.SKIPPED
                console.print(reporter.outcome(name, Status.SKIPPED, None, None))
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


async def _sweep(engine: DockerEngine, console: Console) -> None:
    """Remove stages left by crashed runs on this host, and say so."""
    try:
        removed = await remove_orphans(engine.docker)
    except EngineError as exc:
        console.print(f"[yellow]could not look for leftovers of crashed runs: {exc}[/]")
        return
    if removed:
        console.print(f"[dim]removed {len(removed)} stage(s) left by crashed runs[/]")

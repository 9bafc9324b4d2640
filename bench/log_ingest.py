"""Benchmark: the server's side of a big log alone, without Docker: a stand-in runner posts the lines as
fast as the server takes them, while live viewers follow the step's stream.

Run: `.venv/bin/python -m bench.log_ingest [--megabytes 100] [--viewers 3]`. `hangar up --no-runner` gets a
build of bench.big_log's pipeline; this process takes its stage through the runner API and hands numbered
lines (100 bytes each) to the runner's own RemoteReporter, in pieces of 100 lines as an engine gives them,
so the requests (`POST /stages/{id}/reports` with log batches) are the runner's. Measured: the wall time
from the first line to every line stored (the reporter's flush), and to every viewer done; the server's CPU
seconds (utime + stime of `hangar up`) over that span; lines/s; the server's peak RSS (reset at the start).
There is no baseline: the figure to compare is lines/s and CPU seconds, against the same run on `main`.
Checked: the stored log and every viewer hold every numbered line once, in order.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from bench.big_log import (
    LINE_BYTES,
    LineCheck,
    Viewer,
    follow,
    memory_mib,
    pipeline,
    reset_peak,
    stored_check,
    wait_for_step,
)
from bench.server_support import BenchFailure, Site, console, cpu_times, fail_with_logs, hangar_site
from pipelines.report import LogLine, StageReport, StepReport
from pipelines.runner_api import RunnerInfo
from pipelines.status import Status
from runner.client import RunnerClient
from runner.remote import RemoteReporter
from tests.conftest import running_services
from tests.e2e.processes import RUNNER_SECRET

PIECE_LINES = 100
"""Lines handed to the reporter at a time (an engine's read gives a few dozen to a few hundred)."""


@dataclass
class Ingest:
    """What the server's side of a big log cost."""

    lines: int
    stored_seconds: float
    viewers_seconds: float
    server_cpu_seconds: float
    server_peak_mib: float
    stored: LineCheck
    viewers: list[Viewer]


async def post_lines(url: str, lines: int) -> float:
    """Take the build's stage as a runner and report its one step printing `lines` numbered lines; the
    seconds from the first line to the last one delivered (stored)."""
    async with RunnerClient(url, RUNNER_SECRET, "ingest-bench") as client:
        offer = None
        while offer is None:
            offer = await client.request(RunnerInfo())
        assignment = await client.accept(offer.stage_id, offer.version)
        if assignment is None:
            raise RuntimeError("the stage was taken by someone else")
        first = assignment.plan.steps[0]
        reporter = RemoteReporter(client, assignment.stage_id, lease=assignment.lease)
        try:
            started = time.time()
            step = StepReport(number=first.number, name=first.name, status=Status.RUNNING, started=started)
            stage = StageReport(
                number=1, name="big-log", status=Status.RUNNING, started=started, steps=[step]
            )
            await reporter.stage_updated(stage)
            pad = "x" * (LINE_BYTES - 11)
            begun = time.monotonic()
            for start in range(0, lines, PIECE_LINES):
                piece = [
                    LogLine(n, 0.001 * n, f"{n:09d} {pad}")
                    for n in range(start, min(start + PIECE_LINES, lines))
                ]
                await reporter.step_output(step, piece)
            if not await reporter.flush(600):
                raise RuntimeError("the lines were not delivered")
            stored = time.monotonic() - begun
            ended = time.time()
            done = step.model_copy(update={"status": Status.SUCCESS, "exit_code": 0, "finished": ended})
            final = stage.model_copy(update={"status": Status.SUCCESS, "finished": ended, "steps": [done]})
            await reporter.step_updated(done)
            if not await reporter.finish(final, 60):
                raise RuntimeError("the stage's end was not delivered")
        finally:
            await reporter.close()
    return stored


def posted_seconds(url: str, lines: int) -> float:
    """`post_lines` in a process of its own (the viewers' parsing must not slow the stand-in runner)."""
    return asyncio.run(post_lines(url, lines))


async def ingest(site: Site, lines: int, watchers: list[Viewer]) -> tuple[float, float]:
    """Post the lines while the viewers follow: (seconds to every line stored, to every viewer done)."""
    begun = time.monotonic()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        poster = asyncio.get_running_loop().run_in_executor(pool, posted_seconds, site.hangar.url, lines)
        await asyncio.to_thread(wait_for_step, site)
        following = asyncio.gather(*(follow(site.hangar.url, viewer) for viewer in watchers))
        stored = await poster
        await asyncio.wait_for(following, 600)
    return stored, time.monotonic() - begun


def run_ingest(folder: Path, megabytes: float, viewers: int) -> Ingest:
    """`hangar up --no-runner`, one build whose lines this process posts while `viewers` follow them."""
    lines = int(megabytes * 1_000_000 / LINE_BYTES)
    with hangar_site(folder, "--no-runner") as site:
        pid = site.hangar.process.pid
        before, sha = site.repo.push({".ci.yml": pipeline(lines)}, "big log")
        site.hook(before, sha, "big log")
        reset_peak(pid)
        cpu = cpu_times(pid).own
        watchers = [Viewer() for _ in range(viewers)]
        stored, seen = asyncio.run(ingest(site, lines, watchers))
        used = cpu_times(pid).own - cpu
        peak = memory_mib(pid)
        return Ingest(lines, stored, seen, used, peak, stored_check(site), watchers)


def report(result: Ingest, megabytes: float) -> Table:
    """The figures as a table."""
    table = Table(
        title=f"the server's side of {megabytes:g} MB ({result.lines:,} lines), {len(result.viewers)} viewers"
    )
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("first line → every line stored", f"{result.stored_seconds:.2f} s")
    table.add_row("[bold]  lines/s stored[/]", f"{result.lines / result.stored_seconds:,.0f}")
    table.add_row("hook → every viewer done", f"{result.viewers_seconds:.2f} s")
    table.add_row("[bold]server CPU seconds[/] (hook → viewers done)", f"{result.server_cpu_seconds:.2f} s")
    table.add_row("peak RSS of hangar up (goal ≤ 150 MiB)", f"{result.server_peak_mib:.0f} MiB")
    for index, viewer in enumerate(result.viewers, start=1):
        table.add_row(f"viewer {index}: events, reconnects", f"{viewer.events:,}, {viewer.reconnects}")
    return table


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=float, default=100, help="log size in MB (default 100)")
    parser.add_argument("--viewers", type=int, default=3, help="live viewers of the stream (default 3)")
    args = parser.parse_args()
    with running_services():
        try:
            status = console.status(f"{args.megabytes:g} MB posted to Hangar, {args.viewers} viewers…")
            with tempfile.TemporaryDirectory(prefix="hangar-bench-") as folder, status:
                result = run_ingest(Path(folder), args.megabytes, args.viewers)
        except BenchFailure as failure:
            fail_with_logs(failure)
    console.print(report(result, args.megabytes))
    checks = [("the stored log", result.stored)] + [
        (f"viewer {index}", viewer.check) for index, viewer in enumerate(result.viewers, start=1)
    ]
    problems = [
        f"{name}: {check.problem or f'{check.expected} of {result.lines} lines'}"
        for name, check in checks
        if check.problem or check.expected != result.lines
    ]
    for problem in problems:
        console.print(f"[bold red]lost or out of order:[/] {problem}")
    if problems:
        raise SystemExit(1)
    console.print("[green]every line stored once and in order, and seen so by every viewer[/]")


if __name__ == "__main__":
    main()

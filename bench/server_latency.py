"""Benchmark: how soon a webhook gets a step container running, and a one-step build end to end, against plain
`docker` on the same engine in the same run.

Run: `.venv/bin/python -m bench.server_latency [--runs N]` (starts the test services if they are not running).
`hangar up` (with its local runner) builds `octo/app`, whose `.ci.yml` has one busybox step (`echo hi`).
Each round pushes a commit, sends its signed webhook, and polls the build every 20 ms until it has finished;
then it times `docker run --rm busybox sh -c 'echo hi'` and the start latency of `docker run -d` of the same
(issue to State.StartedAt), so the three share the machine's noise. Printed:
1. webhook POST → the step's `started` (the runner reports it once the container has started), p50/p95,
   against `docker run -d` → State.StartedAt;
2. webhook POST → build finished as seen by the polling client, against the `docker run --rm` wall time
   (goal: at most 1.3 times), beside Buildbot's hook → build complete (one worker, a 20 ms poll, its builder's
   one step the same `docker run --rm`: see bench/peer_buildbot.py), measured in each round too, after
   Hangar's build; then where the median build's time went, beside each interval's median and p95 over all
   the builds (steadier on a busy machine). `--no-peer` leaves Buildbot out.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from rich.table import Table

from bench.peer_buildbot import Buildbot, Latency, PeerUnavailable, not_measured, optional_buildbot
from bench.server_support import (
    STEP,
    BenchFailure,
    Site,
    console,
    docker,
    docker_run_seconds,
    docker_start_latency,
    fail_with_logs,
    hangar_site,
    median,
    ms,
    percentile,
    progress,
    ratio,
)
from tests.conftest import running_services


@dataclass(frozen=True)
class Round:
    """One build: when its webhook was posted, when the poller saw it finished, the build as the API shows."""

    posted: float
    seen: float
    build: dict[str, Any]

    def step(self, name: str) -> dict[str, Any]:
        """The step called `name` of the build's only stage."""
        return next(step for step in self.build["stages"][0]["steps"] if step["name"] == name)

    @property
    def to_container(self) -> float:
        """Seconds from the webhook POST to the step's container started."""
        return float(self.step(STEP)["started"]) - self.posted

    @property
    def end_to_end(self) -> float:
        """Seconds from the webhook POST to the poller seeing the build finished."""
        return self.seen - self.posted

    def breakdown(self) -> list[tuple[str, float]]:
        """Where the time went, interval by interval, from the API's timestamps; the intervals add up."""
        stage, clone, step = self.build["stages"][0], self.step("clone"), self.step(STEP)
        marks = [
            ("webhook POST", self.posted),
            ("build created", self.build["created"]),
            ("stage started", stage["started"]),
            ("clone started", clone["started"]),
            ("clone finished", clone["finished"]),
            ("step container started", step["started"]),
            ("step finished", step["finished"]),
            ("build finished", self.build["finished"]),
            ("seen by the poller", self.seen),
        ]
        return [
            (f"{first} → {then}", float(end) - float(start))
            for (first, start), (then, end) in pairwise(marks)
        ]


def one_build(site: Site, number: int) -> Round:
    """Push a commit, post its webhook, and poll build `number` until it has finished."""
    message = f"round {number}"
    before, sha = site.push(message)
    posted = site.hook(before, sha, message)
    build, seen = site.wait(number, interval=0.02)
    if build["sha"] != sha:
        raise site.failure(f"build #{number} is of {build['sha']}, not of the commit just pushed ({sha})")
    return Round(posted, seen, build)


@dataclass
class Measured:
    """Every round's figures: Hangar's builds, the docker baselines, Buildbot's builds (if measured)."""

    builds: list[Round]
    runs_seconds: list[float]
    starts: list[float]
    buildbot: list[tuple[float, float]]  # (hook → complete, master CPU-s) per round


def measure(runs: int, peer: bool) -> tuple[Measured, Latency | None]:
    """After a warm-up, `runs` rounds of: a Hangar build, a `docker run --rm`, a `docker run -d` start, and
    a Buildbot build (unless `peer` is false or Buildbot is not there)."""
    docker("pull", "-q", "busybox")
    measured = Measured([], [], [], [])
    with contextlib.ExitStack() as stack:
        buildbot = stack.enter_context(optional_buildbot(workers=1, wanted=peer))
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="hangar-bench-"))
        site = stack.enter_context(hangar_site(Path(folder)))
        with console.status("warming up (first build, image, imports)…"):
            one_build(site, 1)
            docker_run_seconds()
            docker_start_latency()
        with progress() as bar:
            task = bar.add_task("build · docker run · docker run -d · Buildbot", total=runs)
            for number in range(2, runs + 2):
                measured.builds.append(one_build(site, number))
                measured.runs_seconds.append(docker_run_seconds())
                measured.starts.append(docker_start_latency())
                buildbot = buildbot_round(buildbot, measured)
                bar.console.print(f"[dim]#{number}: {round_line(measured)}[/]")
                bar.advance(task)
    samples = tuple(seconds for seconds, _ in measured.buildbot)
    if not samples:
        return measured, None
    return measured, Latency(samples, sum(cpu for _, cpu in measured.buildbot) / len(samples))


def buildbot_round(buildbot: Buildbot | None, measured: Measured) -> Buildbot | None:
    """Add one Buildbot build to `measured`; None from now on if Buildbot failed (having said why)."""
    if buildbot is None:
        return None
    try:
        measured.buildbot.append(buildbot.one_build())
    except PeerUnavailable as error:
        not_measured(str(error))
        return None
    return buildbot


def round_line(measured: Measured) -> str:
    """The last round's figures, on one line."""
    build = measured.builds[-1]
    line = (
        f"step started {ms(build.to_container)}, finished {ms(build.end_to_end)} · docker run "
        f"{ms(measured.runs_seconds[-1])} · docker run -d {ms(measured.starts[-1])}"
    )
    if len(measured.buildbot) == len(measured.builds):
        line += f" · Buildbot {ms(measured.buildbot[-1][0])}"
    return line


def start_table(builds: list[Round], starts: list[float]) -> Table:
    """Webhook → step container started, against docker run -d → StartedAt."""
    hangar = [build.to_container for build in builds]
    table = Table(title=f"1. webhook → first step's container started ({len(builds)} pushes)")
    for column in ("", "p50", "p95", "min", "max"):
        table.add_column(column, justify="left" if not column else "right")
    for label, values in (
        ("Hangar: webhook → step started", hangar),
        ("docker run -d → State.StartedAt", starts),
    ):
        table.add_row(
            label,
            *(ms(x) for x in (percentile(values, 0.5), percentile(values, 0.95), min(values), max(values))),
        )
    table.add_row(
        "[bold]ratio Hangar / docker[/]",
        ratio(percentile(hangar, 0.5), percentile(starts, 0.5)),
        ratio(percentile(hangar, 0.95), percentile(starts, 0.95)),
        "",
        "",
    )
    return table


def end_to_end_table(builds: list[Round], runs_seconds: list[float], buildbot: Latency | None) -> Table:
    """A one-step build end to end, against `docker run --rm` of the same command, and Buildbot's."""
    hangar = [build.end_to_end for build in builds]
    table = Table(title=f"2. a one-step build end to end ({len(builds)} rounds, interleaved)")
    for column in ("", "median", "p95", "min", "max"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row("Hangar: webhook → finished, polled", *map(ms, _spread(hangar)))
    table.add_row("docker run --rm busybox sh -c 'echo hi'", *map(ms, _spread(runs_seconds)))
    if buildbot is not None:
        rounds = f", {len(buildbot.samples)} rounds" if len(buildbot.samples) < len(builds) else ""
        label = f"Buildbot (1 worker{rounds}): hook → complete, polled"
        table.add_row(label, *map(ms, _spread(buildbot.samples)))
    table.add_row(
        "[bold]ratio Hangar / docker[/] (goal ≤ 1.3×)",
        ratio(median(hangar), median(runs_seconds)),
        ratio(percentile(hangar, 0.95), percentile(runs_seconds, 0.95)),
        "",
        "",
    )
    if buildbot is not None:
        table.add_row(
            "[bold]ratio Buildbot / docker[/]",
            ratio(buildbot.p50, median(runs_seconds)),
            ratio(buildbot.p95, percentile(runs_seconds, 0.95)),
            "",
            "",
        )
        table.add_row(
            "[bold]ratio Hangar / Buildbot[/]",
            ratio(median(hangar), buildbot.p50),
            ratio(percentile(hangar, 0.95), buildbot.p95),
            "",
            "",
        )
    return table


def breakdown_table(builds: list[Round]) -> Table:
    """Where the median build's time went (of an even number, the faster of the two middle ones)."""
    ordered = sorted(builds, key=lambda build: build.end_to_end)
    middle = ordered[(len(ordered) - 1) // 2]
    table = Table(
        title=f"where the median build's {ms(middle.end_to_end)} went (build #{middle.build['number']})"
    )
    table.add_column("interval")
    table.add_column("time", justify="right")
    table.add_column("share", justify="right")
    table.add_column("median of all builds", justify="right")
    table.add_column("p95", justify="right")
    every = [build.breakdown() for build in builds]
    for index, (label, seconds) in enumerate(middle.breakdown()):
        spread = [intervals[index][1] for intervals in every]
        table.add_row(
            label,
            ms(seconds),
            f"{seconds / middle.end_to_end:.0%}",
            ms(median(spread)),
            ms(percentile(spread, 0.95)),
        )
    return table


def _spread(values: Sequence[float]) -> tuple[float, float, float, float]:
    return median(values), percentile(values, 0.95), min(values), max(values)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20, help="builds (and docker runs) measured (default 20)")
    parser.add_argument("--no-peer", action="store_true", help="do not measure Buildbot beside Hangar")
    args = parser.parse_args()
    with running_services():
        console.print(f"docker engine {os.environ['DOCKER_HOST']}, {os.cpu_count()} CPUs, {args.runs} rounds")
        try:
            measured, buildbot = measure(args.runs, peer=not args.no_peer)
        except BenchFailure as failure:
            fail_with_logs(failure)
    console.print(start_table(measured.builds, measured.starts))
    console.print(end_to_end_table(measured.builds, measured.runs_seconds, buildbot))
    if buildbot is not None:
        console.print(f"Buildbot's master used {buildbot.master_cpu_per_build:.3f} CPU-s per build.")
    console.print(breakdown_table(measured.builds))


if __name__ == "__main__":
    main()

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
   (goal: at most 1.3 times; Buildbot needs about 2.2 times), and where the median build's time went.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from rich.table import Table

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


def measure(runs: int) -> tuple[list[Round], list[float], list[float]]:
    """After a warm-up, `runs` rounds of: a Hangar build, a `docker run --rm`, a `docker run -d` start."""
    docker("pull", "-q", "busybox")
    with tempfile.TemporaryDirectory(prefix="hangar-bench-") as folder, hangar_site(Path(folder)) as site:
        with console.status("warming up (first build, image, imports)…"):
            one_build(site, 1)
            docker_run_seconds()
            docker_start_latency()
        builds: list[Round] = []
        runs_seconds: list[float] = []
        starts: list[float] = []
        with progress() as bar:
            task = bar.add_task("build · docker run · docker run -d", total=runs)
            for number in range(2, runs + 2):
                builds.append(one_build(site, number))
                runs_seconds.append(docker_run_seconds())
                starts.append(docker_start_latency())
                bar.console.print(
                    f"[dim]#{number}: step started {ms(builds[-1].to_container)}, finished "
                    f"{ms(builds[-1].end_to_end)} · docker run {ms(runs_seconds[-1])} · "
                    f"docker run -d {ms(starts[-1])}[/]"
                )
                bar.advance(task)
    return builds, runs_seconds, starts


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


def end_to_end_table(builds: list[Round], runs_seconds: list[float]) -> Table:
    """A one-step build end to end, against `docker run --rm` of the same command."""
    hangar = [build.end_to_end for build in builds]
    table = Table(title=f"2. a one-step build end to end ({len(builds)} rounds, interleaved)")
    for column in ("", "median", "min", "max"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row("Hangar: webhook → finished, polled", *map(ms, _spread(hangar)))
    table.add_row("docker run --rm busybox sh -c 'echo hi'", *map(ms, _spread(runs_seconds)))
    table.add_row(
        "[bold]ratio[/] (goal ≤ 1.3×, Buildbot 2.2×)", ratio(median(hangar), median(runs_seconds)), "", ""
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
    for label, seconds in middle.breakdown():
        table.add_row(label, ms(seconds), f"{seconds / middle.end_to_end:.0%}")
    return table


def _spread(values: list[float]) -> tuple[float, float, float]:
    return median(values), min(values), max(values)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20, help="builds (and docker runs) measured (default 20)")
    args = parser.parse_args()
    with running_services():
        console.print(f"docker engine {os.environ['DOCKER_HOST']}, {os.cpu_count()} CPUs, {args.runs} rounds")
        try:
            builds, runs_seconds, starts = measure(args.runs)
        except BenchFailure as failure:
            fail_with_logs(failure)
    console.print(start_table(builds, starts))
    console.print(end_to_end_table(builds, runs_seconds))
    console.print(breakdown_table(builds))


if __name__ == "__main__":
    main()

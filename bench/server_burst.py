"""Benchmark: a burst of webhooks on one runner with 4 slots: time until every build is done, and the CPU
seconds the server spends per build, against `docker run` of the same jobs 4 at a time in the same run.

Run: `.venv/bin/python -m bench.server_burst [--runs N]` (starts the test services if they are not running).
First the baseline: N times `docker run --rm busybox sh -c 'echo hi'` through a thread pool of 4. Then
`hangar up --no-runner` and one `hangar runner --capacity 4`; after a warm-up build, N commits are pushed
and their N signed webhooks sent at once; the builds list is polled every 0.5 s until all N have finished.
Wall time runs from sending the hooks to the last build's `finished`. CPU seconds (user + system, from /proc)
are counted over the burst for the `hangar up` process (server and worker), the git it ran (children), its
embedded Redis, the runner process and the git it ran; the Docker daemon is left out. Goal <= 0.03 CPU-s per
build for `hangar up` with its children, and at most 1.5 times the docker pool's wall time.
Then the Buildbot peer (bench/peer_buildbot.py) with 4 workers gets the same N hooks at once (time from the
first POST until every build is complete, seen by a 20 ms poll; its master's and workers' CPU-s): goal for
Hangar, at most 0.6 times Buildbot's wall time. `--no-peer` leaves Buildbot out.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.table import Table

from bench import peer_buildbot
from bench.peer_buildbot import PeerUnavailable, not_measured, optional_buildbot
from bench.server_support import (
    NAME,
    OWNER,
    BenchFailure,
    CpuTimes,
    Site,
    console,
    cpu_times,
    docker,
    docker_run_seconds,
    embedded_redis_pid,
    fail_with_logs,
    hangar_site,
    progress,
    ratio,
    succeeded,
)
from tests.conftest import running_services
from tests.e2e.processes import hangar_runner
from tests.server.support import github_headers, github_push

SLOTS = 4
IDLE_SECONDS = 5.0
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Burst:
    """What one burst cost: wall seconds, CPU seconds of each process over it, the idle server's CPU rate."""

    wall: float
    server: CpuTimes
    redis: float | None
    runner: CpuTimes
    idle_rate: float
    polls: int


def docker_pool(runs: int) -> float:
    """Wall seconds of `runs` times `docker run --rm busybox sh -c 'echo hi'`, SLOTS at a time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(SLOTS) as pool:
        list(pool.map(lambda _: docker_run_seconds(), range(runs)))
    return time.perf_counter() - start


async def send_hooks(url: str, hooks: list[tuple[bytes, dict[str, str]]]) -> list[httpx.Response]:
    """Post every webhook at once."""
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=60) as client:
        return await asyncio.gather(
            *(client.post("/hook", content=body, headers=headers) for body, headers in hooks)
        )


def wait_for_all(site: Site, first: int, runs: int) -> tuple[float, int]:
    """Poll the builds list until the `runs` builds from `first` on succeeded: (last `finished`, polls)."""
    deadline = time.monotonic() + 120 + 10 * runs
    polls = 0
    with progress() as bar:
        task = bar.add_task(f"{runs} builds on {SLOTS} slots", total=runs)
        while time.monotonic() < deadline:
            polls += 1
            builds = [build for build in site.builds() if build["number"] >= first]
            done = [succeeded(site, build) for build in builds if build["finished"]]
            bar.update(task, completed=len(done))
            if len(done) == runs:
                return max(float(build["finished"]) for build in done), polls
            time.sleep(POLL_SECONDS)
    raise site.failure(f"the {runs} builds did not all finish in time")


def cpu_of(pid: int | None) -> float:
    """A process's own CPU seconds so far (0 without a pid)."""
    return cpu_times(pid).own if pid is not None else 0.0


def measure_burst(folder: Path, runs: int) -> Burst:
    """Start Hangar and the runner, warm up, then send `runs` webhooks at once and wait for their builds."""
    with hangar_site(folder, "--no-runner") as site:
        log = folder / "runner.log"
        site.logs["hangar runner"] = log
        with hangar_runner(site.hangar.url, "bench-runner", log, capacity=SLOTS) as runner:
            with console.status("warming up (runner, image, imports)…"):
                before, sha = site.push("warm-up")
                site.hook(before, sha, "warm-up")
                site.wait(1, interval=0.2)
            with console.status(f"pushing {runs} commits…"):
                hooks = []
                for index in range(runs):
                    message = f"burst {index}"
                    before, sha = site.push(message)
                    body = github_push(OWNER, NAME, before, sha, message)
                    hooks.append((body, github_headers(body)))
            server, redis = site.hangar.process.pid, embedded_redis_pid(site.hangar.data)
            with console.status(f"measuring the idle server's CPU for {IDLE_SECONDS:.0f} s…"):
                idle_start = cpu_of(server)
                time.sleep(IDLE_SECONDS)
                idle_rate = (cpu_of(server) - idle_start) / IDLE_SECONDS
            server_before, redis_before, runner_before = (
                cpu_times(server),
                cpu_of(redis),
                cpu_times(runner.pid),
            )
            sent = time.time()
            answers = asyncio.run(send_hooks(site.hangar.url, hooks))
            refused = [answer for answer in answers if answer.status_code != 202]
            if refused:
                raise site.failure(f"{len(refused)} webhooks were refused, e.g. {refused[0].text}")
            last, polls = wait_for_all(site, 2, runs)
            server_used, runner_used = (
                cpu_times(server) - server_before,
                cpu_times(runner.pid) - runner_before,
            )
            redis_used = cpu_of(redis) - redis_before if redis is not None else None
    return Burst(last - sent, server_used, redis_used, runner_used, idle_rate, polls)


def wall_table(burst: Burst, baseline: float, runs: int, buildbot: peer_buildbot.Burst | None) -> Table:
    """Time to all done, Hangar against the docker pool and Buildbot."""
    table = Table(title=f"a burst of {runs} webhooks, {SLOTS} runner slots")
    for column in ("", "wall", "per minute"):
        table.add_column(column, justify="left" if not column else "right")
    table.add_row(
        "Hangar: hooks sent → last finished", f"{burst.wall:.2f} s", f"{runs / burst.wall * 60:.0f} builds"
    )
    table.add_row(
        f"docker run --rm ×{runs}, {SLOTS} at a time", f"{baseline:.2f} s", f"{runs / baseline * 60:.0f} runs"
    )
    if buildbot is not None:
        table.add_row(
            f"Buildbot ({buildbot.workers} workers): first hook → all complete",
            f"{buildbot.seconds:.2f} s",
            f"{runs / buildbot.seconds * 60:.0f} builds",
        )
    table.add_row("[bold]ratio Hangar / docker[/] (goal ≤ 1.5×)", ratio(burst.wall, baseline), "")
    if buildbot is not None:
        table.add_row("[bold]ratio Buildbot / docker[/]", ratio(buildbot.seconds, baseline), "")
        table.add_row(
            "[bold]ratio Hangar / Buildbot[/] (goal ≤ 0.6×)", ratio(burst.wall, buildbot.seconds), ""
        )
    return table


def cpu_table(burst: Burst, runs: int) -> Table:
    """CPU seconds over the burst, per process, and per build."""
    table = Table(title=f"CPU seconds (user + system) over the burst, {runs} builds")
    for column in ("process", "total", "per build"):
        table.add_column(column, justify="left" if column == "process" else "right")
    rows = [
        ("[bold]hangar up[/] (server + worker)", burst.server.own),
        ("  git it ran (children)", burst.server.children),
        ("  its embedded Redis", burst.redis),
        ("hangar runner", burst.runner.own),
        ("  git it ran (clones)", burst.runner.children),
    ]
    for label, seconds in rows:
        if seconds is None:
            table.add_row(label, "not found", "")
        else:
            table.add_row(label, f"{seconds:.2f} s", f"{seconds / runs:.3f} s")
    return table


def per_build_table(burst: Burst, runs: int, buildbot: peer_buildbot.Burst | None) -> Table:
    """CPU seconds per build: Hangar's server and runner (with their children) beside Buildbot's processes."""
    table = Table(title="CPU seconds per build over the burst, Hangar beside Buildbot")
    table.add_column("process")
    table.add_column("per build", justify="right")
    server, runner = burst.server.own + burst.server.children, burst.runner.own + burst.runner.children
    table.add_row("[bold]Hangar's server[/]: hangar up + children (goal ≤ 0.03)", f"{server / runs:.3f} s")
    table.add_row("Hangar's runner: hangar runner + children", f"{runner / runs:.3f} s")
    if buildbot is not None:
        table.add_row("[bold]Buildbot's master[/]", f"{buildbot.master_cpu_per_build:.3f} s")
        table.add_row(
            "Buildbot's workers (without the docker CLI they run)", f"{buildbot.workers_cpu_per_build:.3f} s"
        )
    return table


def measure_buildbot(runs: int, wanted: bool) -> peer_buildbot.Burst | None:
    """Buildbot with SLOTS workers given `runs` hooks at once; None (having said why) if not measured."""
    with optional_buildbot(workers=SLOTS, wanted=wanted) as buildbot:
        if buildbot is None:
            return None
        try:
            with console.status(f"Buildbot: {runs} hooks at once on {SLOTS} workers…"):
                return buildbot.burst(runs)
        except PeerUnavailable as error:
            not_measured(str(error))
            return None


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--runs", type=int, default=20, help="webhooks (and docker runs) in the burst (default 20)"
    )
    parser.add_argument("--no-peer", action="store_true", help="do not measure Buildbot beside Hangar")
    args = parser.parse_args()
    with running_services():
        console.print(f"docker engine {os.environ['DOCKER_HOST']}, {os.cpu_count()} CPUs, {args.runs} jobs")
        docker("pull", "-q", "busybox")
        with console.status(f"baseline: {args.runs} × docker run, {SLOTS} at a time…"):
            docker_pool(SLOTS)  # warm-up
            baseline = docker_pool(args.runs)
        try:
            with tempfile.TemporaryDirectory(prefix="hangar-bench-") as folder:
                burst = measure_burst(Path(folder), args.runs)
        except BenchFailure as failure:
            fail_with_logs(failure)
        buildbot = measure_buildbot(args.runs, wanted=not args.no_peer)
    console.print(wall_table(burst, baseline, args.runs, buildbot))
    console.print(cpu_table(burst, args.runs))
    console.print(per_build_table(burst, args.runs, buildbot))
    console.print(
        f"the idle server used {burst.idle_rate:.3f} CPU-s per second "
        f"(≈ {burst.idle_rate * burst.wall:.2f} s over the burst's wall time); "
        f"the {burst.polls} polls of the builds list are counted in."
    )


if __name__ == "__main__":
    main()

"""Benchmark: a 10-step busybox pipeline through `hangar exec` against the same 10 `docker run --rm` in a row.

Run: `.venv/bin/python bench/exec_vs_docker_run.py [--rounds N]` (starts the test services if needed).
The two are alternated round by round in the same run, with a third: the executor alone (run_stage on the
Docker engine, in this process, without the command's start-up); ratios of medians are printed (goal <= 0.9).
Then a step prints 100 MB of log lines: the peak RSS of the `hangar exec` process is reported against the
same command running a silent step, and its wall time against `docker run` printing the same 100 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines import Plan  # noqa: E402
from pipelines.report import LogLine, StageReport, StepReport  # noqa: E402
from pipelines.runner_api import TestBatch  # noqa: E402
from pipelines.status import Status  # noqa: E402
from runner.docker import DockerEngine  # noqa: E402
from runner.executor import run_stage  # noqa: E402
from tests.conftest import running_services  # noqa: E402
from tests.runner.support import plan_of  # noqa: E402

HANGAR = str(Path(sys.executable).parent / "hangar")
STEPS = 10
NOISE = "head -c 100000000 /dev/zero | tr -c x x | fold -w 99"
PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def pipeline(commands: list[str]) -> str:
    """A pipeline file with one busybox step per command, cloning disabled."""
    steps = "".join(
        f"  - name: step-{i}\n    image: busybox\n    commands: [{c!r}]\n" for i, c in enumerate(commands)
    )
    return f"kind: pipeline\nname: bench\nclone: {{disable: true}}\nsteps:\n{steps}"


def timed(command: list[str], cwd: Path) -> float:
    """Wall seconds of a command, which must succeed."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def docker_loop(cwd: Path, commands: list[str]) -> float:
    """Wall seconds of `docker run --rm busybox sh -c <command>` for each command, one after another."""
    start = time.perf_counter()
    for command in commands:
        run = ["docker", "run", "--rm", "busybox", "sh", "-c", command]
        subprocess.run(run, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def peak_rss_mb(command: list[str], cwd: Path) -> float:
    """Peak resident memory of a command, in MB (measured by a parent that only waits for it)."""
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *command], cwd=cwd, capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip()) / 1024


class _Silent:
    """A reporter that drops everything."""

    async def stage_updated(self, stage: StageReport) -> None:
        """Nothing."""

    async def step_updated(self, step: StepReport) -> None:
        """Nothing."""

    async def step_output(self, step: StepReport, lines: Sequence[LogLine]) -> None:
        """Nothing."""

    async def step_tests(self, step: StepReport, batch: TestBatch) -> None:
        """Nothing."""


async def run_in_process(plan: Plan) -> float:
    """Wall seconds of run_stage on the Docker engine: the stage alone, without the command's start-up."""
    async with await DockerEngine.connect() as engine:
        start = time.perf_counter()
        report = await run_stage(engine, _Silent(), plan)
        elapsed = time.perf_counter() - start
    if report.status != Status.SUCCESS:
        raise RuntimeError(f"the pipeline failed: {report}")
    return elapsed


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--big-log-only", action="store_true", help="only the step printing 100 MB")
    args = parser.parse_args()
    with running_services():
        measure(args.rounds, steps=not args.big_log_only)


def measure(rounds: int, *, steps: bool = True) -> None:
    """Both benchmarks (or only the big log), on the engine DOCKER_HOST names."""
    print(f"docker engine: {os.environ['DOCKER_HOST']}")
    with tempfile.TemporaryDirectory(prefix="hangar-bench-") as folder:
        cwd = Path(folder)
        if steps:
            ten_steps(cwd, rounds)
        big_log(cwd)


def ten_steps(cwd: Path, rounds: int) -> None:
    """The 10-step pipeline: hangar exec and the executor alone against 10 docker runs, round by round."""
    commands = [f"echo step {i}" for i in range(STEPS)]
    (cwd / ".ci.yml").write_text(pipeline(commands))
    subprocess.run(["docker", "pull", "-q", "busybox"], check=True, stdout=subprocess.DEVNULL)
    timed([HANGAR, "exec"], cwd)  # warm-up: imports compiled, image present
    docker_loop(cwd, commands[:1])
    plan = plan_of((cwd / ".ci.yml").read_text())
    hangar_times, stage_times, docker_times = [], [], []
    for round_number in range(rounds):
        hangar_times.append(timed([HANGAR, "exec"], cwd))
        stage_times.append(asyncio.run(run_in_process(plan)))
        docker_times.append(docker_loop(cwd, commands))
        print(
            f"round {round_number + 1}: hangar exec {hangar_times[-1]:.2f}s, executor in-process "
            f"{stage_times[-1]:.2f}s, docker run x{STEPS} {docker_times[-1]:.2f}s"
        )
    docker_median = statistics.median(docker_times)
    for label, times in (
        ("hangar exec (whole command)", hangar_times),
        ("executor in-process", stage_times),
    ):
        median = statistics.median(times)
        print(
            f"{STEPS} busybox steps: {label} median {median:.2f}s against the docker run --rm loop's "
            f"{docker_median:.2f}s: ratio {median / docker_median:.2f} (goal <= 0.9)"
        )


def big_log(cwd: Path) -> None:
    """A step printing 100 MB: hangar exec's peak RSS against a silent step, its wall time against docker."""
    (cwd / ".ci.yml").write_text(pipeline([NOISE]))
    subprocess.run(["docker", "pull", "-q", "busybox"], check=True, stdout=subprocess.DEVNULL)
    loud = peak_rss_mb([HANGAR, "exec"], cwd)
    loud_time = timed([HANGAR, "exec"], cwd)
    (cwd / ".ci.yml").write_text(pipeline(["true"]))
    quiet = peak_rss_mb([HANGAR, "exec"], cwd)
    docker_time = docker_loop(cwd, [NOISE])
    print(
        f"a step printing 100 MB (1,010,101 lines): hangar exec peak RSS {loud:.0f} MB "
        f"against {quiet:.0f} MB for a silent step (+{loud - quiet:.0f} MB); "
        f"wall {loud_time:.1f}s against docker run's "
        f"{docker_time:.1f}s (ratio {loud_time / docker_time:.2f})"
    )


if __name__ == "__main__":
    main()

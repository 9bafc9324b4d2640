"""What the server benchmarks share: `hangar up` with a registered repository fed by signed GitHub
webhooks, quick polling of its builds, CPU seconds from /proc, the `docker run` baselines, rich output."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from tests.e2e.processes import Hangar, hangar_up
from tests.server.support import WEBHOOK_SECRET, PushedRepo, github_headers, github_push

OWNER, NAME = "octo", "app"
SLUG = f"{OWNER}/{NAME}"
STEP = "hi"
PIPELINE = (
    f"kind: pipeline\nname: bench\nsteps:\n  - name: {STEP}\n    image: busybox\n    commands: [echo hi]\n"
)
DOCKER_RUN = ["docker", "run", "--rm", "busybox", "sh", "-c", "echo hi"]
LOG_LINES = 40
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

console = Console(highlight=False)


class BenchFailure(Exception):
    """A build failed or never finished; carries the last lines the Hangar processes printed."""

    def __init__(self, message: str, logs: dict[str, str]) -> None:
        super().__init__(message)
        self.logs = logs


def fail_with_logs(failure: BenchFailure) -> NoReturn:
    """Print what failed and the processes' last log lines, then exit 1."""
    console.print(f"[bold red]benchmark failed:[/] {failure}")
    for name, text in failure.logs.items():
        console.rule(f"last {LOG_LINES} lines of {name}")
        console.print("\n".join(text.splitlines()[-LOG_LINES:]), markup=False)
    sys.exit(1)


def progress() -> Progress:
    """A progress display for the rounds of a benchmark."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, TimeElapsedColumn(), console=console, refresh_per_second=4)


@dataclass
class Site:
    """A running Hangar with the repository `octo/app` registered, its commits pushed to a local bare repo."""

    hangar: Hangar
    repo: PushedRepo
    api: httpx.Client
    logs: dict[str, Path]

    def push(self, message: str) -> tuple[str, str]:
        """Commit the pipeline and a file named after `message`; (before, after) shas."""
        return self.repo.push({".ci.yml": PIPELINE, "change.txt": message}, message)

    def push_many(self, messages: Sequence[str], pipeline: str = PIPELINE) -> list[tuple[str, str]]:
        """One commit per message (`pipeline` and a file naming it), pushed at once: (before, after) shas."""
        return self.repo.push_each(list(messages), {".ci.yml": pipeline})

    def hook(self, before: str, sha: str, message: str) -> float:
        """Send the signed push webhook for that commit; the wall clock just before it was posted."""
        body = github_push(OWNER, NAME, before, sha, message)
        headers = github_headers(body)
        posted = time.time()
        answer = self.api.post("/hook", content=body, headers=headers)
        if answer.status_code != 202:
            raise self.failure(f"the webhook was answered {answer.status_code}: {answer.text}")
        return posted

    def wait(self, number: int, interval: float = 0.02, timeout: float = 120) -> tuple[dict[str, Any], float]:
        """Poll build `number` every `interval` s until it has finished: (build, wall clock when seen so).

        Raises BenchFailure unless it succeeded.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self.api.get(f"/api/repos/{SLUG}/builds/{number}")
            if answer.status_code == 200 and answer.json()["finished"]:
                return succeeded(self, answer.json()), time.time()
            time.sleep(interval)
        raise self.failure(f"build #{number} did not finish within {timeout:.0f}s")

    def builds(self) -> list[dict[str, Any]]:
        """Every build of the repository, newest first."""
        found: list[dict[str, Any]] = []
        while True:
            before = {"before": str(found[-1]["number"])} if found else {}
            page = self.api.get(f"/api/repos/{SLUG}/builds", params={"limit": "100", **before})
            page.raise_for_status()
            found += page.json()
            if len(page.json()) < 100:
                return found

    def failure(self, message: str) -> BenchFailure:
        """A BenchFailure with the last lines of every log."""
        return BenchFailure(
            message, {name: path.read_text(errors="replace") for name, path in self.logs.items()}
        )


def succeeded(site: Site, build: dict[str, Any]) -> dict[str, Any]:
    """The build, if it succeeded; else BenchFailure naming its failed steps."""
    if build["status"] == "success":
        return build
    steps = [
        f"{step['name']}: {step['status']} {step['error']}".strip()
        for stage in build.get("stages", [])
        for step in stage["steps"]
    ]
    error = f" ({build['error']})" if build["error"] else ""
    raise site.failure(f"build #{build['number']} ended {build['status']}{error}; steps: {', '.join(steps)}")


@contextlib.contextmanager
def hangar_site(folder: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Site]:
    """`hangar up ARGS…` (with `env`) with data in `folder`, `octo/app` registered; stopped at the end."""
    with hangar_up(folder / "data", *args, env=env) as hangar, hangar.api() as api:
        repo = PushedRepo(folder / "git")
        body = {
            "owner": OWNER, "name": NAME, "clone_url": str(repo.bare), "forge": "github",
            "webhook_secret": WEBHOOK_SECRET, "email_policy": "never",
        }  # fmt: skip
        answer = api.post("/api/repos", json=body)
        site = Site(hangar, repo, api, {"hangar up": hangar.log})
        if answer.status_code != 201:
            raise site.failure(f"registering {SLUG} was answered {answer.status_code}: {answer.text}")
        yield site


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds (user + system) of a process: its own (all threads), and its children it has waited for."""

    own: float
    children: float

    def __sub__(self, earlier: CpuTimes) -> CpuTimes:
        return CpuTimes(self.own - earlier.own, self.children - earlier.children)


def cpu_times(pid: int) -> CpuTimes:
    """The process's CPU seconds so far, from /proc/<pid>/stat (utime, stime, cutime, cstime)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()  # fields[0] is field 3 (state) of proc(5)
    utime, stime, cutime, cstime = (int(value) / CLOCK_TICKS for value in fields[11:15])
    return CpuTimes(utime + stime, cutime + cstime)


def embedded_redis_pid(data: Path) -> int | None:
    """The pid of the redis-server `hangar up` started (it daemonizes, working in the data folder)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if (entry / "comm").read_text().startswith("redis-server") and (
                entry / "cwd"
            ).resolve() == data.resolve():
                return int(entry.name)
    return None


def docker(*args: str) -> str:
    """Run the docker CLI (which must succeed); its output."""
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout.strip()


def docker_run_seconds() -> float:
    """Wall seconds of `docker run --rm busybox sh -c 'echo hi'`."""
    start = time.perf_counter()
    subprocess.run(DOCKER_RUN, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def docker_start_latency() -> float:
    """Seconds from issuing `docker run -d busybox sh -c 'echo hi'` to the container's State.StartedAt."""
    issued = time.time()
    container = docker("run", "-d", "busybox", "sh", "-c", "echo hi")
    try:
        started = docker_clock(docker("inspect", "-f", "{{.State.StartedAt}}", container))
    finally:
        docker("rm", "-f", container)
    return started - issued


def docker_clock(text: str) -> float:
    """Unix seconds of an RFC 3339 time as Docker prints it (UTC, in ns: 2024-01-02T03:04:05.123456789Z)."""
    whole, _, fraction = text.strip().removesuffix("Z").partition(".")
    return datetime.fromisoformat(whole).replace(tzinfo=UTC).timestamp() + float(f"0.{fraction or '0'}")


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` quantile, interpolated linearly between the closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    """The median."""
    return statistics.median(values)


def ms(seconds: float) -> str:
    """Seconds shown as milliseconds."""
    return f"{seconds * 1000:,.0f} ms"


def ratio(value: float, baseline: float) -> str:
    """`value / baseline`, as in `1.23` followed by a times sign."""
    return f"{value / baseline:.2f}×" if baseline > 0 else "n/a"

"""Benchmark: a step printing 100 MB of numbered lines while live viewers follow its log stream.

Run: `.venv/bin/python -m bench.big_log [--megabytes 100] [--viewers 3]` (starts the test services if they
are not running). First the baseline: `docker run --rm busybox <the same awk command> > /dev/null`. Then
`hangar up --no-runner` and a separate `hangar runner` (so the server's memory is the server's alone) run a
build whose one step prints the lines (100 bytes each, numbered from 0); while it runs, the viewers follow
the step's server-sent events (`.../logs/1/1/stream`), resuming with Last-Event-ID if a stream drops.
Measured: the step's time (its `started` to `finished`, as the server recorded them) and the time from the
webhook to the build seen finished (the stored log complete: its event, followed beside the viewers, not
after them), both against the baseline (goal: twice at most); the time to every viewer done; lines/s; the
CPU seconds of hangar up, hangar runner and this process; the peak RSS (VmHWM) of the `hangar up` process
during the build (goal ≤ 150 MiB: the peak is reset when the build starts) against its RSS and peak before
it; the peak RSS of its embedded Redis.
Checked: the stored log (the plain-text download) and every viewer hold every numbered line once, in order
(the viewers check the events in bulk, a block of them at a time: parsing three million events one by one
kept this process busy well after the build had finished, and the viewers' figure measured this process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.table import Table

from bench.server_support import (
    SLUG,
    BenchFailure,
    Site,
    console,
    cpu_times,
    embedded_redis_pid,
    fail_with_logs,
    hangar_site,
    ratio,
)
from tests.conftest import running_services
from tests.e2e.processes import ADMIN_TOKEN, hangar_runner

LINE_BYTES = 100
NUMBERED = re.compile(r"(\d{9}) x+")
STREAM = f"/api/repos/{SLUG}/builds/1/logs/1/1/stream"
BUILD_EVENTS = f"/api/repos/{SLUG}/builds/1/events"


def awk_command(lines: int) -> str:
    """A busybox shell command printing `lines` lines of LINE_BYTES bytes: 9 digits, a space, x's."""
    pad = "x" * (LINE_BYTES - 11)
    return f"awk 'BEGIN {{ for (i = 0; i < {lines}; i++) printf \"%09d {pad}\\n\", i }}'"


def pipeline(lines: int) -> str:
    """One step printing the lines (no clone: the step is the log)."""
    return (
        "kind: pipeline\nname: big-log\nclone: {disable: true}\nsteps:\n  - name: print\n"
        f"    image: busybox\n    commands:\n      - {awk_command(lines)}\n"
    )


class LineCheck:
    """Numbered lines must come as 0, 1, 2…: counts what came and the first thing that did not fit."""

    def __init__(self) -> None:
        self.expected = 0
        self.problem = ""

    def see(self, text: str) -> None:
        """One log line (lines that are not numbered, like a shell trace, are skipped)."""
        match = NUMBERED.fullmatch(text)
        if match is not None:
            number = int(match.group(1))
            if number != self.expected and not self.problem:
                self.problem = f"line {number} came when line {self.expected} was expected"
            self.expected = max(self.expected, number + 1)

    def see_numbers(self, numbers: list[int]) -> None:
        """The numbers of numbered lines, in the order they came (checked at once when they follow on)."""
        if numbers == list(range(self.expected, self.expected + len(numbers))):
            self.expected += len(numbers)
            return
        for number in numbers:
            if number != self.expected and not self.problem:
                self.problem = f"line {number} came when line {self.expected} was expected"
            self.expected = max(self.expected, number + 1)


@dataclass
class Viewer:
    """A live viewer of the step's log stream: what it saw."""

    check: LineCheck = field(default_factory=LineCheck)
    events: int = 0
    reconnects: int = 0
    done: dict[str, Any] | None = None
    last_id: str = ""

    def see(self, block: bytes) -> None:
        """Whole events (each ends with a blank line), checked in bulk: parsing each event in Python would
        make this process, not the server, what the viewers wait for (three viewers of a million lines)."""
        self.events += block.count(b"event: ")  # no line of this log holds that
        self.check.see_numbers(list(map(int, NUMBERED_EVENT.findall(block))))
        last = block.rfind(b"\nid: ")
        if last >= 0:
            self.last_id = block[last + 5 : block.index(b"\n", last + 5)].decode()
        if b"event: reset\n" in block:
            self.check.problem = self.check.problem or "the log was reset"
        done = block.find(b"event: done\n")
        if done >= 0:
            data = block.index(b"data: ", done) + 6
            self.done = json.loads(block[data : block.index(b"\n", data)])


NUMBERED_EVENT = re.compile(rb'"out": "(\d{9}) x+"\}\n')


async def follow(url: str, viewer: Viewer) -> None:
    """Follow the stream until `done`, resuming after the last event id when the connection drops."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=httpx.Timeout(60)) as client:
        while viewer.done is None:
            resume = {"Last-Event-ID": viewer.last_id} if viewer.last_id else {}
            try:
                async with client.stream("GET", STREAM, headers=headers | resume) as answer:
                    answer.raise_for_status()
                    pending = b""
                    async for chunk in answer.aiter_bytes():
                        pending += chunk
                        end = pending.rfind(b"\n\n")
                        if end < 0:
                            continue
                        viewer.see(pending[: end + 2])
                        pending = pending[end + 2 :]
                        if viewer.done is not None:
                            return
            except (httpx.TransportError, httpx.HTTPStatusError):
                pass
            viewer.reconnects += 1
            await asyncio.sleep(0.2)


def stored_check(site: Site) -> LineCheck:
    """Read the stored log back as plain text (the download) and check its numbered lines."""
    check = LineCheck()
    with site.api.stream("GET", STREAM.removesuffix("/stream"), params={"format": "text"}) as answer:
        answer.raise_for_status()
        for line in answer.iter_lines():
            check.see(line)
    return check


def memory_mib(pid: int, field: str = "VmHWM") -> float:
    """A /proc status memory figure (VmHWM: peak resident, VmRSS: now) of a process and its living children,
    in MiB."""
    total = 0.0
    pids = [pid] + [
        int(child)
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if Path(f"/proc/{child}").exists()
    ]
    for each in pids:
        with contextlib.suppress(OSError):
            for row in Path(f"/proc/{each}/status").read_text().splitlines():
                if row.startswith(f"{field}:"):
                    total += int(row.split()[1]) / 1024
    return total


def reset_peak(pid: int) -> None:
    """Reset the peak resident memory (VmHWM) of a process and its children to what they hold now."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for each in [str(pid), *children]:
        with contextlib.suppress(OSError):
            Path(f"/proc/{each}/clear_refs").write_text("5")


@dataclass
class BigLog:
    """What a big log cost and whether every line arrived."""

    lines: int
    step_seconds: float
    wall_seconds: float
    viewers_seconds: float
    stored_after_step: float
    cpu_seconds: dict[str, float]
    """CPU seconds from the webhook to every viewer done: of hangar up, hangar runner, and this process."""
    server_idle_mib: float
    server_idle_peak_mib: float
    server_peak_mib: float
    redis_peak_mib: float | None
    stored: LineCheck
    viewers: list[Viewer]
    step_status: str

    def problems(self) -> list[str]:
        """What went wrong (empty when every line arrived everywhere once and in order)."""
        found = [] if self.step_status == "success" else [f"the step ended {self.step_status}"]
        checks = [("the stored log", self.stored)] + [
            (f"viewer {index + 1}", viewer.check) for index, viewer in enumerate(self.viewers)
        ]
        for name, check in checks:
            if check.problem:
                found.append(f"{name}: {check.problem}")
            elif check.expected != self.lines:
                found.append(f"{name}: {check.expected} of {self.lines} lines")
        return found


def run_big_log(folder: Path, megabytes: float, viewers: int) -> BigLog:
    """`hangar up --no-runner` + `hangar runner`; one build printing `megabytes` MB while viewers follow."""
    lines = int(megabytes * 1_000_000 / LINE_BYTES)
    with hangar_site(folder, "--no-runner") as site:
        idle = memory_mib(site.hangar.process.pid, "VmRSS")
        idle_peak = memory_mib(site.hangar.process.pid)
        reset_peak(site.hangar.process.pid)  # the peak of the build, not of the start-up (migrations…)
        site.logs["hangar runner"] = folder / "runner.log"
        with hangar_runner(site.hangar.url, "big-log-runner", folder / "runner.log") as runner:
            before, sha = site.repo.push({".ci.yml": pipeline(lines)}, "big log")
            started = time.monotonic()
            pids = {"hangar up": site.hangar.process.pid, "hangar runner": runner.pid}
            cpu = {name: cpu_times(pid).own for name, pid in pids.items()} | {"bench": time.process_time()}
            site.hook(before, sha, "big log")
            wait_for_step(site)
            watchers = [Viewer() for _ in range(viewers)]
            timeout = 60 + megabytes * 10
            finished, done = asyncio.run(follow_all(site.hangar.url, watchers, timeout))
            cpu = {name: cpu_times(pid).own - cpu[name] for name, pid in pids.items()} | {
                "bench": time.process_time() - cpu["bench"]
            }
            build, _seen = site.wait(1, interval=0.1, timeout=120 + megabytes * 5)
            wall, viewers_seconds = finished - started, done - started
            step = build["stages"][0]["steps"][0]
            stored = stored_check(site)
            redis = embedded_redis_pid(site.hangar.data)
            step_seconds = float(step["finished"]) - float(step["started"])
            stored_after_step = float(build["finished"]) - float(step["finished"])
            return BigLog(
                lines, step_seconds, wall, viewers_seconds, stored_after_step, cpu, idle, idle_peak,
                memory_mib(site.hangar.process.pid), memory_mib(redis) if redis else None,
                stored, watchers, step["status"],
            )  # fmt: skip


def wait_for_step(site: Site, timeout: float = 120) -> None:
    """Wait until build 1 has its step (the viewers' stream needs it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = site.api.get(f"/api/repos/{SLUG}/builds/1")
        if answer.status_code == 200 and answer.json()["stages"]:
            return
        time.sleep(0.1)
    raise site.failure("build 1 never got its stage")


async def follow_all(url: str, watchers: list[Viewer], timeout: float) -> tuple[float, float]:
    """Every viewer follows the stream to its end, while the build's events are followed to its end: when
    the build was seen finished, and when every viewer was done (monotonic clock)."""
    finished = asyncio.create_task(watch_build(url))
    await asyncio.wait_for(asyncio.gather(*(follow(url, viewer) for viewer in watchers)), timeout)
    done = time.monotonic()
    return await asyncio.wait_for(finished, timeout), done


async def watch_build(url: str) -> float:
    """Follow build 1's events (its stream ends with the build's finished state; reconnecting after a drop:
    the snapshot says whether it finished meanwhile); when it was seen finished. Polling the build meanwhile
    would cost the server a request every interval while it takes the log."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=httpx.Timeout(60)) as client:
        while True:
            with contextlib.suppress(httpx.TransportError, httpx.HTTPStatusError):
                async with client.stream("GET", BUILD_EVENTS, headers=headers) as answer:
                    answer.raise_for_status()
                    async for _chunk in answer.aiter_bytes():
                        pass
                    return time.monotonic()  # the stream ended: the build has finished
            await asyncio.sleep(0.2)


def docker_baseline(lines: int) -> float:
    """Wall seconds of `docker run --rm busybox sh -c '<awk command>' > /dev/null`."""
    start = time.perf_counter()
    subprocess.run(
        ["docker", "run", "--rm", "busybox", "sh", "-c", awk_command(lines)],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def report(result: BigLog, baseline: float, megabytes: float) -> Table:
    """The figures as a table."""
    table = Table(
        title=f"a step printing {megabytes:g} MB ({result.lines:,} lines), {len(result.viewers)} live viewers"
    )
    table.add_column("")
    table.add_column("value", justify="right")
    table.add_row("Hangar: the step, started → finished", f"{result.step_seconds:.2f} s")
    table.add_row("  lines/s", f"{result.lines / result.step_seconds:,.0f}")
    table.add_row("  webhook → build finished (wall)", f"{result.wall_seconds:.2f} s")
    table.add_row("  webhook → every viewer done (wall)", f"{result.viewers_seconds:.2f} s")
    table.add_row("  step finished → build finished", f"{result.stored_after_step:.2f} s")
    cpu = ", ".join(f"{name} {seconds:.1f}" for name, seconds in result.cpu_seconds.items())
    table.add_row("  CPU s to viewers done", cpu)
    table.add_row("docker run busybox … > /dev/null", f"{baseline:.2f} s")
    table.add_row(
        "[bold]ratio Hangar / docker[/] (the step; goal ≤ 2×)", ratio(result.step_seconds, baseline)
    )
    table.add_row(
        "[bold]ratio Hangar / docker[/] (webhook → build finished; goal ≤ 2×)",
        ratio(result.wall_seconds, baseline),
    )
    table.add_row("hangar up's RSS before the build", f"{result.server_idle_mib:.0f} MiB")
    table.add_row("  its peak RSS before the build (start-up)", f"{result.server_idle_peak_mib:.0f} MiB")
    table.add_row(
        "[bold]peak RSS of hangar up during the build[/] (goal ≤ 150 MiB)",
        f"{result.server_peak_mib:.0f} MiB",
    )
    redis = f"{result.redis_peak_mib:.0f} MiB" if result.redis_peak_mib is not None else "not found"
    table.add_row("peak RSS of its embedded Redis", redis)
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
    lines = int(args.megabytes * 1_000_000 / LINE_BYTES)
    with running_services():
        with console.status("baseline: docker run … > /dev/null"):
            docker_baseline(1000)  # warm-up
            baseline = docker_baseline(lines)
        try:
            status = console.status(f"{args.megabytes:g} MB through Hangar to {args.viewers} viewers…")
            with tempfile.TemporaryDirectory(prefix="hangar-bench-") as folder, status:
                result = run_big_log(Path(folder), args.megabytes, args.viewers)
        except BenchFailure as failure:
            fail_with_logs(failure)
    console.print(report(result, baseline, args.megabytes))
    for problem in result.problems():
        console.print(f"[bold red]lost or out of order:[/] {problem}")
    if result.problems():
        raise SystemExit(1)
    console.print("[green]every line stored once and in order, and seen so by every viewer[/]")


if __name__ == "__main__":
    main()

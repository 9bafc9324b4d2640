"""The server killed (kill -9) three times in one build and started again on the same port and data folder:
mid-step, between two steps, and while the runner finishes the last step and reports the stage's end. The
runner goes on meanwhile; once the server is back the build is `success` and every log line is stored once."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.processes import Hangar, free_port, hangar_runner, hangar_up
from tests.e2e.test_production import start_build
from tests.reliability.faults import build_of, lost_and_duplicated, step_of, stored_log, until_build
from tests.server.support import PushedRepo

LINES = 100
STEPS = ("first", "second", "third")
DOWN_SECONDS = 2.0
"""How long the server stays dead each time, before it is started again."""


def counting(step: str) -> str:
    """The command of a step printing LINES numbered lines, one every 0.1 s."""
    return f'for i in $(seq 1 {LINES}); do echo "{step} $i"; sleep 0.1; done'


PIPELINE = "kind: pipeline\nname: count\nsteps:\n" + "".join(
    f"  - name: {step}\n    image: busybox\n    commands:\n      - {counting(step)}\n" for step in STEPS
)


def expected_log(step: str) -> list[str]:
    """The step's log as the shell prints it: the traced command, then the numbered lines."""
    return [f"+ {counting(step)}", *(f"{step} {i}" for i in range(1, LINES + 1))]


def stored_lines(hangar: Hangar, step: str) -> int:
    """How many lines of the step the server has stored so far (0 before the step is reported)."""
    return len(stored_log(hangar, 1, STEPS.index(step) + 2))  # step 1 is the clone


def running_with(hangar: Hangar, step: str, lines: int) -> Callable[[dict[str, Any] | None], bool]:
    """The step runs and the server stored at least `lines` of its log."""

    def condition(build: dict[str, Any] | None) -> bool:
        found = step_of(build, step)
        return found is not None and found["status"] == "running" and stored_lines(hangar, step) >= lines

    return condition


def ended(step: str) -> Callable[[dict[str, Any] | None], bool]:
    """The step has ended (whatever its status)."""

    def condition(build: dict[str, Any] | None) -> bool:
        found = step_of(build, step)
        return found is not None and found["status"] not in ("pending", "running")

    return condition


def test_a_server_killed_three_times_in_a_build_loses_no_build_and_no_line(
    tmp_path: Path, docker_host: str
) -> None:
    redis_folders = set(Path(tempfile.gettempdir()).glob("tmp*/redis.config"))
    data, port = tmp_path / "data", free_port()
    repo = PushedRepo(tmp_path / "git")
    kills: list[str] = []

    def kill(hangar: Hangar, moment: str) -> None:
        build = build_of(hangar)
        assert build is not None and build["finished"] is None, f"the build ended before the kill {moment}"
        os.kill(hangar.process.pid, signal.SIGKILL)
        hangar.process.wait()
        kills.append(moment)
        steps = {step: (step_of(build, step) or {}).get("status", "?") for step in STEPS}
        print(f"server killed -9 {moment}; the steps were then {steps}")
        time.sleep(DOWN_SECONDS)  # the stage goes on; the runner holds its reports

    with (
        hangar_up(data, "--no-runner", port=port) as first,
        hangar_runner(first.url, "survivor", tmp_path / "runner.log"),
    ):
        start_build(first, repo, PIPELINE)
        until_build(first, "20 lines of the first step stored", running_with(first, "first", 20))
        kill(first, "mid-step (first)")
        with hangar_up(data, "--no-runner", port=port) as second:
            until_build(second, "the first step's end", ended("first"))
            kill(second, "between steps (first → second)")
        with hangar_up(data, "--no-runner", port=port) as third:
            until_build(third, "the last step near its end", running_with(third, "third", LINES - 15))
            kill(third, "as the last step ends and the stage's end is reported")
        with hangar_up(data, "--no-runner", port=port) as last:
            build = last.wait_for_build("octo/app", 1, timeout=120)
            logs = {step: stored_log(last, 1, STEPS.index(step) + 2) for step in STEPS}
    assert len(kills) == 3
    assert build["status"] == "success", build
    assert [step["status"] for step in build["stages"][0]["steps"]] == ["success"] * (len(STEPS) + 1)
    for step in STEPS:
        lost, duplicated = lost_and_duplicated(logs[step], expected_log(step))
        print(f"server killed -9 {len(kills)}×: step {step!r}: {lost} lines lost, {duplicated} duplicated")
        assert (lost, duplicated) == (0, 0)
        assert logs[step] == expected_log(step), "every line once, in order"
    left = set(Path(tempfile.gettempdir()).glob("tmp*/redis.config")) - redis_folders
    assert not left, f"the embedded Redis of the killed server was taken over and removed: {left}"

"""A runner killed (kill -9) mid-step, with the default lease settings: its stage ends `error` naming it
within 90 s, and its next start (while the killed one is still an unreaped zombie) removes the
containers, networks and volumes the dead one left."""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

from tests.e2e.processes import hangar_runner, hangar_up
from tests.e2e.test_production import SLOW, start_build, wait_for_step
from tests.reliability.faults import NOTHING, runner_objects
from tests.server.support import PushedRepo

DETECTION_BOUND = 90.0
"""Seconds within which the server must end the stage of a runner that vanished (the issue's requirement)."""
RUNNER = f"doomed-{uuid.uuid4().hex[:8]}"
"""The runner's name, its own: another test session on the same engine never counts as its leftovers."""


def test_a_runner_killed_mid_step_loses_its_stage_naming_it(tmp_path: Path, docker_host: str) -> None:
    repo = PushedRepo(tmp_path / "git")
    with hangar_up(tmp_path / "data", "--no-runner") as hangar:  # the default lease and reaping settings
        with hangar_runner(hangar.url, RUNNER, tmp_path / "doomed.log") as runner:
            start_build(hangar, repo, SLOW)
            wait_for_step(hangar, "running")
            assert runner_objects(RUNNER)["container"], "the step runs in a container of the runner"
            killed_at = time.monotonic()
            os.kill(runner.pid, signal.SIGKILL)
            build = hangar.wait_for_build("octo/app", 1, timeout=DETECTION_BOUND + 30)
            detected = time.monotonic() - killed_at
            print(
                f"runner killed -9 mid-step → its stage ended `error` after {detected:.1f}s (default lease)"
            )
            assert build["status"] == "error"
            stage = build["stages"][0]
            assert stage["status"] == "error" and f"runner '{RUNNER}' lost" in stage["error"], stage
            assert "for 60s" in stage["error"], "the default lease (60 s) was the one in force"
            assert detected < DETECTION_BOUND
            left = runner_objects(RUNNER)
            assert left["container"] and left["network"] and left["volume"], (
                f"the dead runner's stage stays: {left}"
            )
            # Not reaped yet (no wait() on it): the dead runner is a zombie still listed in /proc.
            assert Path(f"/proc/{runner.pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
            with hangar_runner(hangar.url, RUNNER, tmp_path / "doomed-again.log"):
                started = time.monotonic()
                while time.monotonic() < started + 30 and runner_objects(RUNNER) != NOTHING:
                    time.sleep(0.2)
                swept = time.monotonic() - started
        print(
            f"the runner's next start removed its orphaned containers, networks and volumes in {swept:.1f}s"
        )
        assert runner_objects(RUNNER) == NOTHING

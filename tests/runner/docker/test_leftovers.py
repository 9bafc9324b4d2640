"""Which leftovers count as orphans: a stage whose owner process is gone, or our runner's earlier life."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

from runner.docker.leftovers import is_orphan
from runner.labels import OWNER_LABEL, RUNNER_LABEL, STAGE_LABEL, owner_label


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_stage_of_a_dead_process_on_this_host_is_an_orphan() -> None:
    labels = {STAGE_LABEL: "s1", OWNER_LABEL: f"{socket.gethostname()}:{dead_pid()}"}
    assert is_orphan(labels, runner=None)


def test_a_stage_of_a_killed_process_not_yet_reaped_is_an_orphan() -> None:
    process = subprocess.Popen(["sleep", "60"])
    try:
        process.kill()  # kill -9; no wait(): the process stays a zombie until its parent (this test) reaps it
        labels = {STAGE_LABEL: "s1", OWNER_LABEL: f"{socket.gethostname()}:{process.pid}"}
        deadline = time.monotonic() + 10
        while _state(process.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _state(process.pid) == "Z", "the killed process is a zombie, still in /proc"
        assert is_orphan(labels, runner=None)
    finally:
        process.wait()


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]


def test_a_stage_of_a_live_process_or_of_another_host_is_left_alone() -> None:
    assert not is_orphan({STAGE_LABEL: "s1", OWNER_LABEL: owner_label()}, runner=None)
    assert not is_orphan({STAGE_LABEL: "s1", OWNER_LABEL: f"elsewhere.example:{dead_pid()}"}, runner=None)
    assert not is_orphan({STAGE_LABEL: "s1"}, runner=None)


def test_a_runner_claims_the_stages_of_its_own_name_that_no_live_process_here_owns() -> None:
    elsewhere = {STAGE_LABEL: "s1", RUNNER_LABEL: "runner-1", OWNER_LABEL: "old-container-id:7"}
    assert is_orphan(elsewhere, runner="runner-1")
    assert not is_orphan(elsewhere, runner="runner-2")
    running_here = {STAGE_LABEL: "s1", RUNNER_LABEL: "runner-1", OWNER_LABEL: owner_label()}
    assert not is_orphan(running_here, runner="runner-1"), "a live runner of the same name keeps its stages"


def test_the_owner_label_names_this_process() -> None:
    assert owner_label() == f"{socket.gethostname()}:{os.getpid()}"

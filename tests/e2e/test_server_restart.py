"""The server killed mid-build (kill -9) and started again: the runner finishes the stage meanwhile and, once
the server is back, the build is `success` with every log line stored exactly once."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path

import httpx

from tests.e2e.processes import free_port, hangar_runner, hangar_up
from tests.e2e.test_production import start_build, wait_for_step
from tests.server.support import PushedRepo

LINES = 80

COUNTING = f"""\
kind: pipeline
name: count
steps:
  - name: count
    image: busybox
    commands:
      - for i in $(seq 1 {LINES}); do echo "line $i"; sleep 0.05; done
"""


def test_a_server_killed_mid_build_loses_no_build_and_no_line(tmp_path: Path, docker_host: str) -> None:
    redis_folders = set(Path(tempfile.gettempdir()).glob("tmp*/redis.config"))
    data, port = tmp_path / "data", free_port()
    repo = PushedRepo(tmp_path / "git")
    with (
        hangar_up(data, "--no-runner", port=port) as first,
        hangar_runner(first.url, "survivor", tmp_path / "runner.log"),
    ):
        start_build(first, repo, COUNTING)
        wait_for_step(first, "running")
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait()
        time.sleep(3)  # the stage goes on; the runner holds its reports
        with hangar_up(data, "--no-runner", port=port) as second:
            build = second.wait_for_build("octo/app", 1, timeout=120)
            with second.api() as api:
                lines = api.get("/api/repos/octo/app/builds/1/logs/1/2", params={"limit": "1000"}).json()
    assert build["status"] == "success", build
    assert lines[0]["out"].startswith("+ for i in")  # the command, as the shell echoes it
    assert [line["out"] for line in lines[1:]] == [f"line {i}" for i in range(1, LINES + 1)]
    assert [line["pos"] for line in lines] == list(range(LINES + 1)), "each line once, none missing"
    left = set(Path(tempfile.gettempdir()).glob("tmp*/redis.config")) - redis_folders
    assert not left, f"the embedded Redis of the killed server was taken over and removed: {left}"


def test_health_answers_while_up(tmp_path: Path, docker_host: str) -> None:
    with hangar_up(tmp_path / "data", "--no-runner") as hangar:
        assert httpx.get(f"{hangar.url}/healthz", trust_env=False).json() == {"ok": True, "problems": []}

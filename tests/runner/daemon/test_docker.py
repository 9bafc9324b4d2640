"""`hangar runner` as a process on the real Docker engine, taking a real stage from the stand-in server."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from pipelines.status import Status
from runner.labels import MANAGED_LABEL, RUNNER_LABEL, STAGE_LABEL
from tests.runner.daemon.standin import TOKEN, StandIn
from tests.runner.daemon.support import pipeline
from tests.runner.support import plan_of

pytestmark = pytest.mark.usefixtures("docker_host")

RUNNER = "docker-test-runner"
COMMAND = "from runner.daemon_cli import runner_command; runner_command()"


@pytest.fixture
async def leftover() -> AsyncIterator[str]:
    """A container an earlier, killed life of this runner left behind."""
    labels = {MANAGED_LABEL: "true", STAGE_LABEL: "left-by-a-crash", RUNNER_LABEL: RUNNER}
    flags = [arg for key, value in labels.items() for arg in ("--label", f"{key}={value}")]
    created = subprocess.run(
        ["docker", "create", *flags, "busybox", "true"], capture_output=True, text=True, check=True
    )
    container = created.stdout.strip()
    yield container
    subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)


async def start_runner(standin: StandIn, token: str = TOKEN) -> asyncio.subprocess.Process:
    """`hangar runner` (the click command, as its entry point would run it) against the stand-in."""
    return await asyncio.create_subprocess_exec(
        *[sys.executable, "-c", COMMAND, "--server", standin.url, "--token", token, "--name", RUNNER],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def exists(container: str) -> bool:
    return subprocess.run(["docker", "inspect", container], capture_output=True, check=False).returncode == 0


async def test_the_runner_runs_a_real_stage_and_stops_on_sigterm(standin: StandIn, leftover: str) -> None:
    steps = """
  - name: greet
    image: busybox
    commands: ['echo "kernel=$(uname -s)"', "echo answer=$((6 * 7))", "exit 0"]
"""
    stage = standin.add(plan_of(pipeline(steps)))
    process = await start_runner(standin)
    try:
        await standin.wait_for(lambda: stage.final is not None, timeout=180)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert stage.final is not None and stage.final.status == Status.SUCCESS
    lines = stage.lines(stage.plan.steps[0].number)
    assert "kernel=Linux" in lines and "answer=42" in lines  # computed by the container's shell
    assert not exists(leftover)  # swept at start-up: no earlier life of this runner is left running
    said = stderr.decode()
    assert "stage 1 octo/hello #1 default taken" in said
    assert "stage 1 octo/hello #1 default success" in said


async def test_a_refused_token_ends_the_runner_with_a_message(standin: StandIn) -> None:
    process = await start_runner(standin, token="not-the-token")
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 1
    assert f"the server {standin.url} refused runner '{RUNNER}' (401)" in " ".join(stderr.decode().split())

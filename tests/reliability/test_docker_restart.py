"""The Docker engine restarted while a step runs: the step ends `error` naming the engine, so do its stage
and the build, which finishes (never a zombie `running`), nothing Hangar made is left on the engine, and the
same runner runs the next build once the engine is back.

The first test stops every container on the test services' engine: run it alone (`flock -x
/tmp/helpers/docker.lock` where other Docker tests hold that lock shared). The second makes the engine
unreachable for one runner only (it talks to the engine through a socket that appears late).
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiodocker import Docker

from runner.docker.engine import DockerEngine
from runner.engine import EngineError, StageSpec
from runner.labels import STAGE_LABEL
from tests.e2e.processes import hangar_runner, hangar_up
from tests.e2e.test_production import start_build
from tests.reliability.faults import (
    MANAGED,
    NOTHING,
    docker_restarting,
    hangar_objects,
    remove_runner_objects,
    runner_objects,
    stage_objects,
    step_of,
    until_build,
)
from tests.runner.support import plan_of
from tests.server.support import PushedRepo

PIPELINE = """\
kind: pipeline
name: engine
steps:
  - name: wait
    image: busybox
    commands:
      - echo started
      - if [ ${DRONE_BUILD_NUMBER} = 1 ]; then sleep 300; fi
  - name: after
    image: busybox
    commands: [echo after]
"""
"""The first build waits in its first step (for the restart); the next one goes straight through."""
RUNNER = "steadfast"


def test_a_docker_restart_mid_step_errors_the_stage_and_the_runner_goes_on(
    tmp_path: Path, docker_host: str
) -> None:
    repo, runner_log = PushedRepo(tmp_path / "git"), tmp_path / "runner.log"
    try:
        restart_mid_step_then_build_again(repo, tmp_path / "data", runner_log)
        assert runner_objects(RUNNER) == NOTHING, "the runner stopped: its idle network went with it"
    finally:
        remove_runner_objects(RUNNER)


def restart_mid_step_then_build_again(repo: PushedRepo, data: Path, runner_log: Path) -> None:
    """Build 1: the engine restarts while its step runs; build 2 then runs on the same runner."""
    with hangar_up(data, "--no-runner") as hangar, hangar_runner(hangar.url, RUNNER, runner_log):
        start_build(hangar, repo, PIPELINE)
        until_build(
            hangar, "the step running", lambda b: (step_of(b, "wait") or {}).get("status") == "running"
        )
        with docker_restarting() as restart:
            restarted_at = time.monotonic()
            build = hangar.wait_for_build("octo/app", 1, timeout=180)
            ended = time.monotonic() - restarted_at
            print(f"Docker engine restarted mid-step → build finished {ended:.1f}s after the restart began")
        print(f"the engine answered again {time.monotonic() - restarted_at:.1f}s after the restart began")
        assert restart.returncode == 0
        stage = build["stages"][0]
        wait, after = stage["steps"][1:]
        print(f"stage {stage['status']}: {stage['error']!r}; step {wait['status']}: {wait['error']!r}")
        assert build["status"] == "error", (build, runner_log.read_text())
        assert stage["status"] == "error", stage
        assert wait["status"] == "error" and "docker engine stopped" in wait["error"].lower(), wait
        assert after["status"] == "skipped", after
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and stage_objects(RUNNER) != NOTHING:
            time.sleep(0.5)
        left = stage_objects(RUNNER)
        print(f"left on the engine {time.monotonic() - restarted_at:.1f}s after the restart: {left}")
        assert left == NOTHING, "what the stage made is gone once the engine is back"
        with hangar.api() as api:
            assert api.post("/api/repos/octo/app/builds/1").status_code == 201
        again = hangar.wait_for_build("octo/app", 2, timeout=120)
        assert again["status"] == "success", (again, runner_log.read_text())
        assert again["stages"][0]["runner"] == RUNNER


async def test_a_stage_the_engine_could_not_remove_is_removed_once_it_answers_again(
    tmp_path: Path, docker_host: str
) -> None:
    stage_id = f"late-{uuid.uuid4().hex[:8]}"
    labels = ["--label", MANAGED, "--label", f"{STAGE_LABEL}={stage_id}"]
    for kind in ("network", "volume"):
        subprocess.run(
            ["docker", kind, "create", *labels, f"hangar-{stage_id}"], check=True, capture_output=True
        )
    socket = tmp_path / "engine.sock"  # nothing listens there yet: the engine is away
    engine = DockerEngine(Docker(f"unix://{socket}"))
    try:
        with pytest.raises(EngineError, match="retried"):
            await engine.destroy(StageSpec(stage_id, plan_of(PIPELINE)))
        assert hangar_objects(f"{STAGE_LABEL}={stage_id}") != NOTHING
        async with forwarding(socket, docker_host.removeprefix("unix://")):
            back = time.monotonic()
            while time.monotonic() < back + 30 and await left_of(stage_id) != NOTHING:
                await asyncio.sleep(0.2)
            took = time.monotonic() - back
            print(f"the stage's network and volume were removed {took:.1f}s after the engine answered again")
            assert await left_of(stage_id) == NOTHING
    finally:
        await engine.close()
        for kind in ("network", "volume"):
            subprocess.run(["docker", kind, "rm", f"hangar-{stage_id}"], capture_output=True, check=False)


async def left_of(stage_id: str) -> dict[str, list[str]]:
    """What of the stage is still on the engine (asked in a thread: the loop keeps serving the runner)."""
    return await asyncio.to_thread(hangar_objects, f"{STAGE_LABEL}={stage_id}")


@contextlib.asynccontextmanager
async def forwarding(path: Path, engine_socket: str) -> AsyncIterator[None]:
    """A unix socket at `path` that forwards every connection to the engine's socket."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def serve(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        engine_reader, engine_writer = await asyncio.open_unix_connection(engine_socket)
        await asyncio.gather(pipe(client_reader, engine_writer), pipe(engine_reader, client_writer))

    server = await asyncio.start_unix_server(serve, str(path))
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()

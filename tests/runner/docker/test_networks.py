"""The pool of stage networks on a real engine: reused between stages, never while in use, never leaked."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiodocker import Docker

from runner.docker import DockerEngine
from runner.docker.leftovers import remove_orphans
from runner.docker.networks import NetworkPool
from runner.executor import run_stage
from runner.labels import OWNER_LABEL, POOL_LABEL, STAGE_LABEL, owner_label
from tests.runner.docker.test_leftovers import dead_pid
from tests.runner.support import RecordingReporter, plan_of

pytestmark = pytest.mark.usefixtures("docker_host")

PIPELINE = """kind: pipeline
name: default
clone: {disable: true}
steps:
  - {name: a, image: busybox, commands: [hostname]}
"""


@pytest.fixture
async def docker() -> AsyncIterator[Docker]:
    client = Docker()
    try:
        yield client
    finally:
        await client.close()


def networks() -> list[str]:
    listed = subprocess.run(
        ["docker", "network", "ls", "-q", "--filter", f"label={POOL_LABEL}=true", "--format", "{{.Name}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


async def test_a_stage_reuses_the_network_the_previous_stage_gave_back(docker: Docker) -> None:
    before = set(networks())
    pool = NetworkPool(docker)
    first = await pool.take("s1", {OWNER_LABEL: owner_label(), STAGE_LABEL: "s1"})
    assert pool.network_of("s1") == first
    assert await pool.give_back("s1")
    assert await pool.take("s2", {OWNER_LABEL: owner_label()}) == first, "the idle network is taken again"
    labels = (await (await docker.networks.get(first)).show())["Labels"]
    assert STAGE_LABEL not in labels and labels[OWNER_LABEL] == owner_label()
    await pool.give_back("s2")
    await pool.close()
    assert set(networks()) == before


async def test_a_network_something_is_still_attached_to_is_not_handed_on(docker: Docker) -> None:
    pool = NetworkPool(docker)
    name = await pool.take("s1", {OWNER_LABEL: owner_label()})
    body: dict[str, Any] = {"Image": "busybox", "Cmd": ["sleep", "30"], "HostConfig": {"NetworkMode": name}}
    container = await docker.containers.run(body)
    try:
        assert await pool.give_back("s1"), "removed: the foreign container is disconnected first"
        assert name not in networks()
        assert await pool.take("s2", {OWNER_LABEL: owner_label()}) != name
    finally:
        await container.delete(force=True)
        await pool.give_back("s2")
        await pool.close()


async def test_stages_in_a_row_share_one_network_and_leave_nothing() -> None:
    before = set(networks())
    async with await DockerEngine.connect() as engine:
        hosts = []
        for _ in range(3):
            reporter = RecordingReporter()
            report = await run_stage(engine, reporter, plan_of(PIPELINE))
            assert report.status == "success", reporter.text("a")
            hosts.append(reporter.text("a")[1])
        assert len(set(hosts)) == 3, "every stage's step is a fresh container"
        assert len(set(networks()) - before) == 1, "one idle network, kept between the stages"
    assert set(networks()) == before, "closing the engine removes its idle networks"


async def test_the_idle_networks_of_a_dead_runner_are_removed_at_start_up(docker: Docker) -> None:
    owner = f"{owner_label().rpartition(':')[0]}:{dead_pid()}"
    pool = NetworkPool(docker)
    name = await pool.take("s1", {OWNER_LABEL: owner})
    await pool.give_back("s1")  # idle, and its runner "dies" without closing the pool
    assert name in networks()
    await remove_orphans(docker)
    assert name not in networks()


async def test_retired_networks_go_while_the_stages_exited_containers_are_still_there(docker: Docker) -> None:
    pool = NetworkPool(docker)
    held = await pool.take("s1", {OWNER_LABEL: owner_label()})
    idle = await pool.take("s2", {OWNER_LABEL: owner_label()})
    await pool.give_back("s2")
    body: dict[str, Any] = {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"NetworkMode": held}}
    container = await docker.containers.run(body)
    try:
        await container.wait()
        pool.retire()  # the last stage ended: its steps' containers have exited, not yet been removed
        assert await pool.give_back("s1"), "its removal is under way"
        await pool.close()
        assert held not in networks() and idle not in networks()
        assert (await container.show())["State"]["Status"] == "exited"
    finally:
        await container.delete(force=True)

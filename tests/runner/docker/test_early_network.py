"""`hangar exec`'s early network: made before the engine connects, the first stage runs on it, none leaks."""

from __future__ import annotations

import subprocess

import pytest

from pipelines.status import Status
from runner.docker import DockerEngine
from runner.early_network import EarlyNetwork
from runner.executor import run_stage
from runner.labels import OWNER_LABEL, POOL_LABEL, owner_label
from tests.runner.docker.test_networks import PIPELINE
from tests.runner.support import RecordingReporter, plan_of

pytestmark = pytest.mark.usefixtures("docker_host")


def networks() -> set[str]:
    """This process's pool networks (those of other processes on the engine come and go meanwhile)."""
    labels = ["--filter", f"label={POOL_LABEL}=true", "--filter", f"label={OWNER_LABEL}={owner_label()}"]
    listed = ["docker", "network", "ls", "-q", *labels, "--format", "{{.Name}}"]
    return set(subprocess.run(listed, capture_output=True, text=True, check=True).stdout.split())


def made_early() -> tuple[EarlyNetwork, str]:
    """An early network, once made (it is there, one of this process's)."""
    early = EarlyNetwork.begin({OWNER_LABEL: owner_label()})
    assert early is not None
    name = early.name()
    assert name is not None and name in networks()
    return early, name


async def test_the_first_stage_runs_on_the_early_network_and_it_is_removed_at_the_end() -> None:
    before = networks()
    early, name = made_early()
    assert networks() == before | {name}
    async with await DockerEngine.connect() as engine:
        await engine.adopt_network(early)
        reporter = RecordingReporter()
        report = await run_stage(engine, reporter, plan_of(PIPELINE))
        assert report.status == Status.SUCCESS
        assert networks() == before | {name}, "the stage made no network of its own"
    assert networks() == before


async def test_no_early_network_unless_docker_host_is_a_unix_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert EarlyNetwork.begin({OWNER_LABEL: owner_label()}) is None


async def test_an_early_network_no_engine_adopted_is_removed() -> None:
    before = networks()
    early, name = made_early()
    assert networks() == before | {name}
    early.discard()
    assert networks() == before

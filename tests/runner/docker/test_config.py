"""Docker API bodies for a stage's containers and volumes (pure: no Docker needed)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pipelines.plan import Plan, StepPlan
from runner.docker.config import (
    aliases,
    container_body,
    container_name,
    network_name,
    safe_name,
    volume_body,
    workspace_volume,
)
from runner.engine import ContainerSpec, StageSpec
from runner.labels import MANAGED_LABEL, STAGE_LABEL, STEP_LABEL
from tests.runner.support import plan_of

PIPELINE = """
kind: pipeline
name: default
clone: {disable: true}
volumes:
  - {name: cache, temp: {}}
  - {name: ram, temp: {medium: memory}}
  - {name: sock, host: {path: /var/run/docker.sock}}
steps:
  - name: Build agent (Linux amd64)
    image: golang:1.22
    commands: [go build]
    environment: {TOKEN: {from_secret: token}}
    volumes:
      - {name: cache, path: /go/pkg}
      - {name: ram, path: /scratch}
      - {name: sock, path: /var/run/docker.sock}
  - name: Publish
    image: plugins/docker
    privileged: true
    dns: [1.1.1.1]
    extra_hosts: ["db:10.0.0.5"]
  - name: host-net
    image: busybox
    network_mode: host
    entrypoint: [/bin/sh, -c]
    command: [echo hi]
"""

PLAN: Plan = plan_of(PIPELINE, trusted=True)
STAGE = StageSpec("s1a2", PLAN, labels={"io.hangar.owner": "runner-7", MANAGED_LABEL: "false"})


def step(name: str) -> StepPlan:
    found = PLAN.step(name)
    assert found is not None
    return found


def body(name: str, environment: dict[str, str] | None = None) -> dict[str, Any]:
    the_step = step(name)
    env = the_step.environment if environment is None else environment
    return container_body(STAGE, ContainerSpec(the_step, env))


def test_the_workspace_volume_is_mounted_at_the_workspace_base_in_every_container() -> None:
    workspace = {
        "Type": "volume",
        "Source": workspace_volume(STAGE),
        "Target": PLAN.workspace.base,
        "VolumeOptions": {"NoCopy": True},  # the image's files at that path never leak into the workspace
    }
    for the_step in PLAN.steps:
        assert body(the_step.name)["HostConfig"]["Mounts"][0] == workspace
    assert PLAN.workspace.base == "/drone/src"


def test_a_step_joins_the_stage_network_under_a_dns_safe_alias() -> None:
    built = body("Build agent (Linux amd64)")
    assert built["HostConfig"]["NetworkMode"] == network_name(STAGE) == "hangar-s1a2"
    endpoints = built["NetworkingConfig"]["EndpointsConfig"]
    assert endpoints == {"hangar-s1a2": {"Aliases": ["build-agent-linux-amd64"]}}


def test_a_name_that_is_already_a_hostname_keeps_it_besides_the_lower_case_alias() -> None:
    assert body("Publish")["NetworkingConfig"]["EndpointsConfig"]["hangar-s1a2"]["Aliases"] == [
        "Publish",
        "publish",
    ]
    assert aliases(step("host-net")) == ["host-net"]


def test_host_networking_has_no_stage_network() -> None:
    built = body("host-net")
    assert built["HostConfig"]["NetworkMode"] == "host"
    assert "NetworkingConfig" not in built
    assert built["Entrypoint"] == ["/bin/sh", "-c"]
    assert built["Cmd"] == ["echo hi"]


def test_volumes_become_named_volumes_tmpfs_and_bind_mounts() -> None:
    mounts = body("Build agent (Linux amd64)")["HostConfig"]["Mounts"]
    assert mounts[1:-1] == [
        {"Type": "volume", "Source": "hangar-s1a2-v-cache", "Target": "/go/pkg"},
        {"Type": "tmpfs", "Target": "/scratch"},
        {"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/var/run/docker.sock"},
    ]
    reports = mounts[-1]  # the step's own folder for test reports: anonymous, labelled as the stage's
    assert (reports["Type"], reports["Target"]) == ("volume", "/hangar/reports") and "Source" not in reports
    assert reports["VolumeOptions"]["Labels"][STAGE_LABEL] == "s1a2"
    by_name = {volume.name: volume for volume in PLAN.volumes}
    created = volume_body(STAGE, by_name["cache"])
    assert created is not None
    assert created["Name"] == "hangar-s1a2-v-cache"
    assert created["Labels"][STAGE_LABEL] == "s1a2"
    assert volume_body(STAGE, by_name["ram"]) is None
    assert volume_body(STAGE, by_name["sock"]) is None


def test_labels_mark_everything_as_hangars_and_name_the_stage_and_step() -> None:
    labels = body("Publish")["Labels"]
    assert labels == {
        "io.hangar.owner": "runner-7",
        MANAGED_LABEL: "true",  # a caller's label cannot unmark a container as managed
        STAGE_LABEL: "s1a2",
        STEP_LABEL: "Publish",
    }


def test_the_environment_is_the_specs_not_the_plans() -> None:
    built = body("Build agent (Linux amd64)", {"A": "1", "TOKEN": "s3cret", "EQ": "x=y"})
    assert built["Env"] == ["A=1", "TOKEN=s3cret", "EQ=x=y"]
    assert built["Image"] == "golang:1.22"
    assert built["WorkingDir"] == "/drone/src"
    assert built["Entrypoint"] == ["/bin/sh", "-c"]
    assert "go build" in built["Cmd"][0]


def test_options_are_set_only_when_given() -> None:
    host = body("Publish")["HostConfig"]
    assert host["Privileged"] is True
    assert host["Dns"] == ["1.1.1.1"]
    assert host["ExtraHosts"] == ["db:10.0.0.5"]
    plain = body("host-net")["HostConfig"]
    assert plain["Privileged"] is False
    assert not {"Dns", "ExtraHosts", "Memory", "CpusetCpus", "Devices", "ShmSize"} & plain.keys()


def test_container_names_are_valid_and_unique() -> None:
    names = {container_name(STAGE, step("Build agent (Linux amd64)")) for _ in range(20)}
    assert len(names) > 1
    for name in names:
        assert re.fullmatch(r"hangar-s1a2-1-build-agent-linux-amd64-[0-9a-f]{4}", name)


@given(st.text(max_size=30))
def test_safe_name_is_a_stable_dns_label(name: str) -> None:
    safe = safe_name(name)
    assert re.fullmatch(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?", safe)
    assert safe_name(safe) == safe

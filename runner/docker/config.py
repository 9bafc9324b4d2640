"""From a step to the Docker Engine API's container, network and volume bodies (pure, no I/O)."""

from __future__ import annotations

import re
from secrets import token_hex
from typing import Any

from pipelines.plan import Plan, StepKind, StepPlan, VolumePlan
from pipelines.script import SHELL_ENTRYPOINT
from runner.caches.auto import CACHE_DIR
from runner.engine import ContainerSpec, StageSpec
from runner.environment import REPORTS_DIR
from runner.labels import MANAGED_LABEL, STAGE_LABEL, STEP_LABEL

ARMED_SCRIPT = 'read -r _ && { cd "$PWD" 2>/dev/null || :; } && exec "$@"'
"""An armed container's shell: wait for the go line (EOF without it exits 1, running nothing), re-enter the
working directory by name (an earlier step may have replaced it), then run the step."""

_NOT_NAME = re.compile(r"[^a-z0-9_.-]+")


def labels(stage: StageSpec, **extra: str) -> dict[str, str]:
    """The labels on everything a stage creates: Hangar's, the stage's id, and the caller's."""
    return {**stage.labels, MANAGED_LABEL: "true", STAGE_LABEL: stage.id, **extra}


def network_name(stage: StageSpec) -> str:
    """The stage's bridge network when the engine was given none from its pool."""
    return f"hangar-{stage.id}"


def workspace_volume(stage: StageSpec) -> str:
    """The volume holding the workspace, mounted at the workspace base in every container."""
    return f"hangar-{stage.id}-workspace"


def cache_volume(stage: StageSpec) -> str:
    """The volume holding the automatic caches' folders, mounted at CACHE_DIR in every step."""
    return f"hangar-{stage.id}-cache"


def cache_mount(stage: StageSpec) -> dict[str, Any]:
    """The cache volume at CACHE_DIR."""
    return {"Type": "volume", "Source": cache_volume(stage), "Target": CACHE_DIR}


def volume_name(stage: StageSpec, volume: VolumePlan) -> str:
    """The Docker volume behind a pipeline's temp volume."""
    return f"hangar-{stage.id}-v-{safe_name(volume.name)}"


def safe_name(name: str) -> str:
    """A name as a DNS label and container-name part: lower case, runs of other characters as `-`."""
    return _NOT_NAME.sub("-", name.lower()).strip("-.") or "step"


def aliases(step: StepPlan) -> list[str]:
    """Network names the step answers to: its name, and a DNS-safe form when that differs."""
    safe = safe_name(step.name)[:63].strip("-.") or "step"
    return [step.name, safe] if step.name != safe and re.fullmatch(r"[A-Za-z0-9_.-]+", step.name) else [safe]


def container_name(stage: StageSpec, step: StepPlan) -> str:
    """A readable unique container name (a step may be created twice when its environment changes)."""
    return f"hangar-{stage.id}-{step.number}-{safe_name(step.name)[:40]}-{token_hex(2)}"


def workspace_mount(stage: StageSpec) -> dict[str, Any]:
    """The workspace volume at the workspace base; never seeded with what the image has at that path."""
    return {
        "Type": "volume",
        "Source": workspace_volume(stage),
        "Target": stage.plan.workspace.base,
        "VolumeOptions": {"NoCopy": True},
    }


def volume_body(stage: StageSpec, volume: VolumePlan) -> dict[str, Any] | None:
    """`POST /volumes/create` for a temp volume; None for `medium: memory` (a tmpfs per container)."""
    if volume.kind != "temp" or volume.medium == "memory":
        return None
    return {"Name": volume_name(stage, volume), "Labels": labels(stage)}


def can_arm(step: StepPlan, plan: Plan) -> bool:
    """True when starting the step's container early changes nothing the step can see.

    That needs a `/bin/sh -c` step (the `commands` steps: their shell waits for the go line) working in the
    workspace itself: Docker creates a missing working directory and the mount points of volumes when a
    container starts, and one created early inside the workspace could surprise a step that runs before.
    """
    base = plan.workspace.base.rstrip("/") + "/"
    inside = any((mount.path.rstrip("/") + "/").startswith(base) for mount in step.volumes)
    return (
        step.entrypoint == SHELL_ENTRYPOINT and step.working_dir in ("", plan.workspace.full) and not inside
    )


def container_body(
    stage: StageSpec, spec: ContainerSpec, *, network: str | None = None, armed: bool = False
) -> dict[str, Any]:
    """`POST /containers/create` for one step.

    An armed container is started ahead of its turn and waits, in its own shell, for a line on stdin before
    it execs the step's script: process, network and mounts are set up while the previous step still runs,
    so starting the step costs one write instead of a container start.
    """
    step = spec.step
    plan = stage.plan
    mounts: list[dict[str, Any]] = [workspace_mount(stage)]
    by_name = {volume.name: volume for volume in plan.volumes}
    for mount in step.volumes:
        volume = by_name.get(mount.name)
        if volume is None:
            continue
        if volume.kind == "host":
            mounts.append({"Type": "bind", "Source": volume.host_path, "Target": mount.path})
        elif volume.medium == "memory":
            mounts.append({"Type": "tmpfs", "Target": mount.path})
        else:
            mounts.append({"Type": "volume", "Source": volume_name(stage, volume), "Target": mount.path})
    if step.kind == StepKind.STEP:  # its own empty folder for test reports (an anonymous volume, labelled
        # as the stage's so that removing the stage by label finds it even if its container went another way)
        mounts.append({"Type": "volume", "Target": REPORTS_DIR, "VolumeOptions": {"Labels": labels(stage)}})
    if step.kind == StepKind.STEP and stage.cache_volume and all(m["Target"] != CACHE_DIR for m in mounts):
        mounts.append(cache_mount(stage))
    host: dict[str, Any] = {
        "Mounts": mounts,
        "Privileged": step.privileged,
        "NetworkMode": step.network_mode or network or network_name(stage),
        "LogConfig": {"Type": "json-file", "Config": {}},
    }
    optional = {
        "Dns": step.dns,
        "DnsSearch": step.dns_search,
        "ExtraHosts": step.extra_hosts,
        "ShmSize": step.shm_size,
        "Memory": step.mem_limit,
        "MemorySwap": step.memswap_limit,
        "CpuPeriod": step.cpu_period,
        "CpuQuota": step.cpu_quota,
        "CpuShares": step.cpu_shares,
        "CpusetCpus": ",".join(step.cpuset),
        "Devices": [_device(by_name[d.name].host_path, d.path) for d in step.devices if d.name in by_name],
    }
    host.update({key: value for key, value in optional.items() if value})
    body: dict[str, Any] = {
        "Image": step.image,
        "Env": [f"{key}={value}" for key, value in spec.environment.items()],
        "Labels": labels(stage, **{STEP_LABEL: step.name}),
        "HostConfig": host,
    }
    if armed:
        body["Entrypoint"] = [*SHELL_ENTRYPOINT, ARMED_SCRIPT, "hangar-armed"]
        body["Cmd"] = [*step.entrypoint, *step.command]
        body.update(OpenStdin=True, StdinOnce=True, AttachStdin=True)
    else:
        if step.entrypoint:
            body["Entrypoint"] = step.entrypoint
        if step.command:
            body["Cmd"] = step.command
    if step.working_dir:
        body["WorkingDir"] = step.working_dir
    if step.user:
        body["User"] = step.user
    if not step.network_mode:
        endpoint = {"Aliases": aliases(step)}
        body["NetworkingConfig"] = {"EndpointsConfig": {network or network_name(stage): endpoint}}
    return body


def _device(host_path: str, path: str) -> dict[str, str]:
    """A host device (a host volume such as /dev/fuse) mapped to path in the container."""
    return {"PathOnHost": host_path, "PathInContainer": path, "CgroupPermissions": "rwm"}

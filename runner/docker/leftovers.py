"""Leftovers: stages whose owner died (kill -9, power loss) are found by label and removed at start-up."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import aiohttp
from aiodocker import Docker
from aiodocker.exceptions import DockerError

from runner.docker.cleanup import remove_labelled
from runner.docker.networks import remove_network
from runner.engine import EngineError
from runner.labels import MANAGED_LABEL, OWNER_LABEL, POOL_LABEL, RUNNER_LABEL, STAGE_LABEL


def is_orphan(labels: dict[str, str], runner: str | None) -> bool:
    """True when the stage's owner is gone: a dead pid here, or our runner name in an earlier life elsewhere.

    A live process on this host still owns its stages, whatever its runner name: two runners sharing a name
    and an engine never remove each other's running stages.
    """
    host, _, pid = labels.get(OWNER_LABEL, "").rpartition(":")
    here = host == socket.gethostname() and pid.isdigit()
    if here:
        return not _alive(int(pid))
    return bool(runner) and labels.get(RUNNER_LABEL) == runner


async def remove_orphans(docker: Docker, *, runner: str | None = None) -> list[str]:
    """Remove every orphaned stage (containers, networks, volumes) and pooled network; return stage ids."""
    managed = {"label": [f"{MANAGED_LABEL}=true"]}
    try:
        containers = await docker.containers.list(all=True, filters=managed)
        found: list[dict[str, str]] = [c["Labels"] or {} for c in containers]
        found += [n.get("Labels") or {} for n in await docker.networks.list(filters=managed)]
        volumes: dict[str, Any] = await docker.volumes.list(filters=managed)  # type: ignore[no-untyped-call]
        found += [v.get("Labels") or {} for v in volumes.get("Volumes") or []]
        stages = sorted({labels[STAGE_LABEL] for labels in found if _orphaned(labels, runner)})
        for stage in stages:
            await remove_labelled(docker, {STAGE_LABEL: stage})
        pooled = await docker.networks.list(filters={"label": [f"{POOL_LABEL}=true"]})
        for network in pooled:
            if is_orphan(network.get("Labels") or {}, runner):
                await remove_network(docker, network["Id"])
    except (DockerError, aiohttp.ClientError, OSError) as exc:
        raise EngineError(f"could not remove leftovers: {exc}") from None
    return stages


def _orphaned(labels: dict[str, str], runner: str | None) -> bool:
    return STAGE_LABEL in labels and is_orphan(labels, runner)


def _alive(pid: int) -> bool:
    """Whether the process runs: a zombie (killed, not yet reaped by its parent) is as dead as a gone one."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # gone meanwhile, or no /proc: os.kill answered for it
    return stat.rpartition(")")[2].split()[0] == "Z"

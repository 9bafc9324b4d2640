"""Leftovers: stages whose owner died (kill -9, power loss) are found by label and removed at start-up."""

from __future__ import annotations

import os
import socket
from typing import Any

from aiodocker import Docker

from runner.docker.cleanup import remove_labelled
from runner.docker.config import MANAGED_LABEL, OWNER_LABEL, RUNNER_LABEL, STAGE_LABEL


def owner_label() -> str:
    """This process as an owner: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_orphan(labels: dict[str, str], runner: str | None) -> bool:
    """True when the stage's owner is gone: our runner name in an earlier life, or a dead pid here."""
    if runner and labels.get(RUNNER_LABEL) == runner:
        return True
    host, _, pid = labels.get(OWNER_LABEL, "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not _alive(int(pid))


async def remove_orphans(docker: Docker, *, runner: str | None = None) -> list[str]:
    """Remove every orphaned stage (containers, networks, volumes); return their ids."""
    managed = {"label": [f"{MANAGED_LABEL}=true"]}
    containers = await docker.containers.list(all=True, filters=managed)
    found: list[dict[str, str]] = [c["Labels"] or {} for c in containers]
    found += [n.get("Labels") or {} for n in await docker.networks.list(filters=managed)]
    volumes: dict[str, Any] = await docker.volumes.list(filters=managed)  # type: ignore[no-untyped-call]
    found += [v.get("Labels") or {} for v in volumes.get("Volumes") or []]
    stages = sorted({found_labels[STAGE_LABEL] for found_labels in found if _orphaned(found_labels, runner)})
    for stage in stages:
        await remove_labelled(docker, {STAGE_LABEL: stage})
    return stages


def _orphaned(labels: dict[str, str], runner: str | None) -> bool:
    return STAGE_LABEL in labels and is_orphan(labels, runner)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

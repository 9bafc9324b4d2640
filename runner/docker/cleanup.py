"""Removing what a stage created, found by label: containers first, then its network and volumes at once."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiodocker import Docker
from aiodocker.exceptions import DockerError

from runner.docker.networks import remove_network

_NOT_FOUND = 404


async def remove_labelled(docker: Docker, selector: Mapping[str, str]) -> list[str]:
    """Remove the containers, then the networks and volumes, whose labels match; return what is left."""
    filters = {"label": [f"{key}={value}" for key, value in selector.items()]}
    containers = await docker.containers.list(all=True, filters=filters)
    deletions = (container.delete(force=True, v=True) for container in containers)
    removed = await asyncio.gather(*deletions, return_exceptions=True)
    networks, volumes = await asyncio.gather(
        docker.networks.list(filters=filters),
        docker.volumes.list(filters=filters),  # type: ignore[no-untyped-call]
    )
    volume_listing: dict[str, Any] = volumes
    volume_names = [volume["Name"] for volume in volume_listing.get("Volumes") or []]
    results = await asyncio.gather(
        *(remove_network(docker, network["Id"]) for network in networks),
        *(_remove_volume(docker, name) for name in volume_names),
    )
    left = [f"container {c.id[:12]}" for c, r in zip(containers, removed, strict=True) if _failed(r)]
    names = [f"network {n['Name']}" for n in networks] + [f"volume {name}" for name in volume_names]
    return left + [name for name, done in zip(names, results, strict=True) if not done]


def _failed(result: object) -> bool:
    return isinstance(result, DockerError) and result.status != _NOT_FOUND


async def _remove_volume(docker: Docker, name: str) -> bool:
    try:
        await docker._query_json(f"volumes/{name}", method="DELETE", params={"force": "1"})
    except DockerError as exc:
        return exc.status == _NOT_FOUND
    return True

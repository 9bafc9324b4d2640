"""Removing what a stage created, found by label: containers first, then its network and volumes at once."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiodocker import Docker
from aiodocker.exceptions import DockerError

_NOT_FOUND = 404
_NETWORK_ATTEMPTS = 5


async def remove_labelled(docker: Docker, selector: Mapping[str, str]) -> dict[str, int]:
    """Remove the containers, then the networks and volumes, whose labels match; return how many of each."""
    filters = {"label": [f"{key}={value}" for key, value in selector.items()]}
    containers = await docker.containers.list(all=True, filters=filters)
    removed = await asyncio.gather(
        *(c.delete(force=True, v=True) for c in containers), return_exceptions=True
    )
    networks, volumes = await asyncio.gather(
        docker.networks.list(filters=filters),
        docker.volumes.list(filters=filters),  # type: ignore[no-untyped-call]
    )
    volume_listing: dict[str, Any] = volumes
    results = await asyncio.gather(
        *(_remove_network(docker, network["Id"]) for network in networks),
        *(_remove_volume(docker, volume["Name"]) for volume in volume_listing.get("Volumes") or []),
    )
    return {
        "containers": sum(1 for result in removed if not isinstance(result, BaseException)),
        "networks": sum(results[: len(networks)]),
        "volumes": sum(results[len(networks) :]),
    }


async def _remove_network(docker: Docker, network_id: str) -> bool:
    """Remove a network, retrying briefly while the daemon still detaches endpoints."""
    for attempt in range(_NETWORK_ATTEMPTS):
        try:
            await (await docker.networks.get(network_id)).delete()
        except DockerError as exc:
            if exc.status == _NOT_FOUND or attempt == _NETWORK_ATTEMPTS - 1:
                return False
            await asyncio.sleep(0.1 * (attempt + 1))
        else:
            return True
    return False


async def _remove_volume(docker: Docker, name: str) -> bool:
    try:
        await docker._query_json(f"volumes/{name}", method="DELETE", params={"force": "1"})
    except DockerError:
        return False
    return True

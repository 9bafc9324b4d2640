"""Stage networks kept for the next stage: creating and removing a bridge costs the engine ~150 ms a stage.

A stage takes an idle network of this runner (or a new one) and gives it back once its containers are gone;
the next stage starts on it at once. Reuse is safe because a network is handed on only when no container is
attached to it any more, and a stage's containers, names and aliases all go with the stage. Idle networks
carry the owner's labels, so a runner killed with idle ones leaves nothing a later start-up does not remove.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
from aiodocker import Docker
from aiodocker.exceptions import DockerError

from runner.labels import pool_network_body

IDLE_LIMIT = 4
"""Networks kept idle at most: more are removed when given back (a runner rarely runs more stages at once)."""

_NOT_FOUND = 404
_ATTEMPTS = 5


class NetworkPool:
    """This runner's stage networks: held by a stage while it runs, idle in between."""

    def __init__(self, docker: Docker, *, idle_limit: int = IDLE_LIMIT) -> None:
        self._docker = docker
        self._idle_limit = idle_limit
        self._idle: list[str] = []
        self._held: dict[str, str] = {}
        self._stray: list[str] = []
        """Networks that could not be removed when given back: tried again at close."""
        self._retiring: dict[str, asyncio.Task[bool]] = {}
        """The removals retire() began, by network: awaited at close."""

    async def take(self, stage_id: str, labels: Mapping[str, str]) -> str:
        """A network for the stage: an idle one, else a new one labelled with `labels` (the stage's own)."""
        name = self._idle.pop() if self._idle else await self._create(labels)
        self._held[stage_id] = name
        return name

    def network_of(self, stage_id: str) -> str | None:
        """The network the stage holds, if any."""
        return self._held.get(stage_id)

    async def give_back(self, stage_id: str) -> bool:
        """Keep the stage's network for the next stage if nothing is attached to it, else remove it.

        Returns False when the network could not be removed (the engine is away or something stays attached);
        it is tried again at close, and a later start-up's sweep removes it if this runner dies first.
        """
        name = self._held.pop(stage_id, None)
        if name is None or name in self._retiring:
            return True
        if len(self._idle) < self._idle_limit and await self._unused(name):
            self._idle.append(name)
            return True
        if await remove_network(self._docker, name):
            return True
        self._stray.append(name)
        return False

    def retire(self) -> None:
        """Begin removing every network now, held ones included, instead of at close: no stage takes one any
        more and the stages holding one have stopped their containers (an exited container does not keep its
        network from being removed, so this overlaps the removal of the containers). Close awaits it."""
        names = [*self._idle, *self._stray, *self._held.values()]
        self._idle, self._stray = [], []
        for name in names:
            if name not in self._retiring:
                self._retiring[name] = asyncio.create_task(remove_network(self._docker, name))

    async def close(self) -> None:
        """Remove the idle networks and those that could not be removed before; end what retire() began
        (trying again what it could not remove)."""
        retiring, self._retiring = self._retiring, {}
        removed = await asyncio.gather(*retiring.values(), return_exceptions=True)
        names = [name for name, done in zip(retiring, removed, strict=True) if done is not True]
        names, self._idle, self._stray = [*names, *self._idle, *self._stray], [], []
        await asyncio.gather(*(remove_network(self._docker, name) for name in names), return_exceptions=True)

    def adopt(self, name: str) -> None:
        """Keep a pool network made elsewhere (`hangar exec`'s early one) as idle, for the next stage."""
        self._idle.append(name)

    async def _create(self, labels: Mapping[str, str]) -> str:
        body = pool_network_body(labels)
        await self._docker.networks.create(body)
        return str(body["Name"])

    async def _unused(self, name: str) -> bool:
        try:
            shown = await (await self._docker.networks.get(name)).show()
        except (DockerError, aiohttp.ClientError, OSError):
            return False
        return not shown.get("Containers")


async def remove_network(docker: Docker, network_id: str) -> bool:
    """Remove a network, retrying while the daemon detaches endpoints; foreign containers are disconnected."""
    for attempt in range(_ATTEMPTS):
        try:
            network = await docker.networks.get(network_id)
            if attempt == _ATTEMPTS // 2:  # still in use: a container the stage did not make joined
                for container in (await network.show()).get("Containers") or {}:
                    await network.disconnect({"Container": container, "Force": True})
            await network.delete()
        except DockerError as exc:
            if exc.status == _NOT_FOUND:
                return True
            await asyncio.sleep(0.1 * (attempt + 1))
        except (aiohttp.ClientError, OSError):
            await asyncio.sleep(0.1 * (attempt + 1))
        else:
            return True
    return False

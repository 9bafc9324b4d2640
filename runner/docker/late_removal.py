"""Late removal: a stage whose teardown failed (the engine stopped or restarted meanwhile) is removed once the
engine answers again, instead of waiting for the runner's next start-up sweep."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from aiodocker import Docker
from aiodocker.exceptions import DockerError

from runner.docker.cleanup import remove_labelled
from runner.labels import STAGE_LABEL
from runner.tasks import stop_task

FIRST_PAUSE = 1.0
LONGEST_PAUSE = 30.0


class LateRemoval:
    """Retries, with a growing pause, removing the stages it is given, until the engine takes it."""

    def __init__(self, docker: Docker) -> None:
        self.docker = docker
        self.pending: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def add(self, stage_id: str) -> None:
        """Remove the stage's containers, network and volumes as soon as the engine lets us."""
        self.pending.add(stage_id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._retry(), name="late removal of stages")

    async def close(self) -> None:
        """Stop retrying (what is left goes to the next start-up's sweep of orphans)."""
        await stop_task(self._task)
        self._task = None

    async def _retry(self) -> None:
        pause = FIRST_PAUSE
        while self.pending:
            await asyncio.sleep(pause)
            for stage_id in sorted(self.pending):
                with contextlib.suppress(DockerError, aiohttp.ClientError, OSError):
                    if not await remove_labelled(self.docker, {STAGE_LABEL: stage_id}):
                        self.pending.discard(stage_id)
            pause = min(pause * 2, LONGEST_PAUSE)

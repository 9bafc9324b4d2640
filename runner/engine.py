"""The Engine protocol: what the executor needs from a container runtime, and the types it speaks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from pipelines.plan import Plan, StepPlan


class EngineError(Exception):
    """A step could not be run (image missing, registry refused, bad option); the message is for its log."""


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials for pulling from one registry host."""

    host: str
    username: str
    password: str


@dataclass(frozen=True)
class StageSpec:
    """A stage as the engine sees it: the Plan, a unique id for names, and labels for everything created."""

    id: str
    plan: Plan
    labels: Mapping[str, str] = field(default_factory=dict)
    registry_auth: tuple[RegistryAuth, ...] = ()
    cache_volume: bool = False
    """The stage keeps caches: a cache volume is mounted at `runner.caches.auto.CACHE_DIR` in its steps."""


FolderArchive = tuple[str, AsyncIterable[bytes]]
"""A tar to unpack, streamed, and the absolute folder it goes into."""
PathSink = Callable[[str, AsyncIterator[bytes]], Awaitable[None]]
"""Receives one path's tar (as Docker's archive API names it: from the path's own name) in chunks."""


@dataclass(frozen=True)
class ContainerSpec:
    """One container to create: the step, and its final environment (secrets included)."""

    step: StepPlan
    environment: Mapping[str, str]


@dataclass(frozen=True)
class Exit:
    """How a container ended."""

    code: int
    oom_killed: bool = False


class Engine(Protocol):
    """A container runtime: set up a stage; create, start, tail, wait, stop, remove containers; destroy it."""

    async def setup(self, stage: StageSpec) -> None:
        """Create the stage's network and volumes."""

    async def fill_workspace(self, stage: StageSpec, archive: BinaryIO) -> None:
        """Unpack a tar archive into the stage's workspace volume."""

    def workspace_folder(self, stage: StageSpec) -> Path | None:
        """The workspace's folder on this host when this process can fill it directly (else None)."""

    async def read_paths(self, stage: StageSpec, paths: Sequence[str], sink: PathSink) -> None:
        """Stream to sink a tar of each absolute path of the stage's volumes that exists."""

    async def write_paths(self, stage: StageSpec, archives: Sequence[FolderArchive]) -> None:
        """Unpack each tar into its absolute folder of the stage's volumes, creating the folder if missing."""

    async def create(self, stage: StageSpec, spec: ContainerSpec) -> str:
        """Pull the image as the policy says and create the container; return its handle."""

    async def start(self, handle: str) -> None:
        """Start a created container."""

    def output(self, handle: str) -> AsyncIterator[bytes]:
        """The container's stdout and stderr from the beginning, as raw chunks, until it exits."""

    async def wait(self, handle: str) -> Exit:
        """Wait until the container exits."""

    async def stop(self, handle: str, grace: float) -> None:
        """Ask the container to stop (SIGTERM), and kill it after grace seconds."""

    async def archive(self, handle: str, path: str, limit: int) -> BinaryIO | None:
        """A tar of `path` (a file or folder) in a finished container, at most `limit` bytes (EngineError
        beyond); None when there is nothing at that path."""

    async def remove(self, handle: str) -> None:
        """Remove a container, running or not."""

    async def destroy(self, stage: StageSpec) -> None:
        """Remove everything the stage created: containers, network, volumes."""


async def quietly(awaitable: Awaitable[object]) -> None:
    """Await best-effort clean-up work, ignoring its errors (the stage's destroy is the backstop)."""
    with contextlib.suppress(Exception):
        await awaitable

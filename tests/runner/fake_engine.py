"""A scripted in-memory Engine for the executor's unit tests (the Docker tests use a real engine)."""

from __future__ import annotations

import asyncio
import io
import tarfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from runner.engine import ContainerSpec, EngineError, Exit, FolderArchive, PathSink, StageSpec


@dataclass
class Behaviour:
    """What a step's container does: print these chunks, take this long, exit with this code."""

    output: list[bytes] = field(default_factory=list)
    exit_code: int = 0
    duration: float = 0.0
    create_error: str = ""
    start_error: str = ""
    oom: bool = False
    create_delay: float = 0.0
    written: dict[str, bytes] = field(default_factory=dict)
    """Files the step leaves in its container, by absolute path."""
    stored: dict[str, bytes] = field(default_factory=dict)
    """Files the step writes into the stage's volumes (workspace, cache), by absolute path."""

    def files(self, root: str) -> BinaryIO | None:
        """A tar of the written files under `root`, named as the Docker archive endpoint names them."""
        prefix = root.rstrip("/") + "/"
        inside = {
            path: data for path, data in self.written.items() if path.startswith(prefix) or path == root
        }
        if not inside:
            return None
        parent = root.rstrip("/").rsplit("/", 1)[0]
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for path, data in inside.items():
                info = tarfile.TarInfo(path.removeprefix(parent + "/"))
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        buffer.seek(0)
        return buffer


@dataclass
class FakeContainer:
    """One created container."""

    handle: str
    spec: ContainerSpec
    behaviour: Behaviour
    state: str = "created"
    output: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    exit: asyncio.Future[Exit] | None = None
    task: asyncio.Task[None] | None = None


class FakeEngine:
    """Records every call with a timestamp; containers follow their step's Behaviour."""

    def __init__(
        self, behaviours: Mapping[str, Behaviour] | None = None, *, folder: Path | None = None
    ) -> None:
        self.behaviours = dict(behaviours or {})
        self.folder = folder
        """Where `workspace_folder` says the workspace is on this host (None: filled with an archive)."""
        self.containers: dict[str, FakeContainer] = {}
        self.events: list[tuple[float, str, str]] = []
        self.workspace: bytes | None = None
        self.volumes: dict[str, bytes] = {}
        """The files in the stage's volumes (restored caches, what steps stored), by absolute path."""
        self.stages: set[str] = set()

    def started(self, name: str) -> float:
        """When the step's container started."""
        return next(t for t, verb, who in self.events if verb == "start" and who == name)

    def ended(self, name: str) -> float:
        """When the step's container exited."""
        return next(t for t, verb, who in self.events if verb == "exit" and who == name)

    def environment(self, name: str) -> Mapping[str, str]:
        """The environment of the step's last created container."""
        return [c for c in self.containers.values() if c.spec.step.name == name][-1].spec.environment

    def alive(self) -> list[str]:
        """Containers not removed."""
        return [c.spec.step.name for c in self.containers.values() if c.state != "removed"]

    def _log(self, verb: str, who: str) -> None:
        self.events.append((time.monotonic(), verb, who))

    async def setup(self, stage: StageSpec) -> None:
        """Remember the stage."""
        self.stages.add(stage.id)
        self._log("setup", stage.id)

    async def archive(self, handle: str, path: str, limit: int) -> BinaryIO | None:
        """The files the step's Behaviour wrote at that path, as a tar (None: nothing there)."""
        container = self.containers[handle]
        return container.behaviour.files(path)

    def workspace_folder(self, stage: StageSpec) -> Path | None:
        """A folder to clone into directly, when the test gave one."""
        return self.folder

    async def fill_workspace(self, stage: StageSpec, archive: BinaryIO) -> None:
        """Keep the archive's bytes."""
        self.workspace = archive.read()

    async def read_paths(self, stage: StageSpec, paths: Sequence[str], sink: PathSink) -> None:
        """A tar of the volume files under each path, named from the path's own name, as Docker does."""
        for path in paths:
            parent = path.rstrip("/").rsplit("/", 1)[0]
            inside = {p: d for p, d in self.volumes.items() if p == path or p.startswith(path + "/")}
            if inside:
                await sink(path, _tar_chunks(inside, parent))

    async def write_paths(self, stage: StageSpec, archives: Sequence[FolderArchive]) -> None:
        """Unpack each tar's files into the volumes."""
        for folder, data in archives:
            buffer = io.BytesIO(b"".join([chunk async for chunk in data]))
            with tarfile.open(fileobj=buffer, mode="r:") as tar:
                for member in tar:
                    content = tar.extractfile(member) if member.isreg() else None
                    if content is not None:
                        self.volumes[f"{folder.rstrip('/')}/{member.name}"] = content.read()
        self._log("write_paths", stage.id)

    async def create(self, stage: StageSpec, spec: ContainerSpec) -> str:
        """A container that will follow its Behaviour."""
        behaviour = self.behaviours.get(spec.step.name, Behaviour())
        await asyncio.sleep(behaviour.create_delay)
        if behaviour.create_error:
            raise EngineError(behaviour.create_error)
        handle = f"c{len(self.containers)}"
        self.containers[handle] = FakeContainer(handle, spec, behaviour)
        self._log("create", spec.step.name)
        return handle

    async def start(self, handle: str) -> None:
        """Run the Behaviour in the background."""
        container = self.containers[handle]
        if container.behaviour.start_error:
            raise EngineError(container.behaviour.start_error)
        container.state = "running"
        container.exit = asyncio.get_running_loop().create_future()
        container.task = asyncio.create_task(self._play(container))
        self._log("start", container.spec.step.name)

    async def _play(self, container: FakeContainer) -> None:
        for chunk in container.behaviour.output:
            await container.output.put(chunk)
        await asyncio.sleep(container.behaviour.duration)
        self._exit(container, Exit(container.behaviour.exit_code, container.behaviour.oom))

    def _exit(self, container: FakeContainer, exit_state: Exit) -> None:
        if container.exit is not None and not container.exit.done():
            self.volumes.update(container.behaviour.stored)
            container.exit.set_result(exit_state)
            container.state = "exited"
            container.output.put_nowait(None)
            self._log("exit", container.spec.step.name)

    async def output(self, handle: str) -> AsyncIterator[bytes]:
        """The chunks the Behaviour prints."""
        container = self.containers[handle]
        while (chunk := await container.output.get()) is not None:
            yield chunk

    async def wait(self, handle: str) -> Exit:
        """The exit of the container."""
        container = self.containers[handle]
        assert container.exit is not None
        return await container.exit

    async def stop(self, handle: str, grace: float) -> None:
        """Kill the container at once (exit 137)."""
        container = self.containers[handle]
        self._log("stop", container.spec.step.name)
        if container.task is not None:
            container.task.cancel()
        self._exit(container, Exit(137))

    async def remove(self, handle: str) -> None:
        """Forget the container."""
        container = self.containers[handle]
        if container.state == "running":
            await self.stop(handle, 0)
        container.state = "removed"
        self._log("remove", container.spec.step.name)

    async def destroy(self, stage: StageSpec) -> None:
        """Remove every container of the stage."""
        for handle, container in self.containers.items():
            if container.state != "removed":
                await self.remove(handle)
        self.stages.discard(stage.id)
        self._log("destroy", stage.id)


async def _tar_chunks(files: Mapping[str, bytes], parent: str) -> AsyncIterator[bytes]:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path.removeprefix(parent + "/"))
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    yield buffer.getvalue()

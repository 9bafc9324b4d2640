"""DockerEngine: stages as a bridge network plus volumes, steps as containers, all labelled as Hangar's."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import posixpath
import tarfile
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from posixpath import relpath
from typing import Any, BinaryIO, Self, cast

import aiohttp
from aiodocker import Docker
from aiodocker.exceptions import DockerError

from pipelines.plan import StepKind
from runner.caches.auto import CACHE_DIR
from runner.docker import config, rawsocket
from runner.docker.attached import AttachedOutput, attached_payloads
from runner.docker.cleanup import remove_labelled
from runner.docker.frames import FrameReader
from runner.docker.host_folders import (
    SPOOL_IN_MEMORY,
    TooLarge,
    mounted_folder,
    pack_folder,
    writable_folder,
)
from runner.docker.images import ImagePuller, PullRequest
from runner.docker.late_removal import LateRemoval
from runner.docker.networks import NetworkPool
from runner.early_network import EarlyNetwork
from runner.engine import ContainerSpec, EngineError, Exit, FolderArchive, PathSink, StageSpec
from runner.labels import STAGE_LABEL
from runner.registry_auth import auth_for_image

PLACEHOLDER_IMAGE = "hangar/workspace:1"
_NOT_FOUND, _NOT_MODIFIED, _CONFLICT = 404, 304, 409
_READ_SIZE = 64 * 1024
_OOM_EXIT_CODE = 137
_KILLED_BY_SIGNAL = 128
_FOREVER = aiohttp.ClientTimeout(total=None, sock_read=None)
_PREFETCHED = 2
"""Steps whose images are pulled while the stage is set up (the next ones while the first ones run)."""


class DockerEngine:
    """The Engine protocol on the Docker Engine API; `DOCKER_HOST` (or the default socket) says where."""

    def __init__(self, docker: Docker, *, arm: bool = True, platform: tuple[str, str] | None = None) -> None:
        self.docker = docker
        self.arm = arm
        self._armed: dict[str, tuple[str, asyncio.StreamWriter]] = {}
        self._attached: dict[str, tuple[str, AttachedOutput]] = {}
        """Container → its stage's id and the output connection attached before it started."""
        self._images = ImagePuller(docker, platform=platform)
        self._networks = NetworkPool(docker)
        self._folders: dict[str, Path] = {}
        """Stage id → the workspace's folder on this host, where this process can write it directly."""
        self._placeholder: asyncio.Task[None] | None = None
        self._late_removal = LateRemoval(docker)
        self._stopped: set[str] = set()
        """Containers the runner stopped (cancel, timeout, teardown): killed by it, not by the engine."""
        self._mounts: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        """Container → its stage's id and its mounts, learnt while it was made (not after its step)."""

    @classmethod
    async def connect(cls, url: str | None = None) -> Self:
        """An engine on the Docker daemon at url (default: `DOCKER_HOST`), checked to answer.

        One request: the unversioned `GET /version` both checks the daemon and settles the API version
        (aiodocker's own negotiation would ask it again, and the image checks a third time for the platform).
        """
        docker = Docker(url)
        try:
            version: dict[str, Any] = await docker._query_json("version", versioned_api=False)
            if docker.api_version == "auto":
                docker.api_version = f"v{version['ApiVersion']}"
        except (DockerError, aiohttp.ClientError, OSError, KeyError, ValueError) as exc:
            await docker.close()
            where = url or "DOCKER_HOST or /var/run/docker.sock"
            raise EngineError(f"cannot reach the Docker engine at {where}: {exc}") from None
        return cls(docker, platform=(str(version.get("Os", "")), str(version.get("Arch", ""))))

    async def close(self) -> None:
        """Close the connection to the daemon (and any stdin still held for an armed container)."""
        for _, stdin in self._armed.values():
            await rawsocket.close(stdin)
        self._armed.clear()
        for _, attached in self._attached.values():
            await attached.close()
        self._attached.clear()
        await self._networks.close()
        await self._images.close()
        await self._late_removal.close()
        await self.docker.close()

    async def adopt_network(self, early: EarlyNetwork) -> None:
        """Take a network begun before this engine connected (`hangar exec`'s) into the pool, for the next
        stage (unless it was made on another engine than this one: a Docker context chose it)."""
        name = await asyncio.to_thread(early.name)
        if name is None:
            return
        if early.socket_path == self._socket_path():
            self._networks.adopt(name)
            early.adopted = True

    def retire_networks(self) -> None:
        """No stage starts any more and the running ones have stopped their containers: begin removing the
        stage networks now, while the containers are removed, rather than at close (which awaits it)."""
        self._networks.retire()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- stage --------------------------------------------------------------------------------------

    async def setup(self, stage: StageSpec) -> None:
        """Take a network from the pool; create the stage's workspace volume and temp volumes; begin pulling
        the first steps' images meanwhile."""
        volumes = [{"Name": config.workspace_volume(stage), "Labels": config.labels(stage)}]
        if stage.cache_volume:
            volumes.append({"Name": config.cache_volume(stage), "Labels": config.labels(stage)})
        volumes += [body for v in stage.plan.volumes if (body := config.volume_body(stage, v)) is not None]
        for step in [step for step in stage.plan.steps if step.kind != StepKind.CLONE][:_PREFETCHED]:
            auth = auth_for_image(step.image, stage.registry_auth)
            self._images.prefetch(stage.id, PullRequest(step.image, step.pull, auth))
        try:
            _, workspace, *_ = await asyncio.gather(
                self._networks.take(stage.id, config.labels(stage)),
                *(self._create_volume(body) for body in volumes),
            )
        except (DockerError, aiohttp.ClientError, OSError) as exc:
            raise EngineError(f"could not set up the stage: {_reason(exc)}") from None
        full, base = stage.plan.workspace.full, stage.plan.workspace.base
        folder = writable_folder(workspace, full.removeprefix(base).strip("/"))
        if folder is not None:
            self._folders[stage.id] = folder

    async def _create_volume(self, body: dict[str, Any]) -> dict[str, Any]:
        """`POST /volumes/create`, answering the volume as Docker describes it (its Mountpoint included)."""
        created: dict[str, Any] = await self.docker._query_json(
            "volumes/create", method="POST", data=json.dumps(body)
        )
        return created

    def workspace_folder(self, stage: StageSpec) -> Path | None:
        """The workspace's folder on this host when this process can fill it directly (else None)."""
        return self._folders.get(stage.id)

    async def fill_workspace(self, stage: StageSpec, archive: BinaryIO) -> None:
        """Unpack the archive into the workspace through a created, never started, placeholder container."""
        workspace = stage.plan.workspace
        try:
            async with self._placeholder_of(stage) as container:
                relative = workspace.full.removeprefix(workspace.base).strip("/")
                if relative:
                    await container.put_archive(workspace.base, _directory_tar(relative))
                await container.put_archive(workspace.full, archive)
        except (DockerError, aiohttp.ClientError, OSError) as exc:
            raise EngineError(f"could not copy the files into the workspace: {_reason(exc)}") from None

    async def read_paths(self, stage: StageSpec, paths: Sequence[str], sink: PathSink) -> None:
        """`GET /containers/{id}/archive` of each path through a placeholder container, streamed to sink."""
        try:
            async with self._placeholder_of(stage) as container:
                for path in paths:
                    await self._read_path(container.id, path, sink)
        except DockerError as exc:
            raise EngineError(f"could not read the stage's files: {exc.message}") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise EngineError(f"could not read the stage's files: {_reason(exc)}") from None

    async def _read_path(self, container_id: str, path: str, sink: PathSink) -> None:
        """One path's archive to the sink (nothing when there is nothing at that path)."""
        socket_path = self._socket_path()
        if socket_path is not None:
            chunks = rawsocket.read_archive(socket_path, container_id, path)
            try:
                first = await anext(chunks, b"")
                await sink(path, _prepended(first, chunks))
            except rawsocket.NotFound:
                return
            finally:
                await chunks.aclose()
            return
        try:
            async with self.docker._query(
                f"containers/{container_id}/archive", params={"path": path}, timeout=_FOREVER
            ) as response:
                await sink(path, _chunks(response))
        except DockerError as exc:
            if exc.status != _NOT_FOUND:  # nothing at that path: nothing to keep of it
                raise

    async def write_paths(self, stage: StageSpec, archives: Sequence[FolderArchive]) -> None:
        """Unpack each tar into its folder (made first) through a placeholder container, streamed."""
        roots = [stage.plan.workspace.base.rstrip("/") or "/", *([CACHE_DIR] if stage.cache_volume else [])]
        try:
            async with self._placeholder_of(stage) as container:
                for folder, data in archives:
                    root = next((r for r in roots if f"{folder}/".startswith(r.rstrip("/") + "/")), "/")
                    relative = relpath(folder, root)
                    if relative != ".":
                        await container.put_archive(root, _directory_tar(relative))
                    await container.put_archive(folder, data)
        except (DockerError, aiohttp.ClientError, OSError) as exc:
            raise EngineError(f"could not copy files into the stage: {_reason(exc)}") from None

    @asynccontextmanager
    async def _placeholder_of(self, stage: StageSpec) -> AsyncIterator[Any]:
        """A created, never started, container holding the stage's workspace (and cache) volume."""
        await self._ensure_placeholder()
        mounts = [config.workspace_mount(stage), *([config.cache_mount(stage)] if stage.cache_volume else [])]
        body: dict[str, Any] = {
            "Image": PLACEHOLDER_IMAGE,
            "Cmd": ["/nonexistent"],
            "Labels": config.labels(stage),
            "HostConfig": {"Mounts": mounts},
        }
        container = await self.docker.containers.create(body)
        try:
            yield container
        finally:
            await container.delete(force=True)

    async def destroy(self, stage: StageSpec) -> None:
        """Remove the stage's containers and volumes (by its label); give its network back to the pool."""
        self._images.forget(stage.id)
        self._folders.pop(stage.id, None)
        for handle in [h for h, (stage_id, _) in self._armed.items() if stage_id == stage.id]:
            await rawsocket.close(self._armed.pop(handle)[1])
        for handle in [h for h, (stage_id, _) in self._attached.items() if stage_id == stage.id]:
            await self._attached.pop(handle)[1].close()
        for handle in [h for h, (stage_id, _) in self._mounts.items() if stage_id == stage.id]:
            del self._mounts[handle]
        network = self._networks.network_of(stage.id)
        try:
            left = await remove_labelled(self.docker, {STAGE_LABEL: stage.id})
        except (DockerError, aiohttp.ClientError, OSError) as exc:
            self._late_removal.add(stage.id)  # the engine is away: removed once it answers again
            await self._networks.give_back(stage.id)
            raise EngineError(
                f"could not remove the stage's containers, network and volumes (retried while the runner "
                f"runs): {_reason(exc)}"
            ) from None
        if not await self._networks.give_back(stage.id):
            left.append(f"network {network}")
        if left:
            self._late_removal.add(stage.id)
            raise EngineError(f"could not remove {', '.join(left)} (retried while the runner runs)")

    # -- containers ---------------------------------------------------------------------------------

    async def create(self, stage: StageSpec, spec: ContainerSpec) -> str:
        """Pull as the policy says, then create the step's container."""
        step = spec.step
        auth = auth_for_image(step.image, stage.registry_auth)
        await self._images.ensure(stage.id, PullRequest(step.image, step.pull, auth))
        socket_path = self._socket_path()
        armed = self.arm and socket_path is not None and config.can_arm(step, stage.plan)
        try:
            container = await self.docker.containers.create(
                config.container_body(stage, spec, network=self._networks.network_of(stage.id), armed=armed),
                name=config.container_name(stage, step),
            )
        except DockerError as exc:
            raise EngineError(f"could not create the container of {step.name!r}: {exc.message}") from None
        if socket_path is not None:
            await self._attach_output(stage, container.id, socket_path)
        learning = self._learn_mounts(stage, spec, container.id)
        if armed and socket_path is not None:
            stdin = await rawsocket.attach_stdin(socket_path, container.id)
            try:  # its mounts are asked while the engine starts it
                await asyncio.gather(self._start(container.id), learning)
            except BaseException:  # cancelled too: the socket must not outlive this call
                await rawsocket.close(stdin)
                raise
            self._armed[container.id] = (stage.id, stdin)
        else:
            await learning
        return container.id

    async def _learn_mounts(self, stage: StageSpec, spec: ContainerSpec, handle: str) -> None:
        """Note where a step's volumes are on this host, when the stage's workspace is here: its reports are
        read from there once it ends, and asking then would delay the next step (a service's: never read)."""
        if stage.id not in self._folders or spec.step.kind != StepKind.STEP or spec.step.detach:
            return
        with contextlib.suppress(DockerError, aiohttp.ClientError, OSError):
            shown = await self.docker.containers.container(handle).show()
            self._mounts[handle] = (stage.id, list(shown.get("Mounts") or []))

    async def _attach_output(self, stage: StageSpec, handle: str, socket_path: str) -> None:
        """Attach to the output of a container not started yet (as `docker run` does); without it, the output
        is read from the log API."""
        try:
            reader, writer = await rawsocket.attach_output(socket_path, handle)
        except (EngineError, OSError):
            return
        self._attached[handle] = (stage.id, AttachedOutput(reader, writer))

    async def start(self, handle: str) -> None:
        """Start the container; an armed one, already started, gets its go line instead."""
        attached = self._attached.get(handle)
        if attached is not None:
            attached[1].begin()
        armed = self._armed.pop(handle, None)
        if armed is None:
            await self._start(handle)
            return
        stdin = armed[1]
        try:
            stdin.write(b"go\n")
            await stdin.drain()
        except OSError as exc:
            raise EngineError(f"could not start the step: {exc}") from None
        finally:
            await rawsocket.close(stdin)

    async def _start(self, handle: str) -> None:
        try:
            await self.docker.containers.container(handle).start()
        except DockerError as exc:
            raise EngineError(f"could not start the container: {exc.message}") from None

    async def output(self, handle: str) -> AsyncIterator[bytes]:
        """Follow the container's log from its first byte until it exits, stdout and stderr as written."""
        attached = self._attached.get(handle)
        try:
            if attached is not None:
                async for payload in attached_payloads(attached[1], lambda: self._raw_log(handle)):
                    yield payload
                return
            frames = FrameReader()
            async for data in self._raw_log(handle):
                payload = frames.feed(data)
                if payload:
                    yield payload
        except DockerError as exc:
            raise EngineError(exc.message) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise EngineError(str(exc) or type(exc).__name__) from None

    async def _raw_log(self, handle: str) -> AsyncIterator[bytes]:
        socket_path = self._socket_path()
        if socket_path is not None:
            async for data in rawsocket.follow_log(socket_path, handle):
                yield data
            return
        params = {"stdout": "1", "stderr": "1", "follow": "1"}
        query = self.docker._query(f"containers/{handle}/logs", params=params, timeout=_FOREVER)
        async with query as response:
            while data := await response.content.read(_READ_SIZE):
                yield data

    async def wait(self, handle: str) -> Exit:
        """Wait for the container to exit; an exit code of 137 is checked for the OOM killer."""
        container = self.docker.containers.container(handle)
        try:
            result = await container.wait(timeout=_FOREVER)
            code = int(result.get("StatusCode", -1))
            oom = False
            if code == _OOM_EXIT_CODE:
                state = (await container.show()).get("State", {})
                oom = bool(state.get("OOMKilled"))
        except DockerError as exc:
            raise EngineError(f"lost the container: {exc.message}") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise EngineError(f"lost the Docker engine while waiting: {exc}") from None
        finally:
            stopped = handle in self._stopped
            self._stopped.discard(handle)
        if code > _KILLED_BY_SIGNAL and not oom and not stopped and not await self._answers():
            raise EngineError(f"the Docker engine stopped (or restarted) during the step (exit code {code})")
        return Exit(code, oom)

    async def stop(self, handle: str, grace: float) -> None:
        """SIGTERM, then SIGKILL after grace seconds."""
        self._stopped.add(handle)
        try:
            await self.docker.containers.container(handle).stop(t=max(0, round(grace)))
        except DockerError as exc:
            if exc.status not in (_NOT_FOUND, _NOT_MODIFIED):
                raise EngineError(f"could not stop the container: {exc.message}") from None

    async def archive(self, handle: str, path: str, limit: int) -> BinaryIO | None:
        """`GET /containers/{id}/archive` of a finished container, spooled to disk past 1 MiB; a volume of
        its own at exactly that path whose folder is on this host is packed here (the daemon spared)."""
        folder = None
        known = self._mounts.get(handle)
        if known is not None:
            folder = mounted_folder({"Mounts": known[1]}, path)
        elif self._folders:  # beside the engine (a running stage's workspace folder is here): worth asking
            with contextlib.suppress(DockerError, aiohttp.ClientError, OSError):
                folder = mounted_folder(await self.docker.containers.container(handle).show(), path)
        if folder is not None:
            try:
                return await asyncio.to_thread(
                    pack_folder, folder, posixpath.basename(path.rstrip("/")), limit
                )
            except TooLarge:
                raise EngineError(f"{path} holds more than {limit // (1024 * 1024)} MiB") from None
            except OSError:
                pass  # read through the daemon instead
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (the caller closes it)
        try:
            async with self.docker._query(
                f"containers/{handle}/archive", params={"path": path}, timeout=_FOREVER
            ) as response:
                while data := await response.content.read(_READ_SIZE):
                    if spool.tell() + len(data) > limit:
                        raise EngineError(f"{path} holds more than {limit // (1024 * 1024)} MiB")
                    spool.write(data)
        except DockerError as exc:
            spool.close()
            if exc.status == _NOT_FOUND:
                return None
            raise EngineError(f"could not read {path}: {exc.message}") from None
        except (aiohttp.ClientError, OSError) as exc:
            spool.close()
            raise EngineError(f"could not read {path}: {exc}") from None
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return cast(BinaryIO, spool)

    async def remove(self, handle: str) -> None:
        """Remove the container (killing it if it still runs) with its anonymous volumes."""
        armed = self._armed.pop(handle, None)
        if armed is not None:
            await rawsocket.close(armed[1])
        attached = self._attached.pop(handle, None)
        if attached is not None:
            await attached[1].close()
        self._stopped.discard(handle)
        self._mounts.pop(handle, None)
        with contextlib.suppress(DockerError):
            await self.docker.containers.container(handle).delete(force=True, v=True)

    # -- helpers ------------------------------------------------------------------------------------

    async def _answers(self) -> bool:
        """Whether the engine takes a new connection: one that is stopping still serves those already open."""
        socket_path = self._socket_path()
        if socket_path is not None:
            return await rawsocket.answers(socket_path)
        try:
            await self.docker.version()
        except (DockerError, aiohttp.ClientError, OSError):
            return False
        return True

    def _socket_path(self) -> str | None:
        """The daemon's unix socket, when that is how it is reached (raw calls need it)."""
        connector = self.docker.connector
        return connector.path if isinstance(connector, aiohttp.UnixConnector) else None

    async def _ensure_placeholder(self) -> None:
        if self._placeholder is None or (self._placeholder.done() and self._placeholder.exception()):
            self._placeholder = asyncio.create_task(self._import_placeholder())
        await asyncio.shield(self._placeholder)

    async def _import_placeholder(self) -> None:
        """An image with no files: created containers of it only hold the workspace volume for copying."""
        try:
            await self.docker.images.inspect(PLACEHOLDER_IMAGE)
            return
        except DockerError as exc:
            if exc.status != _NOT_FOUND:
                raise EngineError(f"could not inspect {PLACEHOLDER_IMAGE}: {exc.message}") from None
        repository, tag = PLACEHOLDER_IMAGE.split(":")
        params = {"fromSrc": "-", "repo": repository, "tag": tag}
        empty = _directory_tar(None)
        try:
            async with self.docker._query(
                "images/create",
                "POST",
                params=params,
                data=empty,
                headers={"Content-Type": "application/x-tar"},
            ) as response:
                await response.read()
        except DockerError as exc:
            raise EngineError(f"could not create {PLACEHOLDER_IMAGE}: {exc.message}") from None


def _directory_tar(name: str | None) -> bytes:
    """A tar holding one empty directory and its parents (or nothing at all)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        parts = name.strip("/").split("/") if name else []
        for depth in range(1, len(parts) + 1):
            info = tarfile.TarInfo("/".join(parts[:depth]))
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
    return buffer.getvalue()


async def _prepended(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


async def _chunks(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    while data := await response.content.read(_READ_SIZE):
        yield data


def _reason(exc: BaseException) -> str:
    """What went wrong, in the engine's words when it said something."""
    return exc.message if isinstance(exc, DockerError) else str(exc) or type(exc).__name__

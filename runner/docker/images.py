"""Images, pulled as the step's pull policy says (Drone's `default` pulls `:latest` tags), once per stage.

A pull the policy asks for is skipped when the registry's digest for the tag is the one the local image was
pulled as (runner.docker.manifests): the pull would have changed nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from aiodocker import Docker
from aiodocker.exceptions import DockerError

from runner.docker.manifests import ManifestDigests, local_digests, parse_reference
from runner.engine import EngineError, RegistryAuth
from runner.registry_auth import DOCKER_HUB, image_host

_NOT_FOUND = 404


@dataclass(frozen=True)
class PullRequest:
    """One image to make present, how, and with which credentials."""

    image: str
    policy: str
    auth: RegistryAuth | None = None


class ImagePuller:
    """Makes images present; concurrent requests for the same image in a stage share one pull."""

    def __init__(self, docker: Docker, *, platform: tuple[str, str] | None = None) -> None:
        self._docker = docker
        self._pulls: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._digests = ManifestDigests(docker, platform=platform)

    async def ensure(self, stage_id: str, request: PullRequest) -> None:
        """Pull or check the image; EngineError, with a message for the step's log, if it cannot be had."""
        await asyncio.shield(self._task(stage_id, request))

    def prefetch(self, stage_id: str, request: PullRequest) -> None:
        """Begin pulling or checking the image now; the step's `ensure` gets the outcome (its error too)."""
        self._task(stage_id, request).add_done_callback(_retrieved)

    def _task(self, stage_id: str, request: PullRequest) -> asyncio.Task[None]:
        key = (stage_id, request.image)
        task = self._pulls.get(key)
        if task is None:
            task = asyncio.create_task(self._ensure(request))
            self._pulls[key] = task
        return task

    def forget(self, stage_id: str) -> None:
        """Drop the stage's pull records, cancelling a pull still in flight."""
        for key in [key for key in self._pulls if key[0] == stage_id]:
            self._pulls.pop(key).cancel()

    async def close(self) -> None:
        """Release the connections kept for asking registries."""
        await self._digests.close()

    async def _ensure(self, request: PullRequest) -> None:
        image, policy = request.image, request.policy
        if policy == "never":
            if not await self._present(image):
                raise EngineError(f"image {image} is not on this host and its pull policy is never")
            return
        wants_pull = policy == "always" or (policy == "default" and _is_latest(image))
        if not wants_pull and await self._present(image):
            return
        if wants_pull and await self._up_to_date(request):
            return
        try:
            await self._pull(request)
        except EngineError:
            if policy == "always" or not await self._present(image):
                raise

    async def _present(self, image: str) -> bool:
        try:
            await self._docker.images.inspect(image)
        except DockerError as exc:
            if exc.status == _NOT_FOUND:
                return False
            raise EngineError(f"could not inspect image {image}: {exc.message}") from None
        return True

    async def _up_to_date(self, request: PullRequest) -> bool:
        """Whether the local image is the one the registry's tag names now (asked at once of both)."""
        reference = parse_reference(request.image)
        if reference is None:
            return False
        remote, local = await asyncio.gather(
            self._digests.digest(reference, request.auth), self._pulled_as(request.image)
        )
        return remote is not None and (reference.qualified, remote) in local

    async def _pulled_as(self, image: str) -> set[tuple[str, str]]:
        """The (repository, digest) pairs the local image was pulled as (none if it is not here, or is
        another platform's image: the pull would fetch the engine's own)."""
        try:
            inspected = await self._docker.images.inspect(image)
            native = await self._digests.native(inspected)
        except (DockerError, aiohttp.ClientError, OSError):
            return set()
        return local_digests(inspected) if native else set()

    async def _pull(self, request: PullRequest) -> None:
        image = request.image
        try:
            if request.auth is None:
                await self._docker.images.pull(image)
            else:
                credentials = {"username": request.auth.username, "password": request.auth.password}
                await self._docker.images.pull(_qualified(image), auth=credentials)
        except DockerError as exc:
            raise EngineError(f"could not pull image {image}: {exc.message}") from None


def _retrieved(task: asyncio.Task[None]) -> None:
    """Mark a prefetch's error as seen: the step that needs the image reports it; a skipped one never."""
    if not task.cancelled():
        task.exception()


def _is_latest(image: str) -> bool:
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.endswith(":latest")


def _qualified(image: str) -> str:
    """The reference with its registry host spelled out (`busybox` -> `docker.io/library/busybox`)."""
    if image_host(image) != DOCKER_HUB:
        return image
    first, slash, rest = image.partition("/")
    if slash and ("." in first or ":" in first):
        image = rest  # a Docker Hub alias such as index.docker.io
    return f"{DOCKER_HUB}/{image}" if "/" in image else f"{DOCKER_HUB}/library/{image}"

"""Which manifest a tag names, asked of the registry the engine would pull from (one HEAD, not a pull).

A pull of an image already up to date costs the engine a round of registry requests and bookkeeping
(~50-150 ms); a HEAD of the tag's manifest from here costs a few milliseconds. When the digest it answers is
one the local image was pulled as, the pull would change nothing and is skipped. Anything unclear (no
answer, a refusal, no digest, a remote engine whose registries this host may not see) means: pull.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiodocker import Docker

from runner.engine import RegistryAuth
from runner.registry_auth import DOCKER_HUB, image_host

_HUB_ENDPOINT = "https://registry-1.docker.io"
_ACCEPT = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)
_TIMEOUT = aiohttp.ClientTimeout(total=5)
_CONFIG_LIFETIME = 300.0
"""Seconds the engine's registry configuration (mirrors, insecure registries) is reused before asked again."""
_UNAUTHORIZED = 401
_CHALLENGE_PARAMETER = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Reference:
    """An image reference split the way a registry is asked about it."""

    host: str
    repository: str
    tag: str

    @property
    def qualified(self) -> str:
        """The repository with its host (`docker.io/library/busybox`)."""
        return f"{self.host}/{self.repository}"


def parse_reference(image: str) -> Reference | None:
    """Host, repository and tag of a tag reference; None for one pinned by digest."""
    if "@" in image:
        return None
    host = image_host(image)
    first, slash, rest = image.partition("/")
    path = rest if slash and (host != DOCKER_HUB or "." in first or ":" in first) else image
    if ":" in path.rsplit("/", 1)[-1]:
        name, _, tag = path.rpartition(":")
    else:
        name, tag = path, "latest"
    if host == DOCKER_HUB and "/" not in name:
        name = f"library/{name}"
    return Reference(host, name, tag)


def local_digests(inspected: dict[str, Any]) -> set[tuple[str, str]]:
    """(qualified repository, digest) pairs the inspected image was pulled as."""
    pairs = set()
    for entry in inspected.get("RepoDigests") or []:
        name, at, digest = str(entry).partition("@")
        reference = parse_reference(name) if at else None
        if reference is not None:
            pairs.add((reference.qualified, digest))
    return pairs


class ManifestDigests:
    """Asks registries for a tag's manifest digest, through the endpoints the engine's pull would use."""

    def __init__(self, docker: Docker, *, platform: tuple[str, str] | None = None) -> None:
        self._docker = docker
        self._session: aiohttp.ClientSession | None = None
        self._config: dict[str, Any] | None = None
        self._config_time = 0.0
        self._platform = platform
        """The engine's (Os, Arch), when its connection already asked (else asked at the first need)."""

    async def digest(self, reference: Reference, auth: RegistryAuth | None) -> str | None:
        """The digest the registry answers for the tag; None when it cannot be had (then: pull)."""
        if not isinstance(self._docker.connector, aiohttp.UnixConnector):
            return None  # a remote engine: its registries and mirrors are not necessarily this host's
        try:
            endpoints = await self._endpoints(reference.host)
        except Exception:
            return None
        for endpoint, credentials in endpoints:
            try:
                digest = await self._head(endpoint, reference, auth if credentials else None)
            except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
                continue
            if digest is not None:
                return digest
        return None

    async def native(self, inspected: dict[str, Any]) -> bool:
        """Whether the inspected image is for the engine's own OS and architecture (what its pull fetches)."""
        if self._platform is None:
            version = await self._docker.version()
            self._platform = (str(version.get("Os", "")), str(version.get("Arch", "")))
        return (inspected.get("Os"), inspected.get("Architecture")) == self._platform

    async def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _endpoints(self, host: str) -> list[tuple[str, bool]]:
        """Base URLs in the order the engine tries them, and whether the step's credentials go to each."""
        config = await self._registry_config()
        if host == DOCKER_HUB:
            index = (config.get("IndexConfigs") or {}).get(DOCKER_HUB) or {}
            mirrors = index.get("Mirrors") or config.get("Mirrors") or []
            return [*((str(m).rstrip("/"), False) for m in mirrors), (_HUB_ENDPOINT, True)]
        if _insecure(host, config):
            return [(f"https://{host}", True), (f"http://{host}", True)]
        return [(f"https://{host}", True)]

    async def _registry_config(self) -> dict[str, Any]:
        if self._config is None or time.monotonic() - self._config_time > _CONFIG_LIFETIME:
            info = await self._docker.system.info()
            self._config, self._config_time = dict(info.get("RegistryConfig") or {}), time.monotonic()
        return self._config

    async def _head(self, endpoint: str, reference: Reference, auth: RegistryAuth | None) -> str | None:
        session = self._http()
        url = f"{endpoint}/v2/{reference.repository}/manifests/{reference.tag}"
        headers = {"Accept": _ACCEPT}
        async with session.head(url, headers=headers, allow_redirects=True) as response:
            if response.status == _UNAUTHORIZED:
                challenge = response.headers.get("WWW-Authenticate", "")
            elif response.ok:
                return response.headers.get("Docker-Content-Digest")
            else:
                return None
        authorization = await self._authorization(challenge, reference, auth)
        if authorization is None:
            return None
        headers["Authorization"] = authorization
        async with session.head(url, headers=headers, allow_redirects=True) as response:
            return response.headers.get("Docker-Content-Digest") if response.ok else None

    async def _authorization(
        self, challenge: str, reference: Reference, auth: RegistryAuth | None
    ) -> str | None:
        """The Authorization header answering the registry's challenge (None: it cannot be answered)."""
        scheme, _, rest = challenge.partition(" ")
        basic = _basic(auth) if auth is not None else None
        if scheme.lower() == "basic":
            return basic
        if scheme.lower() != "bearer":
            return None
        parameters = dict(_CHALLENGE_PARAMETER.findall(rest))
        realm = parameters.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            return None
        query = {"scope": f"repository:{reference.repository}:pull"}
        if "service" in parameters:
            query["service"] = parameters["service"]
        headers = {"Authorization": basic} if basic is not None else {}
        async with self._http().get(realm, params=query, headers=headers) as response:
            if not response.ok:
                return None
            body = await response.json(content_type=None)
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        return f"Bearer {token}" if token else None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=_TIMEOUT)
        return self._session


def _basic(auth: RegistryAuth) -> str:
    """The Basic Authorization header of the credentials."""
    return "Basic " + base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()


def _insecure(host: str, config: dict[str, Any]) -> bool:
    """Whether the engine may reach the registry over plain HTTP (it tries HTTPS first even then)."""
    index = (config.get("IndexConfigs") or {}).get(host)
    if index is not None:
        return not index.get("Secure", True)
    name = host.rsplit(":", 1)[0].strip("[]") if host.count(":") <= 1 or host.startswith("[") else host
    if name == "localhost":
        name = "127.0.0.1"
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    networks = config.get("InsecureRegistryCIDRs") or []
    return any(address in ipaddress.ip_network(str(cidr), strict=False) for cidr in networks)

"""Registry credentials from `image_pull_secrets`: Docker `config.json` documents matched to image hosts."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable

from runner.engine import RegistryAuth

DOCKER_HUB = "docker.io"
_HUB_ALIASES = {"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", DOCKER_HUB}


def parse_docker_config(text: str) -> list[RegistryAuth]:
    """The credentials in a Docker `config.json` (`auths` with `auth` or `username`/`password`)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a Docker config.json: {exc.msg} at line {exc.lineno}") from None
    auths = document.get("auths") if isinstance(document, dict) else None
    if not isinstance(auths, dict):
        raise ValueError('not a Docker config.json: no "auths" object')
    result: list[RegistryAuth] = []
    for address, entry in auths.items():
        if not isinstance(entry, dict):
            continue
        username, password = entry.get("username", ""), entry.get("password", "")
        if entry.get("auth"):
            username, password = _decode_auth(str(entry["auth"]), address)
        if username:
            result.append(RegistryAuth(registry_host(address), str(username), str(password)))
    return result


def image_host(image: str) -> str:
    """The registry host an image reference pulls from (`busybox` -> `docker.io`)."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return registry_host(first)
    return DOCKER_HUB


def registry_host(address: str) -> str:
    """A registry address as a bare host: scheme, path and Docker Hub's aliases normalised."""
    host = address.split("://", 1)[-1].split("/", 1)[0].lower()
    return DOCKER_HUB if host in _HUB_ALIASES else host


def auth_for_image(image: str, auths: Iterable[RegistryAuth]) -> RegistryAuth | None:
    """The credentials for the registry the image comes from, if any."""
    host = image_host(image)
    return next((auth for auth in auths if auth.host == host), None)


def _decode_auth(value: str, address: str) -> tuple[str, str]:
    try:
        username, colon, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        username, colon, password = "", "", ""
    if not (username and colon):
        raise ValueError(f"the auth of {address!r} is not base64 of user:password")
    return username, password

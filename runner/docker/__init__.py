"""The Docker engine: Hangar's Engine protocol on the Docker Engine API (aiodocker)."""

from __future__ import annotations

from runner.docker.tls import import_aiohttp

import_aiohttp()  # before the engine's modules import it: the CA certificates are read when first needed

from runner.docker.engine import DockerEngine  # noqa: E402

__all__ = ["DockerEngine"]

"""The Docker engine: Hangar's Engine protocol on the Docker Engine API (aiodocker)."""

from __future__ import annotations

from runner.docker.engine import DockerEngine

__all__ = ["DockerEngine"]

"""The runner's settings: how it reaches its server, which stages it takes, and the platform it offers."""

from __future__ import annotations

import json
import platform
import socket
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pipelines.plan import Platform
from runner.caches.setup import DEFAULT_MAX_BYTES, user_cache_dir

ENV_PREFIX = "HANGAR_RUNNER_"

_ARCHITECTURES = {
    "x86_64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "arm64": ("arm64", ""),
    "armv8l": ("arm", "v8"),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", ""),
    "i686": ("386", ""),
}


def docker_platform(machine: str | None = None) -> tuple[str, str]:
    """The machine's architecture and variant as Docker names them (x86_64 → amd64, armv7l → arm v7)."""
    name = (machine if machine is not None else platform.machine()).lower()
    return _ARCHITECTURES.get(name, (name, ""))


class RunnerSettings(BaseSettings):
    """How the runner reaches its server and which stages it takes; each is a HANGAR_RUNNER_* variable too."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    server: str
    token: SecretStr | None = None
    secret: SecretStr | None = None
    capacity: int = Field(default=1, ge=1)
    grace: float = Field(default=1.0, ge=0)
    """Seconds a cancelled or timed-out step gets between SIGTERM and SIGKILL (Drone kills at once)."""
    name: str = Field(default_factory=socket.gethostname, min_length=1)
    labels: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    cache_dir: Path = Field(default_factory=lambda: user_cache_dir("runner"))
    """Where cache entries are kept on this host (a folder per repository)."""
    cache_max_bytes: int = Field(default=DEFAULT_MAX_BYTES, ge=0)
    """The most the cache entries may take (all repositories); the least recently used go first."""
    os: str = "linux"
    arch: str = Field(default_factory=lambda: docker_platform()[0])
    variant: str = Field(default_factory=lambda: docker_platform()[1])
    artifact_max_files: int = Field(default=1_000, ge=0)
    """Files one step may keep as artifacts at most (the rest are left, with a note in its log)."""
    artifact_max_bytes: int = Field(default=5 * 1024**3, ge=0)
    """Bytes one step's artifacts may hold together at most (5 GiB)."""

    @field_validator("server")
    @classmethod
    def _http_address(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or len(value.split("://", 1)[1].strip("/")) == 0:
            raise ValueError(f"{value!r} is not an http:// or https:// address")
        return value.rstrip("/")

    @field_validator("labels", mode="before")
    @classmethod
    def _label_pairs(cls, value: object) -> object:
        """`k=v,k2=v2` (or a JSON object) as a dict."""
        if not isinstance(value, str):
            return value
        if value.strip().startswith("{"):
            return json.loads(value)
        return parse_labels(part for part in value.split(",") if part.strip())

    @model_validator(mode="after")
    def _one_credential(self) -> RunnerSettings:
        if (self.token is None) == (self.secret is None):
            raise ValueError(
                "give either --token or --secret "
                f"(or {ENV_PREFIX}TOKEN / {ENV_PREFIX}SECRET), not "
                + ("both" if self.token is not None else "neither")
            )
        return self

    @property
    def credential(self) -> str:
        """What the runner authenticates with: its token, else the shared secret."""
        chosen = self.token or self.secret
        return chosen.get_secret_value() if chosen is not None else ""

    @property
    def platform(self) -> Platform:
        """The platform stages must ask for to run here."""
        return Platform(os=self.os, arch=self.arch, variant=self.variant)


def parse_labels(pairs: Any) -> dict[str, str]:
    """`KEY=VALUE` strings as a dict; ValueError names the first that is not one."""
    labels: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = str(pair).strip().partition("=")
        if not equals or not key:
            raise ValueError(f"label {pair!r} is not KEY=VALUE")
        labels[key] = value
    return labels

"""The validated model of a pipeline file: what each `kind:` document says, with where it said it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.conditions import Conditions
from pipelines.errors import Problem

DEFAULT_WORKSPACE_BASE = "/drone/src"
RESERVED_VOLUMES = ("workspace", "_workspace", "_docker_socket")


@dataclass(frozen=True, slots=True)
class Span:
    """Where a value was written: 1-based line and column, and its path inside the document."""

    line: int = 0
    column: int = 0
    path: str = ""


@dataclass(frozen=True, slots=True)
class SecretRef:
    """`{from_secret: name}`: a reference to a repository secret, never its value."""

    name: str


EnvValue = str | SecretRef


@dataclass(slots=True)
class VolumeMount:
    """A step's `volumes:` entry: mount pipeline volume `name` at `path`."""

    name: str
    path: str


@dataclass(slots=True)
class CacheItem:
    """Hangar's `cache:` extension: keep `paths` (workspace-relative) between builds under a key template."""

    key: str
    paths: list[str]
    span: Span = field(default_factory=Span)


@dataclass(slots=True)
class Device:
    """A host device passed into a step container."""

    name: str
    path: str


@dataclass(slots=True)
class Step:
    """One container of a stage: a step, or a service when `is_service` is set."""

    name: str
    image: str = ""
    is_service: bool = False
    pull: str = ""
    commands: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None
    command: list[str] | None = None
    environment: dict[str, EnvValue] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    when: Conditions = field(default_factory=Conditions)
    detach: bool = False
    privileged: bool = False
    failure: str = ""
    depends_on: list[str] = field(default_factory=list)
    volumes: list[VolumeMount] = field(default_factory=list)
    user: str = ""
    working_dir: str = ""
    network_mode: str = ""
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    extra_hosts: list[str] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    shm_size: int = 0
    mem_limit: int = 0
    memswap_limit: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    cpu_shares: int = 0
    caches: list[CacheItem] = field(default_factory=list)
    """Hangar's extension: what to keep between builds; joins the stage's own `cache:` items."""
    cpuset: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    """Hangar's extension: globs of test report files (JUnit XML) the step writes, workspace-relative."""
    artifacts: list[str] = field(default_factory=list)
    """Hangar's extension: globs or folders, workspace-relative, of the files the step keeps for the build."""
    spans: dict[str, Span] = field(default_factory=dict)

    def span(self, key: str = "") -> Span:
        """Where key (or the step itself) was written."""
        return self.spans.get(key) or self.spans.get("", Span())


@dataclass(slots=True)
class Volume:
    """A pipeline volume: a temporary (optionally in-memory) volume, or a host path."""

    name: str
    temp: bool = True
    medium: str = ""
    host_path: str = ""
    span: Span = field(default_factory=Span)


@dataclass(slots=True)
class Platform:
    """Which runners may run the stage."""

    os: str = "linux"
    arch: str = "amd64"
    variant: str = ""
    version: str = ""


@dataclass(slots=True)
class Workspace:
    """Where the repository is checked out inside every container."""

    base: str = ""
    path: str = ""

    def resolve(self) -> tuple[str, str, str]:
        """(base, path, full working directory), with Drone's defaults."""
        base, path = self.base, self.path
        if not base:
            if path.startswith("/"):
                base, path = path, ""
            else:
                base = DEFAULT_WORKSPACE_BASE
        full = base.rstrip("/") + "/" + path.strip("/") if path else base
        return base, path, full


@dataclass(slots=True)
class Clone:
    """The implicit `clone` step."""

    disable: bool = False
    depth: int = 0
    retries: int = 0
    skip_verify: bool = False
    trace: bool = False


@dataclass(slots=True)
class Pipeline:
    """A `kind: pipeline` document: one stage of a build."""

    name: str = "default"
    type: str = "docker"
    platform: Platform = field(default_factory=Platform)
    workspace: Workspace = field(default_factory=Workspace)
    clone: Clone = field(default_factory=Clone)
    steps: list[Step] = field(default_factory=list)
    services: list[Step] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    environment: dict[str, EnvValue] = field(default_factory=dict)
    trigger: Conditions = field(default_factory=Conditions)
    depends_on: list[str] = field(default_factory=list)
    node: dict[str, str] = field(default_factory=dict)
    concurrency_limit: int = 0
    image_pull_secrets: list[str] = field(default_factory=list)
    caches: list[CacheItem] = field(default_factory=list)
    """Hangar's extension: what the stage keeps between builds (`cache:`)."""
    document: int = 0
    spans: dict[str, Span] = field(default_factory=dict)

    def span(self, key: str = "") -> Span:
        """Where key (or the pipeline itself) was written."""
        return self.spans.get(key) or self.spans.get("", Span())

    @property
    def containers(self) -> list[Step]:
        """Services and steps, in that order."""
        return [*self.services, *self.steps]


@dataclass(slots=True)
class Secret:
    """A `kind: secret` document: an encrypted value or a pointer to an external secret."""

    name: str
    data: str = ""
    get_path: str = ""
    get_name: str = ""


@dataclass(slots=True)
class Unsupported:
    """A pipeline of a type Hangar does not run (vm, kubernetes, exec, ssh, ...)."""

    name: str
    type: str
    span: Span = field(default_factory=Span)


@dataclass(slots=True)
class Manifest:
    """Everything a pipeline file holds, and the problems found while reading it."""

    filename: str
    pipelines: list[Pipeline] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    unsupported: list[Unsupported] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def pipeline(self, name: str) -> Pipeline | None:
        """The pipeline with that name, if any."""
        return next((p for p in self.pipelines if p.name == name), None)

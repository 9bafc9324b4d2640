"""The wire models: a build's context going into the compiler, and the runnable Plan coming out of it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipelines.cause import BuildCause
from pipelines.links import build_link

PLAN_VERSION = 1


class _Wire(BaseModel):
    """Strict, frozen JSON models shared by server and runner."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StepKind(StrEnum):
    """What a container is for."""

    CLONE = "clone"
    SERVICE = "service"
    STEP = "step"


class RunPolicy(StrEnum):
    """When a step runs, from its `when: status:`."""

    ON_SUCCESS = "on_success"
    ON_FAILURE = "on_failure"
    ALWAYS = "always"
    NEVER = "never"


class Repo(_Wire):
    """The repository a build belongs to."""

    owner: str = ""
    name: str = ""
    link: str = ""
    remote_url: str = ""
    default_branch: str = "main"
    private: bool = False
    scm: str = "git"

    @property
    def slug(self) -> str:
        """`owner/name`."""
        return f"{self.owner}/{self.name}" if self.owner else self.name


class BuildContext(BuildCause, _Wire):
    """Everything the compiler knows about a build: its cause (inherited), repository and what it may use."""

    repo: Repo = Field(default_factory=Repo)
    number: int = 0
    parent: int = 0
    created: int = 0
    started: int = 0
    trigger: str = ""
    server_url: str = "http://localhost:8080"
    instance: str = ""
    changed_files: list[str] | None = None
    secrets: list[str] | None = None
    trusted: bool = False
    config_files: list[str] = Field(default_factory=list)
    """The pipeline file(s) the build was made from (the server's record; the compiler does not read it)."""
    config_format: Literal["", "drone", "woodpecker"] = ""
    """Which language they speak: a Woodpecker build's workflows report their own commit statuses."""

    @property
    def tag(self) -> str:
        """The tag name for tag builds ('' otherwise)."""
        return self.ref.removeprefix("refs/tags/") if self.ref.startswith("refs/tags/") else ""

    @property
    def build_link(self) -> str:
        """The build page's address."""
        return build_link(self.server_url, self.repo.slug, self.number)


class Platform(_Wire):
    """Which runners may take the stage."""

    os: str = "linux"
    arch: str = "amd64"
    variant: str = ""
    version: str = ""


class SecretEnv(_Wire):
    """Set environment variable `env` to the value of secret `secret` (resolved by the server, masked)."""

    env: str
    secret: str


class Mount(_Wire):
    """Mount volume `name` at `path`."""

    name: str
    path: str


class VolumePlan(_Wire):
    """A per-stage volume."""

    name: str
    kind: Literal["temp", "host"] = "temp"
    medium: str = ""
    host_path: str = ""


class DevicePlan(_Wire):
    """A host device mapped into the container."""

    name: str
    path: str


class StepPlan(_Wire):
    """One container to run (or, for kind `clone`, the checkout the runner does itself)."""

    number: int
    name: str
    kind: StepKind = StepKind.STEP
    image: str = ""
    pull: Literal["default", "always", "if-not-exists", "never"] = "default"
    entrypoint: list[str] = Field(default_factory=list)
    command: list[str] = Field(default_factory=list)
    working_dir: str = ""
    user: str = ""
    environment: dict[str, str] = Field(default_factory=dict)
    secrets: list[SecretEnv] = Field(default_factory=list)
    volumes: list[Mount] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    run_policy: RunPolicy = RunPolicy.ON_SUCCESS
    failure: Literal["fail", "ignore", "fast"] = "fail"
    detach: bool = False
    privileged: bool = False
    network_mode: str = ""
    dns: list[str] = Field(default_factory=list)
    dns_search: list[str] = Field(default_factory=list)
    extra_hosts: list[str] = Field(default_factory=list)
    devices: list[DevicePlan] = Field(default_factory=list)
    shm_size: int = 0
    mem_limit: int = 0
    memswap_limit: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    cpu_shares: int = 0
    cpuset: list[str] = Field(default_factory=list)
    reports: list[str] = Field(default_factory=list)
    """Globs of the test report files (JUnit XML) the runner collects once the step ends."""
    artifacts: list[str] = Field(default_factory=list)
    """Globs or folders (workspace-relative) of the files the runner uploads once the step ends."""


class CachePlan(_Wire):
    """Keep `paths` (relative to the workspace) between builds under `key`, a template the runner resolves
    once the workspace is filled (`pipelines.cache_template`)."""

    key: str
    paths: list[str]


class ClonePlan(_Wire):
    """How the runner fills the workspace."""

    disable: bool = False
    depth: int = 0
    retries: int = 0
    skip_verify: bool = False
    trace: bool = False
    remote_url: str = ""
    ref: str = ""
    sha: str = ""


class Workspace(_Wire):
    """Where the repository lives inside every container."""

    base: str
    path: str = ""
    full: str


class Stage(_Wire):
    """The stage this Plan runs, and what it waits for."""

    number: int
    name: str
    depends_on: list[str] = Field(default_factory=list)
    run_policy: RunPolicy = RunPolicy.ON_SUCCESS
    platform: Platform = Field(default_factory=Platform)
    labels: dict[str, str] = Field(default_factory=dict)
    concurrency_limit: int = 0


class Plan(_Wire):
    """One stage, ready to run: every container with its image, script, environment and DAG edges."""

    version: int = PLAN_VERSION
    stage: Stage
    workspace: Workspace
    clone: ClonePlan = Field(default_factory=ClonePlan)
    volumes: list[VolumePlan] = Field(default_factory=list)
    steps: list[StepPlan] = Field(default_factory=list)
    secrets: list[str] = Field(default_factory=list)
    image_pull_secrets: list[str] = Field(default_factory=list)
    caches: list[CachePlan] = Field(default_factory=list)
    """Hangar's `cache:` items of the stage and of its steps that run."""

    def step(self, name: str) -> StepPlan | None:
        """The step with that name, if any."""
        return next((s for s in self.steps if s.name == name), None)

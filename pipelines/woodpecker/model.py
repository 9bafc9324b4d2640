"""A Woodpecker workflow file as Hangar reads it: its containers, `when` alternatives and matrix, located."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.model import Span
from pipelines.woodpecker.expr import Expression

Axis = dict[str, str]
"""One combination of a matrix: axis name -> value."""


@dataclass(frozen=True, slots=True)
class Filter:
    """A `branch`, `ref`, `repo`, ... filter: include and exclude glob patterns (doublestar's syntax)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing was written."""
        return not self.include and not self.exclude


@dataclass(frozen=True, slots=True)
class PathFilter:
    """`path`: changed files, with `ignore_message` and `on_empty`."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ignore_message: str = ""
    on_empty: bool = True


@dataclass(frozen=True, slots=True)
class MatrixFilter:
    """`matrix`: axis values a step runs for (include) or not (exclude)."""

    include: tuple[tuple[str, str], ...] = ()
    exclude: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Constraint:
    """One alternative of a `when` list: every filter written must match (AND)."""

    event: tuple[str, ...] = ()
    branch: Filter = field(default_factory=Filter)
    ref: Filter = field(default_factory=Filter)
    repo: Filter = field(default_factory=Filter)
    instance: Filter = field(default_factory=Filter)
    platform: Filter = field(default_factory=Filter)
    cron: Filter = field(default_factory=Filter)
    status: tuple[str, ...] = ()
    matrix: MatrixFilter = field(default_factory=MatrixFilter)
    path: PathFilter = field(default_factory=PathFilter)
    evaluate: Expression | None = None
    span: Span = field(default_factory=Span)
    evaluate_span: Span = field(default_factory=Span)
    evaluate_shift: int = 0
    """Characters between the value's first written character and the expression (a quote)."""


@dataclass(frozen=True, slots=True)
class When:
    """A `when`: a list of alternatives (any one matching is enough); none written always matches."""

    constraints: tuple[Constraint, ...] = ()


@dataclass(frozen=True, slots=True)
class Dependency:
    """A `depends_on` entry; an optional one is dropped when its target does not run."""

    name: str
    optional: bool = False


@dataclass(slots=True)
class Container:
    """A step, service or clone step."""

    name: str
    image: str = ""
    pull: bool = False
    commands: list[str] = field(default_factory=list)
    entrypoint: list[str] = field(default_factory=list)
    directory: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    """Woodpecker 1.x's `secrets: [name]`: variable -> secret name."""
    depends_on: list[Dependency] | None = None
    """None: not written (serial file); []: written empty (start at once)."""
    when: When = field(default_factory=When)
    failure: str = ""
    detach: bool = False
    privileged: bool = False
    volumes: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    extra_hosts: list[str] = field(default_factory=list)
    network_mode: str = ""
    tmpfs: list[str] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)
    user: str = ""
    group: str = ""
    """Woodpecker 1.x's parallel groups."""
    spans: dict[str, Span] = field(default_factory=dict)

    def span(self, key: str = "") -> Span:
        """Where key (or the container itself) was written."""
        return self.spans.get(key) or self.spans.get("", Span())

    @property
    def is_plugin(self) -> bool:
        """Woodpecker's rule: no commands, no entrypoint and no environment."""
        return not self.commands and not self.entrypoint and not self.environment


@dataclass(slots=True)
class Workflow:
    """One workflow file (one matrix combination of it)."""

    name: str
    file: str
    axis: Axis = field(default_factory=dict)
    when: When = field(default_factory=When)
    steps: list[Container] = field(default_factory=list)
    services: list[Container] = field(default_factory=list)
    clone: list[Container] = field(default_factory=list)
    skip_clone: bool = False
    workspace_base: str = ""
    workspace_path: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    depends_on: list[Dependency] = field(default_factory=list)
    runs_on: list[str] = field(default_factory=list)
    concurrency_limit: int = 0
    spans: dict[str, Span] = field(default_factory=dict)

    def span(self, key: str = "") -> Span:
        """Where key (or the file's top) was written."""
        return self.spans.get(key) or self.spans.get("", Span(1, 1))

"""Lint: the rules a Woodpecker workflow must satisfy beyond its shape (Woodpecker's linter and schema)."""

from __future__ import annotations

import re

from pipelines.errors import Problem, Severity
from pipelines.lint import CLONE_STEP, Collector, find_cycle
from pipelines.model import Span
from pipelines.woodpecker.model import Container, Workflow

_DEPRECATED_VARIABLES = {
    "CI_BUILD_": "CI_PIPELINE_",
    "CI_JOB_": "CI_STEP_",
    "CI_COMMIT_PRERELEASE": "CI_PIPELINE_RELEASE_PRE",
    "CI_COMMIT_AUTHOR_AVATAR": "CI_PIPELINE_AVATAR",
}
_VARIABLE = re.compile(
    r"\$\$?\{?(CI_BUILD_[A-Z_]*|CI_JOB_[A-Z_]*|CI_COMMIT_PRERELEASE|CI_COMMIT_AUTHOR_AVATAR)\b"
)
GIT_PLUGINS = ("woodpeckerci/plugin-git", "plugins/git", "quay.io/woodpeckerci/plugin-git")
SUPPORTED_BACKENDS = ("", "docker")


def image_is(image: str, *names: str) -> bool:
    """Whether `image` (any registry prefix `docker.io/`, tag or digest) is one of `names`."""
    bare = image.removeprefix("docker.io/").removeprefix("index.docker.io/")
    bare = bare.split("@", 1)[0]
    last = bare.rsplit("/", 1)
    if ":" in last[-1]:
        bare = bare.rsplit(":", 1)[0]
    return bare in names


def lint_workflow(workflow: Workflow, text: str, *, trusted: bool) -> list[Problem]:
    """The problems of one workflow (its file's reading problems are the caller's)."""
    problems: list[Problem] = []
    add = Collector(workflow.file, problems)
    if not workflow.steps:
        add(workflow.span("steps"), "the workflow has no steps", "add at least one step with an image")
    for area, containers in (
        ("clone", workflow.clone),
        ("steps", workflow.steps),
        ("services", workflow.services),
    ):
        for container in containers:
            _lint_container(add, container, area, trusted=trusted)
    _lint_names(add, workflow)
    _lint_dependencies(add, workflow)
    _lint_labels(add, workflow)
    _lint_deprecations(add, workflow, text)
    return problems


def _lint_container(add: Collector, container: Container, area: str, *, trusted: bool) -> None:
    what = {"steps": "step", "services": "service", "clone": "clone step"}[area]
    name = container.name or "(unnamed)"
    if not container.image:
        add(
            container.span("image"),
            f"{what} {name!r} has no image",
            "every step needs an image, e.g. image: alpine",
        )
    if container.settings:
        for key, clash in (
            ("commands", "commands"),
            ("entrypoint", "entrypoint"),
            ("environment", "environment"),
        ):
            if getattr(container, key):
                add(
                    container.span(key),
                    f"{what} {name!r} has both `settings` and `{clash}`: a plugin takes settings, a"
                    " commands step takes environment",
                    "drop one of them (a plugin's variables go under `settings`)",
                )
    if not trusted:
        hint = "an administrator can mark the repository trusted"
        for key in ("privileged", "volumes", "devices", "dns", "dns_search", "extra_hosts", "tmpfs"):
            if getattr(container, key):
                add(
                    container.span(key),
                    f"{what} {name!r} sets `{key}`, which needs a trusted repository",
                    hint,
                )
        if container.network_mode and container.network_mode != "none":
            add(
                container.span("network_mode"),
                f"{what} {name!r} sets `network_mode`, which needs a trusted repository",
                hint,
            )
    if container.group:
        add(
            container.span("group"),
            "`group` (parallel groups) is Woodpecker 1.x syntax, removed in 2.0",
            "write `depends_on` (steps of one group depend on the steps before the group)",
            Severity.WARNING,
        )


def _lint_names(add: Collector, workflow: Workflow) -> None:
    for area, containers in (("steps", workflow.steps), ("services", workflow.services)):
        seen: set[str] = set()
        for container in containers:
            if not container.name:
                kind = "service" if area == "services" else "step"
                add(container.span(), f"a {kind} in a list needs a `name`", f"- name: {kind}-name")
                continue
            if container.name in seen:
                add(
                    container.span("name"),
                    f"two {area} are named {container.name!r}",
                    "give each its own name",
                )
            seen.add(container.name)
    native_clone = not workflow.skip_clone
    names = {c.name for c in [*workflow.steps, *workflow.services]}
    if native_clone and not workflow.clone and CLONE_STEP in names:
        add(workflow.span("steps"), "the name 'clone' is taken by the clone step", "rename the step")


def _lint_dependencies(add: Collector, workflow: Workflow) -> None:
    names = {step.name for step in workflow.steps}
    for step in workflow.steps:
        for dependency in step.depends_on or []:
            if dependency.name == step.name:
                add(
                    step.span("depends_on"),
                    f"step {step.name!r} depends on itself",
                    "remove it from `depends_on`",
                )
            elif dependency.name not in names and not dependency.optional:
                add(
                    step.span("depends_on"),
                    f"step {step.name!r} depends on {dependency.name!r}, but the workflow has no such step",
                    "name a step of this workflow, or write {name: ..., optional: true}",
                )
    graph = {
        s.name: [d.name for d in s.depends_on or [] if d.name in names and d.name != s.name]
        for s in workflow.steps
    }
    cycle = find_cycle(graph)
    if cycle:
        step = next(s for s in workflow.steps if s.name == cycle[0])
        add(
            step.span("depends_on"),
            f"steps depend on each other in a cycle: {' -> '.join(cycle)}",
            "remove one of these `depends_on` entries",
        )


def _lint_labels(add: Collector, workflow: Workflow) -> None:
    backend = workflow.labels.get("backend", "")
    if backend == "local":
        add(
            workflow.span("labels"),
            "this workflow asks for Woodpecker's `local` backend (commands run on the host, `image` names the"
            " shell), which Hangar does not run: Hangar runs every step in a container",
            "remove `backend: local` and give each step a container image",
        )
    elif backend not in SUPPORTED_BACKENDS:
        add(
            workflow.span("labels"),
            f"the `{backend}` backend is not Hangar's: its steps run as Docker containers",
            severity=Severity.WARNING,
        )


def _lint_deprecations(add: Collector, workflow: Workflow, text: str) -> None:
    for line_number, line in enumerate(text.splitlines(), start=1):
        for match in _VARIABLE.finditer(line):
            old = match.group(1)
            prefix = next(p for p in _DEPRECATED_VARIABLES if old.startswith(p))
            modern = _DEPRECATED_VARIABLES[prefix] + old.removeprefix(prefix)
            message = f"`{old}` is a deprecated variable"
            add(Span(line_number, match.start() + 1), message, f"write `{modern}`", Severity.WARNING)

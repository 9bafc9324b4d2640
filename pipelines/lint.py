"""Lint: the rules a Manifest must satisfy beyond its shape — names, dependencies, trust, volumes."""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Iterable, Mapping, Sequence

from pipelines.errors import Problem, Severity
from pipelines.model import RESERVED_VOLUMES, Manifest, Pipeline, Span

CLONE_STEP = "clone"
RESTRICTED_WORKSPACES = frozenset(
    {
        "",
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/lib",
        "/lib64",
        "/proc",
        "/root",
        "/run",
        "/sbin",
        "/sys",
        "/tmp",
        "/usr",
    }
    | {"/var", "/var/run", "/var/lib", "/usr/bin", "/usr/lib", "/usr/local", "/usr/local/bin"}
)
RUNNER_FOLDERS = ("/run/drone", "/run/hangar")
"""Where runners keep their own files in a container: Drone's (its linter refuses mounts there, so a file
Hangar accepts runs on Drone too) and Hangar's runner's. No volume and no workspace may be put there."""
_TRUSTED_STEP_KEYS = ("network_mode", "dns", "dns_search", "extra_hosts", "devices", "shm_size")


def lint(manifest: Manifest, *, trusted: bool = False) -> list[Problem]:
    """Every problem of the file: those found while reading it, then the lint rules."""
    problems = list(manifest.problems)
    add = Collector(manifest.filename, problems)
    _lint_unsupported(add, manifest)
    _lint_stage_graph(add, manifest)
    for pipeline in manifest.pipelines:
        _lint_names(add, pipeline)
        _lint_step_graph(add, pipeline)
        _lint_volumes(add, pipeline)
        _lint_runner_paths(add, pipeline)
        _lint_workspace(add, pipeline)
        if not trusted:
            _lint_trust(add, pipeline)
    return sorted(problems, key=lambda p: (p.line, p.column, p.severity != Severity.ERROR))


class Collector:
    """Turns a Span and a message into a Problem of this file."""

    def __init__(self, filename: str, problems: list[Problem]) -> None:
        self.filename = filename
        self.problems = problems

    def __call__(self, span: Span, message: str, hint: str = "", severity: Severity = Severity.ERROR) -> None:
        self.problems.append(
            Problem(severity, message, self.filename, span.line, span.column, span.path, hint)
        )


def _lint_unsupported(add: Collector, manifest: Manifest) -> None:
    """Pipelines of other types are skipped; a file of nothing but those cannot run at all."""
    severity = Severity.WARNING if manifest.pipelines else Severity.ERROR
    for item in manifest.unsupported:
        add(
            item.span,
            f"pipeline {item.name!r} has `type: {item.type}`, which is not supported;"
            " Hangar runs docker pipelines",
            "use `type: docker` (or leave `type` out) to run it in containers",
            severity,
        )


def _lint_stage_graph(add: Collector, manifest: Manifest) -> None:
    """Unique pipeline names; `depends_on` names existing docker pipelines; no cycles."""
    seen: dict[str, Pipeline] = {}
    for pipeline in manifest.pipelines:
        if pipeline.name in seen:
            add(
                pipeline.span("name"),
                f"two pipelines are named {pipeline.name!r}",
                "give each pipeline its own name",
            )
        seen[pipeline.name] = pipeline
    foreign = {item.name: item.type for item in manifest.unsupported}
    for pipeline in manifest.pipelines:
        for name in pipeline.depends_on:
            if name in foreign:
                add(
                    pipeline.span("depends_on"),
                    f"pipeline {pipeline.name!r} depends on {name!r},"
                    f" whose type {foreign[name]!r} is not supported; it will not wait for it",
                    severity=Severity.WARNING,
                )
            elif name not in seen:
                add(
                    pipeline.span("depends_on"),
                    f"pipeline {pipeline.name!r} depends on {name!r}, but no pipeline has that name",
                    _closest(name, seen),
                )
    graph = {p.name: [d for d in p.depends_on if d in seen] for p in manifest.pipelines}
    cycle = find_cycle(graph)
    if cycle:
        add(
            seen[cycle[0]].span("depends_on"),
            f"pipelines depend on each other in a cycle: {' -> '.join(cycle)}",
            "remove one of these `depends_on` entries",
        )


def _lint_names(add: Collector, pipeline: Pipeline) -> None:
    """Step and service names are unique within a pipeline; `clone` is taken by the implicit clone step."""
    seen: set[str] = set()
    for step in pipeline.containers:
        if not step.name:
            continue
        if step.name in seen:
            add(
                step.span("name"),
                f"two steps are named {step.name!r}",
                "give every step and service its own name",
            )
        elif step.name == CLONE_STEP and not pipeline.clone.disable:
            add(
                step.span("name"),
                "the name 'clone' is taken by the implicit clone step",
                "rename the step, or set `clone: {disable: true}` to clone it yourself",
            )
        seen.add(step.name)


def _lint_step_graph(add: Collector, pipeline: Pipeline) -> None:
    """`depends_on` names steps of the same pipeline, and the steps form no cycle."""
    names = {step.name for step in pipeline.containers}
    if not pipeline.clone.disable:
        names.add(CLONE_STEP)
    for step in pipeline.steps:
        for name in step.depends_on:
            if name == step.name:
                add(
                    step.span("depends_on"),
                    f"step {step.name!r} depends on itself",
                    "remove it from `depends_on`",
                )
            elif name not in names:
                add(
                    step.span("depends_on"),
                    f"step {step.name!r} depends on {name!r},"
                    f" but pipeline {pipeline.name!r} has no such step",
                    _closest(name, names),
                )
    graph = {s.name: [d for d in s.depends_on if d in names and d != s.name] for s in pipeline.steps}
    cycle = find_cycle(graph)
    if cycle:
        step = next(s for s in pipeline.steps if s.name == cycle[0])
        message = f"steps depend on each other in a cycle: {' -> '.join(cycle)}"
        add(step.span("depends_on"), message, "remove one of these `depends_on` entries")


def _lint_volumes(add: Collector, pipeline: Pipeline) -> None:
    """Volume names are defined, unique and not reserved; paths are absolute and stay where they are put."""
    defined: set[str] = set()
    for volume in pipeline.volumes:
        if volume.name in RESERVED_VOLUMES:
            add(volume.span, f"the volume name {volume.name!r} is reserved", "choose another name")
        elif volume.name in defined:
            add(volume.span, f"two volumes are named {volume.name!r}", "give each volume its own name")
        defined.add(volume.name)
        if volume.host_path and not _is_clean_absolute(volume.host_path):
            add(
                volume.span,
                f"host path {volume.host_path!r} must be absolute and must not contain '..'",
                "host: {path: /var/cache/ci}",
            )
    for step in pipeline.containers:
        for mount in step.volumes:
            span = step.span("volumes")
            if mount.name in RESERVED_VOLUMES:
                add(
                    span,
                    f"step {step.name!r} mounts the reserved volume {mount.name!r}",
                    "the workspace is mounted in every step already; define a volume of your own",
                )
            elif mount.name not in defined:
                add(
                    span,
                    f"step {step.name!r} mounts volume {mount.name!r}, which the pipeline does not define",
                    f"add it under the pipeline's `volumes:`, e.g. - name: {mount.name}\n  temp: {{}}",
                )
            if not _is_clean_absolute(mount.path):
                add(
                    span,
                    f"mount path {mount.path!r} must be absolute and must not contain '..'",
                    "path: /cache",
                )


def _lint_runner_paths(add: Collector, pipeline: Pipeline) -> None:
    """No step or service mounts a volume in the runner's folders, on the workspace, or on the cloned code;
    a volume inside the workspace (a cache folder) is fine."""
    base, _, full = pipeline.workspace.resolve()
    taken = {_clean(base): "where the runner mounts the workspace"}
    taken.setdefault(_clean(full), "where the runner puts the cloned repository, which it would hide")
    for step in pipeline.containers:
        for mount in step.volumes:
            if not _is_clean_absolute(mount.path):
                continue  # reported by _lint_volumes
            where = f"step {step.name!r} mounts volume {mount.name!r} at {mount.path}"
            folder = _runner_folder(mount.path)
            if folder:
                inside = "" if _clean(mount.path) == folder else f", in {folder}"
                message = f"{where}{inside}, which the runner keeps for its own files"
                add(step.span("volumes"), message, "mount it elsewhere, e.g. path: /cache")
            elif _clean(mount.path) in taken:
                message = f"{where}, {taken[_clean(mount.path)]}"
                hint = f"mount it inside the workspace, e.g. path: {full.rstrip('/')}/cache, or elsewhere"
                add(step.span("volumes"), message, hint)


def _runner_folder(path: str) -> str:
    """The runner's folder (RUNNER_FOLDERS) that `path` is or lies in; '' when none."""
    clean = _clean(path)
    return next((f for f in RUNNER_FOLDERS if clean == f or clean.startswith(f + "/")), "")


def _clean(path: str) -> str:
    """The path as a container sees it: `/run//drone/./env/` is `/run/drone/env`."""
    return "/" + posixpath.normpath(path).lstrip("/")


def _lint_workspace(add: Collector, pipeline: Pipeline) -> None:
    """The workspace is an absolute, clean path that does not cover the container's own system folders."""
    base, _, full = pipeline.workspace.resolve()
    span = pipeline.span("workspace")
    if not base.startswith("/") or ".." in full.split("/"):
        add(
            span, f"workspace {full!r} must be an absolute path without '..'", "workspace: {base: /drone/src}"
        )
    elif hidden := _system_folder(base) or _system_folder(full):  # the workspace volume is mounted at base
        add(
            span,
            f"workspace {full!r} would hide the container's own {hidden} folder",
            "workspace: {base: /drone/src}",
        )
    elif folder := _runner_folder(base) or _runner_folder(full):
        add(
            span,
            f"workspace {full!r} is in {folder}, which the runner keeps for its own files",
            "workspace: {base: /drone/src}",
        )


def _system_folder(path: str) -> str:
    """`path` cleaned when it is one of the container's own folders (RESTRICTED_WORKSPACES, or /); else ''."""
    clean = _clean(path)
    return clean if clean == "/" or clean in RESTRICTED_WORKSPACES else ""


def _lint_trust(add: Collector, pipeline: Pipeline) -> None:
    """Settings that reach into the host need a trusted repository."""
    hint = "an administrator can mark the repository trusted"
    for volume in pipeline.volumes:
        if volume.host_path:
            add(volume.span, f"host volume {volume.name!r} needs a trusted repository", hint)
        elif volume.medium == "memory":
            add(volume.span, f"in-memory volume {volume.name!r} needs a trusted repository", hint)
    for step in pipeline.containers:
        if step.privileged:
            add(
                step.span("privileged"),
                f"step {step.name!r} is privileged, which needs a trusted repository",
                hint,
            )
        for key in _TRUSTED_STEP_KEYS:
            if getattr(step, key):
                add(
                    step.span(key), f"step {step.name!r} sets `{key}`, which needs a trusted repository", hint
                )


def _is_clean_absolute(path: str) -> bool:
    """Absolute (POSIX or Windows) and free of parent references."""
    absolute = path.startswith(("/", "\\\\", "//")) or (len(path) > 2 and path[1] == ":" and path[2] in "\\/")
    return absolute and ".." not in path.replace("\\", "/").split("/")


def _closest(name: str, names: Iterable[str]) -> str:
    """A 'did you mean' hint."""
    close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """A dependency cycle as [a, b, ..., a], or [] when the graph is acyclic."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for start in graph:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        state[start] = 1
        while stack:
            node, index = stack[-1]
            children = graph.get(node, ())
            if index == len(children):
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            stack[-1] = (node, index + 1)
            child = children[index]
            if state.get(child) == 1:
                return [*path[path.index(child) :], child]
            if not state.get(child):
                state[child] = 1
                stack.append((child, 0))
                path.append(child)
    return []

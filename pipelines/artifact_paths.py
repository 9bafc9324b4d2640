"""A step's `artifacts:` (Hangar's extension): globs or folders relative to the workspace, the files a step
keeps for the build page. Checked where they are written: an absolute path or one with `..` is refused."""

from __future__ import annotations

import yaml

from pipelines.yamltree import Node, Path, Reader, is_null

EXAMPLE = "artifacts: [dist/*.whl, coverage/]"


def artifact_problem(pattern: str) -> str:
    """What is wrong with an artifact glob or folder ('' when nothing): empty, absolute, or leaving the
    workspace through `..`."""
    if not pattern.strip():
        return "an artifact path is empty"
    if pattern.startswith(("/", "\\")):
        return f"artifact path {pattern!r} is absolute: artifacts are relative to the workspace"
    if ".." in pattern.replace("\\", "/").split("/"):
        return f"artifact path {pattern!r} leaves the workspace (`..`)"
    return ""


def read_artifacts(reader: Reader, node: Node, path: Path) -> list[str]:
    """The step's artifact globs (a single value counts as a list of one), each problem at its own item."""
    if is_null(node):
        return []
    single = isinstance(node, yaml.ScalarNode)
    items = [node] if single else reader.sequence(node, path, "artifacts", EXAMPLE)
    patterns: list[str] = []
    for index, item in enumerate(items):
        here = path if single else (*path, index)
        pattern = reader.string(item, here, "an artifact path", EXAMPLE)
        if not isinstance(item, yaml.ScalarNode):
            continue  # reported as not a single value
        problem = artifact_problem(pattern)
        if problem:
            reader.error(item, here, problem, "write a path inside the workspace, e.g. " + EXAMPLE)
        else:
            patterns.append(pattern)
    return patterns


def is_safe_artifact_path(path: str) -> bool:
    """Whether a stored artifact's path is relative and stays inside its folder (what the server accepts)."""
    parts = path.split("/")
    return bool(path) and not artifact_problem(path) and all(part not in ("", ".") for part in parts)

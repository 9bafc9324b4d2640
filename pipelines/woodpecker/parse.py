"""Reading one Woodpecker workflow file (for one matrix combination) into a Workflow, problems located."""

from __future__ import annotations

from collections.abc import Callable

import yaml

from pipelines.errors import Problem
from pipelines.parse_values import span_of
from pipelines.woodpecker.model import Axis, Workflow
from pipelines.woodpecker.parse_container import read_containers, read_dependencies
from pipelines.woodpecker.parse_when import read_when
from pipelines.woodpecker.values import texts
from pipelines.yamltree import Node, Path, Reader

WORKFLOW_KEYS = (
    "steps", "services", "clone", "skip_clone", "when", "workspace", "labels", "depends_on", "matrix",
    "variables", "runs_on", "concurrency", "$schema",
)  # fmt: skip
_DEPRECATED = {
    "pipeline": "Woodpecker before 1.0 named the steps `pipeline:`; write `steps:`",
    "platform": "`platform:` moved into `labels: {platform: linux/amd64}` in Woodpecker 2.0",
    "branches": "`branches:` was removed in Woodpecker 1.0; write `when: {branch: ...}`",
}


def read_workflow(
    root: Node,
    filename: str,
    name: str,
    axis: Axis,
    problems: list[Problem],
    substitute: Callable[[str], str] | None = None,
) -> Workflow | None:
    """The workflow a file's root node describes; None when it is not a map."""
    reader = Reader(filename, problems, substitute)
    workflow = Workflow(name=name, file=filename, axis=dict(axis))
    workflow.spans[""] = span_of(root, ())
    entries = reader.mapping(root, (), "a workflow", "steps:\n  - name: test\n    image: alpine")
    if not isinstance(root, yaml.MappingNode):
        return None
    keys = {key for key, _, _ in entries}
    for key, key_node, value in entries:
        workflow.spans[key] = span_of(value, (key,))
        if key in _DEPRECATED:
            _read_deprecated(reader, workflow, key, key_node, value, keys)
        elif key not in WORKFLOW_KEYS:
            reader.unknown_key(key_node, (), key, WORKFLOW_KEYS, "a workflow")
        else:
            _read_key(reader, workflow, key, value, (key,))
    if "steps" not in keys and "pipeline" not in keys:
        reader.error(root, ("steps",), "the workflow has no `steps`", "add a `steps:` list or map")
    return workflow


def _read_key(reader: Reader, workflow: Workflow, key: str, value: Node, here: Path) -> None:
    if key in ("steps", "services", "clone"):
        if key == "clone" and isinstance(value, yaml.MappingNode) and _is_settings_map(value):
            reader.error(value, here, "`clone` is a map of clone steps or a list of them")
            return
        setattr(workflow, key, read_containers(reader, value, here, key))
    elif key == "skip_clone":
        workflow.skip_clone = reader.boolean(value, here, key)
    elif key == "when":
        workflow.when = read_when(reader, value, here, step=False)
    elif key == "workspace":
        for name, name_node, item in reader.mapping(value, here, "workspace", "workspace: {base: /go}"):
            if name in ("base", "path"):
                setattr(workflow, f"workspace_{name}", reader.string(item, (*here, name), name))
            else:
                reader.unknown_key(name_node, here, name, ("base", "path"), "workspace")
    elif key == "labels":
        workflow.labels = {k: reader.string(v, (*here, k), k) for k, _, v in reader.mapping(value, here, key)}
    elif key == "depends_on":
        workflow.depends_on = read_dependencies(reader, value, here)
    elif key == "runs_on":
        workflow.runs_on = texts(reader, value, here, "runs_on")
        reader.warn(
            value,
            here,
            "`runs_on` is deprecated",
            f"write `when: {{status: [{', '.join(workflow.runs_on)}]}}`",
        )
    elif key == "concurrency":
        workflow.concurrency_limit = _concurrency(reader, value, here)


def _is_settings_map(node: yaml.MappingNode) -> bool:
    return any(isinstance(v, yaml.ScalarNode) for _, v in node.value)


def _concurrency(reader: Reader, node: Node, path: Path) -> int:
    """`concurrency: 2` or `{limit: 2, group: name}` (the group is the workflow: Hangar limits by name)."""
    if isinstance(node, yaml.ScalarNode):
        limit = reader.integer(node, path, "concurrency")
    else:
        values = {
            k: (kn, v) for k, kn, v in reader.mapping(node, path, "concurrency", "concurrency: {limit: 1}")
        }
        if "limit" not in values:
            reader.error(node, path, "`concurrency` needs a `limit`", "concurrency: {limit: 1}")
            return 0
        limit = reader.integer(values["limit"][1], (*path, "limit"), "limit")
        if "group" in values:
            reader.warn(
                values["group"][0],
                (*path, "group"),
                "a concurrency `group` is not supported: the limit applies to this workflow",
            )
    if limit < 1:
        reader.error(node, path, "the concurrency limit must be at least 1", "concurrency: 1")
    return max(limit, 0)


def _read_deprecated(
    reader: Reader, workflow: Workflow, key: str, key_node: Node, value: Node, keys: set[str]
) -> None:
    reader.warn(key_node, (key,), f"`{key}:` is deprecated", _DEPRECATED[key])
    if key == "pipeline" and "steps" not in keys:
        workflow.steps = read_containers(reader, value, (key,), "steps")
    elif key == "platform":
        workflow.labels.setdefault("platform", reader.string(value, (key,), "platform"))

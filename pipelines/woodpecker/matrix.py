"""`matrix:`: the combinations one workflow file expands into, as Woodpecker computes them."""

from __future__ import annotations

import yaml

from pipelines.woodpecker.model import Axis
from pipelines.yamltree import Node, Reader

LIMIT_TAGS = 10
LIMIT_AXES = 25
"""Woodpecker stops after the 27th combination (its loop breaks once the index passes 25) and reads at most
12 axes of each combination: Hangar keeps the same limits and warns when a matrix reaches them."""


def read_matrix(reader: Reader, root: Node) -> list[Axis]:
    """The combinations of the file's `matrix` ([] when it has none): `include:` lists them one by one,
    otherwise every combination of the axes' values, axes in name order (the first varies slowest)."""
    if not isinstance(root, yaml.MappingNode):
        return []
    entry = next(
        ((k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "matrix"), None
    )
    if entry is None:
        return []
    node = entry[1]
    entries = reader.mapping(node, ("matrix",), "matrix", "matrix:\n  GO_VERSION: ['1.21', '1.22']")
    include = next((value for key, _, value in entries if key == "include"), None)
    if include is not None:
        return _included(reader, include)
    axes: dict[str, list[str]] = {}
    for key, _, value in entries:
        values = [
            _value(reader, item, ("matrix", key, i))
            for i, item in enumerate(
                reader.sequence(value, ("matrix", key), f"matrix axis {key}", f"{key}: [a, b]")
            )
        ]
        if values:
            axes[key] = values
    return _combinations(reader, node, axes)


def _included(reader: Reader, node: Node) -> list[Axis]:
    combinations: list[Axis] = []
    for index, item in enumerate(
        reader.sequence(node, ("matrix", "include"), "matrix include", "include:\n  - GO: '1.22'")
    ):
        here = ("matrix", "include", index)
        combinations.append(
            {
                key: _value(reader, value, (*here, key))
                for key, _, value in reader.mapping(item, here, "a combination")
            }
        )
    return [axis for axis in combinations if axis]


def _value(reader: Reader, node: Node, path: tuple[str | int, ...]) -> str:
    """An axis value as written (Go decodes `1.10` into a string field as `1.10`)."""
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    return reader.string(node, path, "a matrix value")


def _combinations(reader: Reader, node: Node, axes: dict[str, list[str]]) -> list[Axis]:
    tags = sorted(axes)
    total = 1
    for tag in tags:
        total *= len(axes[tag])
    combinations: list[Axis] = []
    for index in range(total):
        axis: Axis = {}
        divisor = total
        for position, tag in enumerate(tags):
            values = axes[tag]
            divisor //= len(values)
            axis[tag] = values[index // divisor % len(values)]
            if position > LIMIT_TAGS:
                break
        combinations.append(axis)
        if index > LIMIT_AXES:
            reader.warn(
                node,
                ("matrix",),
                f"the matrix has {total} combinations; Woodpecker and Hangar run the first {index + 1}",
            )
            break
    return combinations


def axis_label(axis: Axis) -> str:
    """`GO=1.22, DB=postgres`: a combination as the build page and commit statuses show it."""
    return ", ".join(f"{key}={value}" for key, value in axis.items())

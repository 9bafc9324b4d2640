"""Values as Woodpecker's Go YAML reads them: YAML 1.2 scalars (`yes` is text, `True` a bool), Go's way of
writing numbers into variables, and xyaml's sequence merge (`- <<: *list` splices a list into a list)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from pipelines.model import SecretRef
from pipelines.woodpecker.expr.builtins import to_text
from pipelines.yamltree import Node, Path, Reader

_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?(?:[0-9]+|0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+)$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOATS = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}
_MERGE = "tag:yaml.org,2002:merge"
MAX_MERGE_DEPTH = 15
"""xyaml's depth limit for nested sequence merges (Woodpecker's maxMergeDepth)."""


def splice_sequences(node: Node, depth: int = 0, seen: set[int] | None = None) -> None:
    """Replace, in every list, an item `<<: *list` by the items of that list (in place, aliases included)."""
    seen = set() if seen is None else seen
    if id(node) in seen or depth > 200:
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        node.value = _spliced(node.value, 0)
        for item in node.value:
            splice_sequences(item, depth + 1, seen)
    elif isinstance(node, yaml.MappingNode):
        for _, value in node.value:
            splice_sequences(value, depth + 1, seen)


def _spliced(items: list[Node], depth: int) -> list[Node]:
    out: list[Node] = []
    for item in items:
        source = _merged_sequence(item)
        if source is None or depth >= MAX_MERGE_DEPTH:
            out.append(item)
        else:
            out.extend(_spliced(list(source.value), depth + 1))
    return out


def _merged_sequence(item: Node) -> yaml.SequenceNode | None:
    """The list of a `- <<: *list` item, or None for any other item."""
    if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
        return None
    key, value = item.value[0]
    is_merge = key.tag == _MERGE or (isinstance(key, yaml.ScalarNode) and key.value == "<<")
    return value if is_merge and isinstance(value, yaml.SequenceNode) else None


def scalar(reader: Reader, node: yaml.ScalarNode, path: Path) -> Any:
    """A scalar as Go's YAML decodes it into `any` (after `${VAR}` substitution, as Woodpecker substitutes
    the file's text before parsing it)."""
    text = reader.text(node, path)
    if node.style not in (None, ""):
        return text
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        return int(text, 0) if text.lstrip("+-")[:2].lower() in ("0x", "0o", "0b") else int(text)
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return float(text)
    return _SPECIAL_FLOATS.get(text.lower(), text)


def plain(reader: Reader, node: Node, path: Path, depth: int = 0) -> Any:
    """Any value as Go data: maps, lists and Go-resolved scalars."""
    if depth > 100:
        reader.error(node, path, "value is nested too deeply")
        return None
    if isinstance(node, yaml.ScalarNode):
        return scalar(reader, node, path)
    if isinstance(node, yaml.SequenceNode):
        return [plain(reader, item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
    return {
        key: plain(reader, value, (*path, key), depth + 1) for key, _, value in reader.mapping(node, path, "")
    }


def variable_value(reader: Reader, node: Node, path: Path) -> str | SecretRef | None:
    """An `environment` or `settings` value: `{from_secret: name}` as a reference, else the text Woodpecker
    puts in the variable (None: left out); a secret inside a list or map is an error."""
    value = plain(reader, node, path)
    if isinstance(value, dict) and set(value) == {"from_secret"}:
        name = value["from_secret"]
        if isinstance(name, str) and name:
            return SecretRef(name)
        reader.error(node, path, "from_secret needs the name of a secret", "from_secret: docker_password")
        return None
    if _has_secret(value):
        reader.error(
            node,
            path,
            "a `from_secret` inside a list or map is not supported by Hangar",
            "give the secret its own setting or variable, e.g. password: {from_secret: docker_password}",
        )
        return None
    return None if value is None else variable_text(value)


def _has_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return "from_secret" in value or any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


def variable_text(value: Any) -> str:
    """Woodpecker's encoding of a value into a variable: scalars as Go prints them, a list of scalars
    joined with commas, anything else as JSON."""
    if isinstance(value, list):
        if all(not isinstance(item, list | dict) for item in value):
            return ",".join(variable_text(item) for item in value if item is not None)
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return to_text(value)


def is_empty(node: Node) -> bool:
    """An empty value: `key:`, `~`, `null` (unquoted)."""
    return isinstance(node, yaml.ScalarNode) and node.style in (None, "") and str(node.value) in _NULL


def texts(reader: Reader, node: Node, path: Path, what: str) -> list[str]:
    """A string or a list of strings (Woodpecker's StringOrSlice), numbers as written."""
    if isinstance(node, yaml.ScalarNode):
        return [] if is_empty(node) else [reader.text(node, path)]
    return [reader.string(item, (*path, i), what) for i, item in enumerate(reader.sequence(node, path, what))]

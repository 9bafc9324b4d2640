"""Readers for the value shapes pipelines share: conditions, environment maps, byte sizes."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any

import yaml

from pipelines.conditions import CONDITION_KEYS, EVENTS, STATUSES, Condition, Conditions
from pipelines.globs import glob_error
from pipelines.model import EnvValue, SecretRef, Span
from pipelines.yamltree import Node, Path, Reader, format_path, is_null

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
_CONDITION_ALIASES = {"branches": "branch", "events": "event", "refs": "ref", "path": "paths"}


def span_of(node: Node, path: Path) -> Span:
    """The Span of a node at path."""
    return Span(node.start_mark.line + 1, node.start_mark.column + 1, format_path(path))


def known_entries(
    reader: Reader,
    entries: list[tuple[str, Node, Node]],
    path: Path,
    known: Collection[str],
    where: str,
    spans: dict[str, Span],
) -> Iterator[tuple[str, Node, Path]]:
    """A map's entries with a known key, each with its value's path; every key's span goes into `spans`,
    and a key not in `known` is warned about (as a key of `where`) and skipped."""
    for key, key_node, value in entries:
        here = (*path, key)
        spans[key] = span_of(value, here)
        if key in known:
            yield key, value, here
        else:
            reader.unknown_key(key_node, path, key, known, where)


def read_conditions(reader: Reader, node: Node, path: Path, where: str) -> Conditions:
    """A `when:` or `trigger:` block."""
    found: dict[str, Condition] = {}
    for key, key_node, value in reader.mapping(node, path, where, f"{path[-1]}: {{branch: main}}"):
        if key not in CONDITION_KEYS:
            alias = _CONDITION_ALIASES.get(key)
            hint = f"write `{alias}`" if alias else ""
            if hint:
                reader.warn(key_node, (*path, key), f"unknown condition '{key}' is ignored", hint)
            else:
                reader.unknown_key(key_node, path, key, CONDITION_KEYS, where)
            continue
        condition = read_condition(reader, value, (*path, key), allow_on_empty=key == "paths")
        _check_values(reader, key, value, (*path, key), condition)
        found[key] = condition
    return Conditions(**found)


def read_condition(reader: Reader, node: Node, path: Path, *, allow_on_empty: bool = False) -> Condition:
    """One condition: a pattern, a list of patterns, or `{include: [...], exclude: [...]}`."""
    if isinstance(node, yaml.MappingNode):
        include: list[str] = []
        exclude: list[str] = []
        on_empty = True
        for key, key_node, value in reader.mapping(node, path, "a condition"):
            if key == "include":
                include = reader.strings(value, (*path, key), "include patterns")
            elif key == "exclude":
                exclude = reader.strings(value, (*path, key), "exclude patterns")
            elif key == "on_empty" and allow_on_empty:
                on_empty = reader.boolean(value, (*path, key), "on_empty")
            else:
                known = ("include", "exclude", "on_empty") if allow_on_empty else ("include", "exclude")
                reader.unknown_key(key_node, path, key, known, "a condition")
        return Condition(tuple(include), tuple(exclude), on_empty)
    patterns = reader.strings(node, path, "a condition", f"{path[-1]}: [main, 'release/*']")
    return Condition(tuple(patterns))


def _check_values(reader: Reader, key: str, node: Node, path: Path, condition: Condition) -> None:
    """Warn about event and status values Drone never produces, which silently never match."""
    known = {"event": EVENTS, "status": STATUSES}.get(key)
    for pattern in (*condition.include, *condition.exclude):
        reason = glob_error(pattern)
        if reason:
            reader.warn(node, path, f"pattern {pattern!r} is not a valid glob ({reason}); it never matches")
        elif known and not any(ch in pattern for ch in "*?[{") and pattern not in known:
            hint = {"pr": "pull_request", "pull-request": "pull_request", "tags": "tag", "failed": "failure"}
            suggestion = hint.get(pattern, "")
            reader.warn(
                node,
                path,
                f"{key} {pattern!r} never matches: {key} is one of {', '.join(known)}",
                f"write `{suggestion}`" if suggestion else "",
            )


def read_environment(reader: Reader, node: Node, path: Path, where: str) -> dict[str, EnvValue]:
    """An environment map; numbers and booleans keep the text they were written as."""
    example = "environment: {GOOS: linux, TOKEN: {from_secret: token}}"
    if isinstance(node, yaml.SequenceNode):
        return _environment_list(reader, node, path)
    env: dict[str, EnvValue] = {}
    for key, _, value in reader.mapping(node, path, where, example):
        if isinstance(value, yaml.MappingNode):
            ref = read_secret_ref(reader, value, (*path, key))
            if ref is not None:
                env[key] = ref
            continue
        env[key] = reader.string(value, (*path, key), f"environment variable {key}", example)
    return env


def _environment_list(reader: Reader, node: yaml.SequenceNode, path: Path) -> dict[str, EnvValue]:
    """Drone 0.8's `- KEY=value` list form, accepted with a warning."""
    reader.warn(
        node, path, "environment as a list of KEY=value is Drone 0.8 syntax", "write a map: `KEY: value`"
    )
    env: dict[str, EnvValue] = {}
    for index, item in enumerate(node.value):
        text = reader.string(item, (*path, index), "an environment entry")
        key, _, value = text.partition("=")
        if key:
            env[key] = value
    return env


def read_secret_ref(reader: Reader, node: Node, path: Path) -> SecretRef | None:
    """`{from_secret: name}`, or an error naming the shape that was expected."""
    entries = reader.mapping(node, path, "a secret reference")
    for key, _, value in entries:
        if key == "from_secret" and len(entries) == 1:
            name = reader.string(value, (*path, key), "from_secret")
            if name:
                return SecretRef(name)
    reader.error(
        node,
        path,
        "a map here must be a secret reference",
        f"write `{path[-1]}: {{from_secret: secret_name}}` or quote the value",
    )
    return None


def read_settings(reader: Reader, node: Node, path: Path) -> dict[str, Any]:
    """Plugin settings: any YAML value per key, `{from_secret: name}` kept as a reference."""
    settings: dict[str, Any] = {}
    for key, _, value in reader.mapping(node, path, "settings", "settings: {repo: octocat/hello}"):
        if isinstance(value, yaml.MappingNode) and _is_secret_ref(value):
            settings[key] = read_secret_ref(reader, value, (*path, key))
        elif isinstance(value, yaml.ScalarNode) and not is_null(value):
            settings[key] = _scalar(reader, value, (*path, key))
        elif isinstance(value, yaml.SequenceNode) and all(
            isinstance(i, yaml.ScalarNode) for i in value.value
        ):
            settings[key] = [_scalar(reader, item, (*path, key, i)) for i, item in enumerate(value.value)]
        else:
            settings[key] = reader.plain(value, (*path, key))
    return settings


def _is_secret_ref(node: yaml.MappingNode) -> bool:
    return len(node.value) == 1 and getattr(node.value[0][0], "value", None) == "from_secret"


def _scalar(reader: Reader, node: yaml.ScalarNode, path: Path) -> Any:
    """A settings scalar: strings keep their exact text (`1.10` stays `1.10`), booleans stay booleans."""
    value = reader.plain(node, path)
    if value is None or isinstance(value, bool) or node.tag == "tag:yaml.org,2002:str":
        return value
    return reader.text(node, path)


def read_byte_size(reader: Reader, node: Node, path: Path) -> int:
    """A size like `512MiB`, `1g` or a number of bytes (units are binary, as in Docker)."""
    text = reader.string(node, path, "a size")
    match = _SIZE.match(text)
    if not match:
        if text:
            reader.error(node, path, f"{text!r} is not a size", f"{path[-1]}: 1GiB")
        return 0
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * _UNITS[unit])

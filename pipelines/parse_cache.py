"""Reading Hangar's `cache:` extension (on a pipeline or a step): a list of `{key, paths}` items."""

from __future__ import annotations

import yaml

from pipelines.cache_template import TemplateError, check_relative, parse_template
from pipelines.errors import Problem, Severity
from pipelines.model import CacheItem
from pipelines.parse_values import span_of
from pipelines.yamltree import Node, Path, Reader, format_path

EXAMPLE = 'cache:\n  - key: pip-{{ checksum "requirements.txt" }}\n    paths: [.cache/pip]'


def read_caches(reader: Reader, node: Node, path: Path) -> list[CacheItem]:
    """The items; a bad key template or a path leaving the workspace is an error at its place."""
    items: list[CacheItem] = []
    for index, item in enumerate(reader.sequence(node, path, "cache", EXAMPLE)):
        here = (*path, index)
        key, paths = "", []
        for name, key_node, value in reader.mapping(item, here, "a cache item", EXAMPLE):
            if name == "key":
                key = reader.string(value, (*here, name), "key")
                _check(reader, value, (*here, name), key, template=True)
            elif name == "paths":
                paths = reader.strings(value, (*here, name), "paths", "paths: [.cache/pip]")
                nodes = value.value if isinstance(value, yaml.SequenceNode) else [value]
                for position, (written, text) in enumerate(zip(nodes, paths, strict=False)):
                    _check(reader, written, (*here, name, position), text, template=False)
            else:
                reader.unknown_key(key_node, here, name, ("key", "paths"), "a cache item")
        if not isinstance(item, yaml.MappingNode):
            continue
        if not key:
            reader.error(item, (*here, "key"), "a cache item needs a key", EXAMPLE)
        if not paths:
            reader.error(item, (*here, "paths"), "a cache item needs paths to keep", "paths: [.cache/pip]")
        if key and paths:
            items.append(CacheItem(key, paths, span_of(item, here)))
    return items


def _check(reader: Reader, node: Node, path: Path, text: str, *, template: bool) -> None:
    """Record a TemplateError at the column it points to (on a one-line value)."""
    try:
        if template:
            parse_template(text)
        else:
            check_relative(text)
    except TemplateError as exc:
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        if isinstance(node, yaml.ScalarNode) and node.start_mark.line == node.end_mark.line:
            column += exc.offset + (1 if node.style in ("'", '"') else 0)
        hint = exc.hint or ("paths: [.cache/pip]" if not template else "")
        reader.problems.append(
            Problem(Severity.ERROR, str(exc), reader.filename, line, column, format_path(path), hint)
        )

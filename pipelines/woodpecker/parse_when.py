"""Reading a Woodpecker `when`: one map of filters, or a list of them (alternatives)."""

from __future__ import annotations

import yaml

from pipelines.errors import Problem, Severity
from pipelines.globs import glob_error
from pipelines.parse_values import span_of
from pipelines.woodpecker.expr import ExpressionError, compile_expression
from pipelines.woodpecker.model import Constraint, Filter, MatrixFilter, PathFilter, When
from pipelines.woodpecker.values import is_empty, texts
from pipelines.yamltree import Node, Path, Reader, format_path

EVENTS = (
    "push", "pull_request", "pull_request_closed", "pull_request_metadata", "tag", "release", "deployment",
    "cron", "manual",
)  # fmt: skip
STATUSES = ("success", "failure")
_FILTERS = ("branch", "ref", "repo", "instance", "platform", "cron")
WHEN_KEYS = (*_FILTERS, "event", "status", "matrix", "path", "evaluate", "local")
_EVENT_HINTS = {"pr": "pull_request", "tags": "tag", "deploy": "deployment", "custom": "manual"}


def read_when(reader: Reader, node: Node, path: Path, *, step: bool) -> When:
    """A `when` block (`step`: a step's, where `matrix` may filter)."""
    if isinstance(node, yaml.SequenceNode):
        items = [(item, (*path, i)) for i, item in enumerate(node.value)]
    else:
        items = [(node, path)]
    constraints = [_constraint(reader, item, here, step=step) for item, here in items]
    return When(tuple(c for c in constraints if c is not None))


def _constraint(reader: Reader, node: Node, path: Path, *, step: bool) -> Constraint | None:
    example = "when:\n  - event: push\n    branch: main"
    entries = reader.mapping(node, path, "a `when` condition", example)
    if not isinstance(node, yaml.MappingNode):
        return None
    values: dict[str, object] = {"span": span_of(node, path)}
    for key, key_node, value in entries:
        here = (*path, key)
        if key in _FILTERS:
            values[key] = _filter(reader, value, here)
        elif key == "event":
            values["event"] = tuple(_events(reader, value, here))
        elif key == "status":
            values["status"] = tuple(_statuses(reader, value, here))
        elif key == "path":
            values["path"] = _path(reader, value, here)
        elif key == "matrix":
            if not step:
                reader.warn(key_node, here, "`matrix` filters steps; a workflow's `when` ignores it")
            values["matrix"] = _matrix(reader, value, here)
        elif key == "evaluate":
            _evaluate(reader, value, here, values)
        elif key == "local":
            continue
        else:
            _deprecated_or_unknown(reader, key, key_node, value, here)
    return Constraint(**values)  # type: ignore[arg-type]


def _filter(reader: Reader, node: Node, path: Path) -> Filter:
    """A pattern, a list of patterns, or `{include: ..., exclude: ...}`."""
    if isinstance(node, yaml.MappingNode):
        include: list[str] = []
        exclude: list[str] = []
        for key, key_node, value in reader.mapping(node, path, "a filter"):
            if key == "include":
                include = texts(reader, value, (*path, key), "include patterns")
            elif key == "exclude":
                exclude = texts(reader, value, (*path, key), "exclude patterns")
            else:
                reader.unknown_key(key_node, path, key, ("include", "exclude"), "a filter")
        found = Filter(tuple(include), tuple(exclude))
    else:
        found = Filter(tuple(texts(reader, node, path, "patterns")))
    for pattern in (*found.include, *found.exclude):
        reason = glob_error(pattern)
        if reason:
            reader.warn(node, path, f"pattern {pattern!r} is not a valid glob ({reason}); it never matches")
    return found


def _events(reader: Reader, node: Node, path: Path) -> list[str]:
    if isinstance(node, yaml.MappingNode):
        reader.error(
            node,
            path,
            "`event` is a list of events; include/exclude is not supported here",
            "list the events that should run, e.g. event: [push, tag]",
        )
        return []
    events = texts(reader, node, path, "events")
    for event in events:
        if event not in EVENTS:
            hint = _EVENT_HINTS.get(event, "")
            reader.error(
                node,
                path,
                f"event {event!r} is not one of Woodpecker's events: {', '.join(EVENTS)}",
                f"write `{hint}`" if hint else "",
            )
    return events


def _statuses(reader: Reader, node: Node, path: Path) -> list[str]:
    statuses = texts(reader, node, path, "statuses")
    for status in statuses:
        if status not in STATUSES:
            hint = "write `failure`" if status in ("failed", "error") else "status: [success, failure]"
            reader.error(node, path, f"status {status!r} is neither success nor failure", hint)
    return statuses


def _path(reader: Reader, node: Node, path: Path) -> PathFilter:
    if not isinstance(node, yaml.MappingNode):
        return PathFilter(tuple(texts(reader, node, path, "path patterns")))
    values: dict[str, object] = {}
    for key, key_node, value in reader.mapping(node, path, "path"):
        here = (*path, key)
        if key in ("include", "exclude"):
            values[key] = tuple(texts(reader, value, here, f"{key} patterns"))
        elif key == "ignore_message":
            values[key] = reader.string(value, here, key)
        elif key == "on_empty":
            values[key] = reader.boolean(value, here, key)
        else:
            known = ("include", "exclude", "ignore_message", "on_empty")
            reader.unknown_key(key_node, path, key, known, "path")
    return PathFilter(**values)  # type: ignore[arg-type]


def _matrix(reader: Reader, node: Node, path: Path) -> MatrixFilter:
    include: list[tuple[str, str]] = []
    exclude: list[tuple[str, str]] = []
    for key, _, value in reader.mapping(node, path, "matrix", "matrix: {GO_VERSION: '1.22'}"):
        if key in ("include", "exclude") and isinstance(value, yaml.MappingNode):
            target = include if key == "include" else exclude
            target.extend(
                (k, _text(reader, v, (*path, key, k))) for k, _, v in reader.mapping(value, path, key)
            )
        else:
            include.append((key, _text(reader, value, (*path, key))))
    return MatrixFilter(tuple(include), tuple(exclude))


def _text(reader: Reader, node: Node, path: Path) -> str:
    if is_empty(node):
        return ""
    return reader.string(node, path, "a matrix value")


def _evaluate(reader: Reader, node: Node, path: Path, values: dict[str, object]) -> None:
    text = reader.string(node, path, "evaluate", "evaluate: 'CI_COMMIT_BRANCH == \"main\"'")
    shift = 1 if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"') else 0
    values["evaluate_span"], values["evaluate_shift"] = span_of(node, path), shift
    if not text:
        return
    try:
        expression = compile_expression(text)
        expression.check()
    except ExpressionError as exc:
        line, column = node.start_mark.line + 1, node.start_mark.column + 1 + shift + exc.offset
        reader.problems.append(_problem(reader, f"evaluate: {exc.message}", line, column, path, text))
        return
    values["evaluate"] = expression


def _problem(reader: Reader, message: str, line: int, column: int, path: Path, text: str) -> Problem:
    hint = 'expr-lang syntax, e.g. CI_COMMIT_BRANCH == "main" && CI_COMMIT_MESSAGE contains "deploy"'
    return Problem(Severity.ERROR, message, reader.filename, line, column, format_path(path), hint)


def _deprecated_or_unknown(reader: Reader, key: str, key_node: Node, value: Node, path: Path) -> None:
    modern = {
        "tag": "`ref: refs/tags/<pattern>` (with `event: tag`)",
        "environment": "`evaluate: 'CI_PIPELINE_DEPLOY_TARGET == \"<name>\"'`",
        "branches": "`branch`",
        "events": "`event`",
        "paths": "`path`",
    }
    if key in modern:
        reader.error(
            key_node, path, f"`{key}` is not a Woodpecker `when` filter (any more)", f"write {modern[key]}"
        )
    else:
        reader.unknown_key(key_node, path[:-1], key, WHEN_KEYS, "a `when` condition")

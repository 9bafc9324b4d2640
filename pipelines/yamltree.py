"""YAML documents as node trees that remember where every value was written, and a reader over them."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any

import yaml

from pipelines.errors import ConfigError, Problem, Severity

try:  # libyaml makes the 368 KB files of the corpus compose ten times faster
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Path = tuple[str | int, ...]
Node = yaml.Node
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_constructor = yaml.constructor.SafeConstructor()


def format_path(path: Path) -> str:
    """Render a path inside a document the way people write it: `steps[1].image`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def load_documents(text: str, filename: str) -> list[Node]:
    """Compose every non-empty YAML document of text; a syntax error becomes a located ConfigError."""
    # libyaml accepts tabs that PyYAML's own scanner, like Drone's Go parser, rejects ("cannot start any
    # token"): a file with a tab in it is read by the stricter (slower) scanner so both agree.
    loader = yaml.SafeLoader if "\t" in text else _Loader
    try:
        nodes = list(yaml.compose_all(text, Loader=loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or "is not valid YAML"
        if exc.context:
            reason = f"{exc.context}, {reason}"
        if exc.context_mark and mark and mark.index >= len(text.rstrip()):
            # "unexpected end of stream": the line that opened what never closed is the useful one
            what = (exc.context or "").removeprefix("while scanning ").removeprefix("while parsing ")
            what = what.removeprefix("a ").removeprefix("an ")
            reason = f"the {what} that starts here never ends" if what else reason
            mark = exc.context_mark
        hint = _syntax_hint(text, mark)
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise ConfigError(
            [Problem(Severity.ERROR, f"YAML syntax error: {reason}", filename, line, column, hint=hint)]
        ) from None
    except yaml.YAMLError as exc:  # reader errors: control characters, bad encoding
        raise ConfigError([Problem(Severity.ERROR, f"YAML error: {exc}", filename, 1, 1)]) from None
    except RecursionError:
        raise ConfigError([Problem(Severity.ERROR, "YAML nesting is too deep", filename, 1, 1)]) from None
    return [node for node in nodes if node is not None and not _is_null(node)]


def _syntax_hint(text: str, mark: yaml.Mark | None) -> str:
    """Suggest the usual fix for the most common YAML mistakes."""
    if mark is None:
        return ""
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    if "\t" in line:
        return "YAML does not allow tabs here; use spaces"
    if '"' in line or "'" in line:
        return "check that every quote on this line is closed, or quote the whole value"
    return "check the indentation and quoting on this line and the one before"


def _is_null(node: Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL


class Reader:
    """Reads typed values out of a node tree, recording located problems instead of raising."""

    def __init__(
        self,
        filename: str,
        problems: list[Problem],
        transform: Callable[[str], str] | None = None,
        on_string: Callable[[str], str | None] | None = None,
    ) -> None:
        self.filename = filename
        self.problems = problems
        self._transform = transform
        self._on_string = on_string
        self._budget = MAX_EXPANDED_VALUES

    def _spend(self, node: Node, path: Path) -> bool:
        """Count one value read; False once aliases have expanded the file past MAX_EXPANDED_VALUES."""
        self._budget -= 1
        if self._budget == -1:
            self.error(
                node,
                path,
                f"the file expands to more than {MAX_EXPANDED_VALUES} values (aliases repeating aliases)",
                "use fewer nested `*alias` references",
            )
        return self._budget >= 0

    def report(self, severity: Severity, node: Node | None, path: Path, message: str, hint: str = "") -> None:
        """Record a problem at node's position."""
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (0, 0)
        self.problems.append(Problem(severity, message, self.filename, line, column, format_path(path), hint))

    def error(self, node: Node | None, path: Path, message: str, hint: str = "") -> None:
        """Record an error at node's position."""
        self.report(Severity.ERROR, node, path, message, hint)

    def warn(self, node: Node | None, path: Path, message: str, hint: str = "") -> None:
        """Record a warning at node's position."""
        self.report(Severity.WARNING, node, path, message, hint)

    def mapping(self, node: Node, path: Path, what: str, example: str = "") -> list[tuple[str, Node, Node]]:
        """The (key, key node, value node) entries of a map, merge keys applied; [] and an error otherwise."""
        if _is_null(node):
            return []
        if not isinstance(node, yaml.MappingNode):
            self.error(node, path, f"{what} must be a map of keys to values, not {_kind(node)}", example)
            return []
        entries: dict[str, tuple[str, Node, Node]] = {}
        for key, key_node, value in self._flatten(node, path, set()):
            entries[key] = (key, key_node, value)
        return list(entries.values())

    def _flatten(
        self, node: yaml.MappingNode, path: Path, seen: set[int]
    ) -> Iterable[tuple[str, Node, Node]]:
        """Entries with `<<: *anchor` merges first, so explicit keys override merged ones."""
        if id(node) in seen:
            return
        seen = seen | {id(node)}
        merged: list[tuple[str, Node, Node]] = []
        explicit: list[tuple[str, Node, Node]] = []
        written: set[str] = set()
        for key_node, value in node.value:
            if not self._spend(key_node, path):
                break
            if key_node.tag == _MERGE:
                sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
                for source in sources:
                    if isinstance(source, yaml.MappingNode):
                        merged.extend(self._flatten(source, path, seen))
                    else:
                        self.error(source, path, "a `<<:` merge needs a map (or a list of maps) to merge")
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.error(key_node, path, "map keys must be plain text")
                continue
            key = str(key_node.value)
            if key in written:
                self.warn(key_node, (*path, key), f"key '{key}' is given twice; the last one wins")
            written.add(key)
            explicit.append((key, key_node, value))
        yield from merged
        yield from explicit

    def sequence(self, node: Node, path: Path, what: str, example: str = "") -> list[Node]:
        """The items of a list; [] and an error for anything else."""
        if _is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, path, f"{what} must be a list, not {_kind(node)}", example)
            return []
        return list(node.value)

    def string(self, node: Node, path: Path, what: str, example: str = "") -> str:
        """A scalar as text (numbers and booleans as written); '' and an error for lists and maps."""
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, path, f"{what} must be a single value, not {_kind(node)}", example)
            return ""
        if _is_null(node):
            return ""
        return self.text(node, path)

    def text(self, node: yaml.ScalarNode, path: Path) -> str:
        """The scalar's text as written, after substitution."""
        value = str(node.value)
        if "$" in value:
            if self._on_string is not None:
                reason = self._on_string(value)
                if reason:
                    self.error(node, path, reason, "write `$$` for a literal dollar sign")
            if self._transform is not None:
                try:
                    value = self._transform(value)
                except ValueError as exc:
                    self.error(node, path, str(exc), "write `$$` for a literal dollar sign")
        return value

    def strings(self, node: Node, path: Path, what: str, example: str = "") -> list[str]:
        """A list of scalars as text; a single scalar counts as a list of one."""
        if isinstance(node, yaml.ScalarNode):
            return [] if _is_null(node) else [self.text(node, path)]
        return [
            self.string(item, (*path, i), what, example)
            for i, item in enumerate(self.sequence(node, path, what))
        ]

    def boolean(self, node: Node, path: Path, what: str) -> bool:
        """A yes/no value; `true`, `false` and YAML 1.1's yes/no/on/off are accepted."""
        value = self.plain(node, path)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _BOOLEAN_WORDS:
            return _BOOLEAN_WORDS[value.lower()]
        if value is None:
            return False
        self.error(node, path, f"{what} must be true or false, not {value!r}", f"{path[-1]}: true")
        return False

    def integer(self, node: Node, path: Path, what: str) -> int:
        """A whole number; digits written as text are accepted too."""
        value = self.plain(node, path)
        if isinstance(value, bool) or not isinstance(value, int | str):
            if value is None:
                return 0
            self.error(node, path, f"{what} must be a whole number, not {value!r}", f"{path[-1]}: 10")
            return 0
        try:
            return int(value)
        except ValueError:
            self.error(node, path, f"{what} must be a whole number, not {value!r}", f"{path[-1]}: 10")
            return 0

    def plain(self, node: Node, path: Path, depth: int = 0) -> Any:
        """The node as plain Python data (dict, list, str, int, float, bool, None), strings substituted."""
        if depth > 100:
            self.error(node, path, "value is nested too deeply")
            return None
        if not self._spend(node, path):
            return None
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return self.text(node, path)
            try:
                return _constructor.construct_object(node)
            except (yaml.constructor.ConstructorError, ValueError, OverflowError):
                return str(node.value)
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return {
            key: self.plain(value, (*path, key), depth + 1) for key, _, value in self.mapping(node, path, "")
        }

    def unknown_key(self, key_node: Node, path: Path, key: str, known: Iterable[str], where: str) -> None:
        """Warn about a key Hangar does not know, suggesting the closest known one."""
        close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
        hint = f"did you mean `{close[0]}`?" if close else ""
        self.warn(key_node, (*path, key), f"unknown key '{key}' in {where} is ignored", hint)


MAX_EXPANDED_VALUES = 500_000
_BOOLEAN_WORDS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}


def _kind(node: Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a map"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"the value {str(node.value)!r}" if node.value != "" else "an empty value"


def is_null(node: Node) -> bool:
    """True for an empty value (`key:` with nothing after it, or `~`/`null`)."""
    return _is_null(node)

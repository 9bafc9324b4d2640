"""Glob patterns for ``when``/``trigger`` conditions, with the syntax of Go's bmatcuk/doublestar ``Match``.

``*`` matches any run of characters except ``/``; ``?`` one character except ``/``; ``[abc]``, ``[a-z]``,
``[!a]``/``[^a]`` one character (never ``/``) from a class; ``{a,b}`` any one alternative (alternatives nest
and may hold globs and ``/``); ``\\`` makes the next character literal. ``**`` alone in a path segment
matches zero or more whole segments, so ``**/*.md`` matches ``a.md`` and ``x/y/a.md``, and ``docs/**``
matches ``docs``, ``docs/`` and everything below ``docs/``; elsewhere ``**`` is a plain ``*``. The whole
name must match. Patterns are compiled once into regular expressions; runs like ``*x*`` and ``**/x/**``
use atomic groups so that matching stays fast whatever the pattern. A malformed pattern matches nothing.

This follows doublestar v4. Drone itself pins v1.1.1, which differs in corners: there ``docs/**`` does not
match ``docs``, ``[!a]`` is a class of ``!`` and ``a``, braces neither nest nor hold ``/``, ``[-a]`` and
``[a-]`` are errors, and a stray ``}`` is an ordinary character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_METACHARACTERS = re.compile(r"[*?\[{}\\]")
_MAX_NESTING = 32
_MAX_SPLICE = 256
_SEGMENT = "[^/]*"
_SEGMENTS = "(?:[^/]*/)*"


@dataclass(frozen=True)
class _Lit:
    char: str


@dataclass(frozen=True)
class _Star:
    """A ``*``, or a ``**`` the compiler decides is a doublestar or a plain star."""

    double: bool


@dataclass(frozen=True)
class _AnyChar:
    pass


@dataclass(frozen=True)
class _Class:
    ranges: tuple[tuple[str, str], ...]
    negate: bool


@dataclass(frozen=True)
class _Alternatives:
    options: tuple[tuple[_Node, ...], ...]


_Node = _Lit | _Star | _AnyChar | _Class | _Alternatives


class _BadPatternError(ValueError):
    pass


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0

    def sequence(self, depth: int) -> tuple[_Node, ...]:
        pattern, nodes = self.pattern, list[_Node]()
        while self.pos < len(pattern):
            char = pattern[self.pos]
            if depth and char in ",}":
                break
            self.pos += 1
            if char == "\\":
                nodes.append(_Lit(self.escaped("the pattern ends with an unfinished escape '\\'")))
            elif char == "*":
                double = pattern.startswith("*", self.pos)
                self.pos += double
                nodes.append(_Star(double))
            elif char == "?":
                nodes.append(_AnyChar())
            elif char == "[":
                nodes.append(self.char_class(self.pos - 1))
            elif char == "{":
                nodes.append(self.alternatives(self.pos - 1, depth + 1))
            elif char == "}":
                raise _BadPatternError(f"'}}' at offset {self.pos - 1} closes no '{{'")
            else:
                nodes.append(_Lit(char))
        return tuple(nodes)

    def escaped(self, error: str) -> str:
        if self.pos >= len(self.pattern):
            raise _BadPatternError(error)
        self.pos += 1
        return self.pattern[self.pos - 1]

    def alternatives(self, start: int, depth: int) -> _Alternatives:
        if depth > _MAX_NESTING:
            raise _BadPatternError(f"'{{' at offset {start} nests deeper than {_MAX_NESTING} levels")
        options = [self.sequence(depth)]
        while self.pattern.startswith(",", self.pos):
            self.pos += 1
            options.append(self.sequence(depth))
        if self.pos >= len(self.pattern):
            raise _BadPatternError(f"'{{' at offset {start} is never closed")
        self.pos += 1
        return _Alternatives(tuple(options))

    def char_class(self, start: int) -> _Class:
        pattern, unclosed = self.pattern, f"'[' at offset {start} is never closed"
        negate = self.pos < len(pattern) and pattern[self.pos] in "!^"
        self.pos += negate
        if pattern.startswith("]", self.pos):
            raise _BadPatternError(f"empty character class at offset {start}")
        ranges: list[tuple[str, str]] = []
        last: str | None = None
        while (char := self.escaped(unclosed)) != "]":
            if char == "-" and last is not None and not pattern.startswith("]", self.pos):
                high = self.escaped(unclosed)
                if high == "\\":
                    high = self.escaped(unclosed)
                ranges.append((last, high))  # like doublestar, `last` already matched on its own
                last = None
                continue
            if char == "\\":
                char = self.escaped(unclosed)
            ranges.append((char, char))
            last = char
        return _Class(tuple(ranges), negate)


def _is_slash(node: _Node | None) -> bool:
    return isinstance(node, _Lit) and node.char == "/"


def _is_double(node: _Node | None) -> bool:
    return isinstance(node, _Star) and node.double


def _class_regex(node: _Class) -> str:
    body = "".join(
        re.escape(lo) if lo == hi else f"{re.escape(lo)}-{re.escape(hi)}"
        for lo, hi in node.ranges
        if lo <= hi
    )
    if node.negate:
        return f"[^/{body}]"
    return f"(?!/)[{body}]" if body else "(?!)"


def _simple_run(nodes: tuple[_Node, ...], start: int) -> int:
    """The end of the run of one-character, never-``/`` nodes starting at ``start``."""
    end = start
    while end < len(nodes) and (
        isinstance(nodes[end], _AnyChar | _Class)
        or (isinstance(nodes[end], _Lit) and not _is_slash(nodes[end]))
    ):
        end += 1
    return end


def _segment_run(nodes: tuple[_Node, ...], start: int, at_end: bool) -> int:
    """Index of the ``/`` that opens the next ``/**/``-like doublestar after ``start``, or -1.

    -1 also when an alternative or another doublestar comes first, or when that doublestar cannot swallow the
    segments left over after the text before it (a trailing ``/**/`` matches only names ending in ``/``).
    """
    for index in range(start, len(nodes) - 1):
        node = nodes[index]
        if isinstance(node, _Alternatives) or (index == start and _is_double(node)):
            return -1
        if _is_slash(node) and _is_double(nodes[index + 1]):
            after = nodes[index + 2 : index + 3]
            absorbs = (_is_slash(after[0]) and (index + 3 < len(nodes) or not at_end)) if after else at_end
            return index if index > start and absorbs else -1
    return -1


def _splice(nodes: tuple[_Node, ...]) -> tuple[_Node, ...]:
    """Moves each run of ``/`` and ``**`` next to a ``{...}`` into all of its options.

    doublestar splices each option into the pattern; this lets a ``**`` at the edge of an option see whether
    it stands alone in its segment.
    """
    out: list[_Node] = []
    index = 0
    while index < len(nodes):
        end = index
        while end < len(nodes) and (_is_slash(nodes[end]) or _is_double(nodes[end])):
            end += 1
        run, after = nodes[index:end], nodes[end] if end < len(nodes) else None
        before = out[-1] if out and run else None
        if isinstance(after, _Alternatives) and len(run) * len(after.options) <= _MAX_SPLICE:
            out.append(_Alternatives(tuple(run + option for option in after.options)))
        elif isinstance(before, _Alternatives) and len(run) * len(before.options) <= _MAX_SPLICE:
            out[-1] = _Alternatives(tuple(option + run for option in before.options))
            index = end
            continue
        else:
            out.extend(nodes[index : end + 1])
        index = end + 1
    return tuple(out)


def _emit(nodes: tuple[_Node, ...], segment_start: bool, at_end: bool) -> tuple[str, bool]:
    """Regex for ``nodes`` (``at_end`` if nothing follows them) and whether a segment starts right after."""
    nodes = _splice(nodes)
    out: list[str] = []
    index, count = 0, len(nodes)
    while index < count:
        node = nodes[index]
        rest = nodes[index + 1 :]
        if _is_slash(node) and rest and _is_double(rest[0]) and at_end and len(rest) <= 2:
            if len(rest) == 1:  # a trailing "/**" also matches the directory itself
                out.append("(?:/.*)?")
                break
            if _is_slash(rest[1]):  # a trailing "/**/" too
                out.append(f"(?:/{_SEGMENTS})?")
                break
        if (
            isinstance(node, _Star)
            and node.double
            and segment_start
            and (_is_slash(rest[0]) if rest else at_end)
        ):
            if not rest:
                out.append(".*")
                break
            end = _segment_run(nodes, index + 2, at_end)
            if end < 0:
                out.append(_SEGMENTS)
                index += 2
                continue
            # Committing to the first placement of a fixed number of whole segments loses no match.
            inner, _ = _emit(nodes[index + 2 : end], True, False)
            out.append(f"(?>(?:[^/]*/)*?{inner}(?=/|\\Z))")
            index = end
            continue
        if isinstance(node, _Star):
            end = _simple_run(nodes, index + 1)
            if index + 1 < end < count and isinstance(nodes[end], _Star):
                # Between two stars in one segment, the first place the fixed text fits is always good enough.
                inner, _ = _emit(nodes[index + 1 : end], False, False)
                out.append(f"(?>{_SEGMENT}?{inner})")
                index, segment_start = end, False
                continue
            out.append(_SEGMENT)
            segment_start = False
        elif isinstance(node, _Alternatives):
            last = at_end and index == count - 1
            options = [_emit(option, segment_start, last) for option in node.options]
            out.append("(?:" + "|".join(regex for regex, _ in options) + ")")
            segment_start = all(ends_segment for _, ends_segment in options)
        elif isinstance(node, _AnyChar):
            out.append("[^/]")
            segment_start = False
        elif isinstance(node, _Class):
            out.append(_class_regex(node))
            segment_start = False
        else:
            out.append(re.escape(node.char))
            segment_start = node.char == "/"
        index += 1
    return "".join(out), segment_start


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str] | str:
    """The compiled pattern, or why it is malformed."""
    parser = _Parser(pattern)
    try:
        nodes = parser.sequence(0)
    except _BadPatternError as error:
        return str(error)
    regex, _ = _emit(nodes, True, True)
    return re.compile(regex, re.DOTALL)


def glob_match(pattern: str, name: str) -> bool:
    """True if name matches the doublestar pattern."""
    if not _METACHARACTERS.search(pattern):
        return pattern == name
    compiled = _compile(pattern)
    return not isinstance(compiled, str) and compiled.fullmatch(name) is not None


def glob_error(pattern: str) -> str | None:
    """A human-readable reason the pattern is malformed, or None."""
    if not _METACHARACTERS.search(pattern):
        return None
    compiled = _compile(pattern)
    return compiled if isinstance(compiled, str) else None


def literal_root(pattern: str) -> str:
    """The folder a pattern's matches are all inside: its leading segments without a metacharacter (the
    whole pattern when it has none), e.g. `/src/dist/*.whl` → `/src/dist`."""
    parts = pattern.split("/")
    literal = next((i for i, part in enumerate(parts) if _METACHARACTERS.search(part)), len(parts))
    return "/".join(parts[:literal]) or "/"

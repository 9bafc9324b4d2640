r"""Drone-compatible ``${VAR}`` substitution, modelled on github.com/drone/envsubst (v2).

Behaviour read from drone/envsubst parse/parse.go, parse/scan.go, funcs.go, template.go, path/match.go.

* Plain ``$VAR`` is NOT substituted: drone/envsubst only opens an expression on ``${`` (parse.go
  ``parseAny``), so ``$VAR`` is left untouched for the shell.
* ``$$`` is a literal ``$`` (``$${HOME}`` -> ``${HOME}``, ``$$HOME`` -> ``$HOME``); a lone ``$`` stays.
* Unknown variables expand to the empty string (Drone's mapping returns "" for a missing name).
* Forms: ``${V}`` ``${#V}`` ``${V^}`` ``${V^^}`` ``${V,}`` ``${V,,}`` ``${V:pos}`` ``${V:pos:len}``
  ``${V#glob}`` ``${V##glob}`` ``${V%glob}`` ``${V%%glob}`` ``${V/str/rep}`` ``${V//str/rep}``
  ``${V/#str/rep}`` ``${V/%str/rep}`` ``${V=d}`` ``${V:=d}`` ``${V:-d}`` ``${V:?d}`` ``${V-d}``
  ``${V+alt}`` ``${V:+alt}``; names are letters, digits and ``_``; arguments may nest ``${...}``.
* As in envsubst: ``=``, ``:=``, ``:-`` and ``:?`` use the default when the value is empty or unset;
  ``/`` replacements are literal (not globs) and ``\/``, ``\\`` in them mean ``/``, ``\``; a
  non-numeric substring offset or length returns the value unchanged; a negative offset counts from
  the end (clamped to 0); ``#``/``%`` globs let ``*`` and ``?`` match ``/``; a malformed glob is a no-op.

Deliberate differences (where envsubst rejects bash syntax, panics or is plainly buggy): lengths and
offsets count characters, not UTF-8 bytes; ``${V-d}`` (unset only), ``${V+alt}`` (parse errors there)
and ``${V:+alt}`` (a default there) have their bash meaning; a negative substring length counts back
from the end as in bash; ``#``/``%`` may remove an empty match and ``%`` keeps ``[...]`` intact;
``${V/str}`` deletes ``str`` and an empty ``str`` is a no-op; ``$$`` is literal ``$`` inside arguments too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["SubstitutionError", "check", "substitute"]

_MAX_DEPTH = 32
_CACHE_MAX_CHARS = 4096

# Token scanners: "${" opens a nested expression; "$$" (and "\/", "\\" in replacements) is an escape whose
# second character is kept; any other match is the argument's terminator.
_TOP = re.compile(r"\$[${]")
_IN_WORD = re.compile(r"\$[${]|\}")
_IN_OFFSET = re.compile(r"\$[${]|[:}]")
_IN_PATTERN = re.compile(r"\$[${]|\\[\\/]|[/}]")
_IN_REPLACEMENT = re.compile(r"\$[${]|\\[\\/]|\}")
_NAME = re.compile(r"\w+")
_OPERATOR = re.compile(r":[-=?+]|:|\^\^?|,,?|/[/#%]?|##?|%%?|[-=+}]")
# Glob tokens: run of stars, "\c", "[...]" or "[^...]" or "[!...]" (a leading "]" is a member), any char.
_GLOB_TOKEN = re.compile(r"\*+|\\(.)|\[([!^]?)(\]?(?:\\.|[^\]\\])*)\]|.", re.DOTALL)
_GLOB_CLASS_MEMBER = re.compile(r"\\(.)|([^-])", re.DOTALL)
_INTEGER = re.compile(r"\s*([+-]?[0-9]{1,18})\s*")
_CASE: dict[str, Callable[[str], str]] = {
    "^": lambda value: value[:1].upper() + value[1:],
    "^^": str.upper,
    ",": lambda value: value[:1].lower() + value[1:],
    ",,": str.lower,
}
_REPLACE_OPS = frozenset({"/", "//", "/#", "/%"})


class SubstitutionError(ValueError):
    """A malformed ${...} expression."""

    def __init__(self, offset: int, reason: str) -> None:
        """Record the offset of the expression's `$` and why it is malformed."""
        super().__init__(offset, reason)
        self.offset = offset
        self.reason = reason

    def __str__(self) -> str:
        """Describe the error."""
        return f"bad substitution at offset {self.offset}: {self.reason}"


class _Expr(NamedTuple):
    name: str
    op: str
    args: tuple[_Template, ...]


_Template: TypeAlias = "tuple[str | _Expr, ...]"


def substitute(text: str, lookup: Callable[[str], str | None]) -> str:
    """Return text with every ${...} expression replaced; names lookup returns None for are unset (empty)."""
    if "$" not in text:
        return text
    return _render(_parse(text), lookup)


def check(text: str) -> None:
    """Raise SubstitutionError if text has a malformed ${...} expression (nothing is looked up)."""
    if "$" in text:
        _parse(text)


def _parse(text: str) -> _Template:
    """Parse a whole string into text and expressions; short strings are cached (YAML repeats them)."""
    if len(text) <= _CACHE_MAX_CHARS:
        return _parse_cached(text)
    return _parse_sequence(text, 0, _TOP, 0, -1)[0]


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> _Template:
    """Parse a short string, remembering the result."""
    return _parse_sequence(text, 0, _TOP, 0, -1)[0]


def _parse_sequence(
    text: str, pos: int, scanner: re.Pattern[str], depth: int, owner: int
) -> tuple[_Template, int]:
    """Parse from pos up to a terminator of scanner; owner is the enclosing `$` offset (-1 at top level)."""
    parts: list[str | _Expr] = []
    chunk: list[str] = []
    while True:
        match = scanner.search(text, pos)
        if match is None:
            if owner >= 0:
                raise SubstitutionError(owner, "unterminated ${ expression")
            chunk.append(text[pos:])
            pos = len(text)
            break
        chunk.append(text[pos : match.start()])
        token = match.group()
        if token == "${":
            literal = "".join(chunk)
            if literal:
                parts.append(literal)
            chunk = []
            expr, pos = _parse_expr(text, match.start(), depth + 1)
            parts.append(expr)
        elif len(token) == 2:
            chunk.append(token[1])
            pos = match.end()
        else:
            pos = match.start()
            break
    literal = "".join(chunk)
    if literal:
        parts.append(literal)
    return tuple(parts), pos


def _parse_expr(text: str, start: int, depth: int) -> tuple[_Expr, int]:
    """Parse the expression whose `${` is at start; return it and the offset just past its `}`."""
    if depth > _MAX_DEPTH:
        raise SubstitutionError(start, "expressions nested too deeply")
    pos = start + 2
    if text.startswith("#", pos):
        name = _NAME.match(text, pos + 1)
        if name is None:
            raise _bad(text, start, pos + 1, "missing variable name")
        if not text.startswith("}", name.end()):
            raise _bad(text, start, name.end(), "only a name may follow # in ${#...}")
        return _Expr(name.group(), "len", ()), name.end() + 1
    name = _NAME.match(text, pos)
    if name is None:
        raise _bad(text, start, pos, "missing variable name")
    pos = name.end()
    operator = _OPERATOR.match(text, pos)
    if operator is None:
        raise _bad(text, start, pos, "unknown operator after variable name")
    op = operator.group()
    pos = operator.end()
    if op == "}":
        return _Expr(name.group(), "", ()), pos
    if op in _CASE:
        if not text.startswith("}", pos):
            raise _bad(text, start, pos, f"expected }} after {op}")
        return _Expr(name.group(), op, ()), pos + 1
    args: list[_Template] = []
    if op == ":":
        offset, pos = _parse_sequence(text, pos, _IN_OFFSET, depth, start)
        if not offset:
            raise SubstitutionError(start, "missing substring offset")
        args.append(offset)
        if text[pos] == ":":
            length, pos = _parse_sequence(text, pos + 1, _IN_WORD, depth, start)
            if not length:
                raise SubstitutionError(start, "missing substring length")
            args.append(length)
    elif op in _REPLACE_OPS:
        pattern, pos = _parse_sequence(text, pos, _IN_PATTERN, depth, start)
        args.append(pattern)
        if text[pos] == "/":
            replacement, pos = _parse_sequence(text, pos + 1, _IN_REPLACEMENT, depth, start)
            args.append(replacement)
    else:
        word, pos = _parse_sequence(text, pos, _IN_WORD, depth, start)
        args.append(word)
    return _Expr(name.group(), op, tuple(args)), pos + 1


def _bad(text: str, start: int, pos: int, reason: str) -> SubstitutionError:
    """Build the error for a problem at pos inside the expression starting at start."""
    found = f"{reason} (found {text[pos]!r})" if pos < len(text) else "unterminated ${ expression"
    return SubstitutionError(start, found)


def _render(template: _Template, lookup: Callable[[str], str | None]) -> str:
    """Evaluate a parsed template."""
    if len(template) == 1 and isinstance(template[0], str):
        return template[0]
    return "".join(part if isinstance(part, str) else _apply(part, lookup) for part in template)


def _apply(expr: _Expr, lookup: Callable[[str], str | None]) -> str:
    """Evaluate one expression."""
    raw = lookup(expr.name)
    value = raw or ""
    op, args = expr.op, expr.args
    if not op:
        return value
    if op == "len":
        return str(len(value))
    if op in ("=", ":=", ":-", ":?"):
        return value if value else _render(args[0], lookup)
    if op == "-":
        return value if raw is not None else _render(args[0], lookup)
    if op == "+":
        return _render(args[0], lookup) if raw is not None else ""
    if op == ":+":
        return _render(args[0], lookup) if value else ""
    if op in _CASE:
        return _CASE[op](value)
    rendered = [_render(arg, lookup) for arg in args]
    if op == ":":
        return _substring(value, rendered[0], rendered[1] if len(rendered) > 1 else None)
    if op in _REPLACE_OPS:
        return _replace(value, op, rendered[0], rendered[1] if len(rendered) > 1 else "")
    return _trim(value, op, rendered[0])


def _substring(value: str, offset: str, length: str | None) -> str:
    """${V:offset} and ${V:offset:length}."""
    match = _INTEGER.fullmatch(offset)
    if match is None:
        return value
    size = len(value)
    start = int(match.group(1))
    if start < 0:
        start = max(size + start, 0)
    if length is None:
        return value[start:]
    match = _INTEGER.fullmatch(length)
    if match is None:
        return value
    count = int(match.group(1))
    end = start + count if count >= 0 else size + count
    return value[start:end] if end > start else ""


def _replace(value: str, op: str, pattern: str, replacement: str) -> str:
    """${V/str/rep}, ${V//str/rep}, ${V/#str/rep} and ${V/%str/rep} with literal str."""
    if not pattern:
        return value
    if op == "/":
        return value.replace(pattern, replacement, 1)
    if op == "//":
        return value.replace(pattern, replacement)
    if op == "/#":
        return replacement + value[len(pattern) :] if value.startswith(pattern) else value
    return value[: -len(pattern)] + replacement if value.endswith(pattern) else value


def _trim(value: str, op: str, pattern: str) -> str:
    """${V#glob}, ${V##glob}, ${V%glob} and ${V%%glob}; suffixes match a mirrored glob on reversed text."""
    from_end = op[0] == "%"
    regex = _glob(pattern, len(op) == 1, from_end)
    if regex is None:
        return value
    match = regex.match(value[::-1] if from_end else value)
    if match is None:
        return value
    return value[: len(value) - match.end()] if from_end else value[match.end() :]


@lru_cache(maxsize=256)
def _glob(pattern: str, shortest: bool, mirrored: bool) -> re.Pattern[str] | None:
    r"""Compile an envsubst glob (`*`, `?`, `[...]`, `[^...]`, `\c`) to a regex; None if malformed.

    Lazy stars make `match` find the shortest prefix, greedy ones the longest (the glob's fixed-width
    pieces are placed leftmost or rightmost); mirrored reverses the pieces for matching reversed text.
    """
    out: list[str] = []
    for match in _GLOB_TOKEN.finditer(pattern):
        token, negate, body = match.group(), match.group(2), match.group(3)
        if token in ("[", "\\") or (token[0] == "[" and not body):
            return None  # unterminated or empty bracket expression, or a trailing backslash
        if token[0] == "*":
            out.append(".*?" if shortest else ".*")
        elif token == "?":
            out.append(".")
        elif token[0] == "[":
            members = _GLOB_CLASS_MEMBER.sub(lambda m: re.escape(m.group(1) or m.group(2)), body)
            out.append(f"[{'^' if negate else ''}{members}]")
        else:
            out.append(re.escape(match.group(1) or token))
    if mirrored:
        out.reverse()
    try:
        return re.compile("".join(out), re.DOTALL)
    except re.error:
        return None

"""Cache key templates: `pip-{{ checksum "requirements*.txt" }}-{{ os }}` read at compile time, resolved
by the runner once the workspace holds the files (the compiler stays pure).

Placeholders: `{{ checksum "file-or-glob" }}` (SHA-256 over the matching files' sorted paths and contents),
`{{ branch }}`, `{{ os }}`, `{{ arch }}`. The prefixes a lookup falls back to are the resolved text before
each placeholder, so `pip-{{ checksum "requirements.txt" }}` falls back to the newest `pip-` entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pipelines.globs import glob_error

MAX_KEY_LENGTH = 400
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_CHECKSUM = re.compile(r"""^checksum\s+(?:"([^"]+)"|'([^']+)')$""")
_FACTS = ("branch", "os", "arch")
_LITERAL = re.compile(r"[A-Za-z0-9._+=@,:/-]*")


class TemplateError(ValueError):
    """A key template that cannot be used; `offset` is where in the text it goes wrong."""

    def __init__(self, message: str, offset: int, hint: str = "") -> None:
        super().__init__(message)
        self.offset = offset
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Part:
    """Literal text (`fact` and `pattern` empty), a fact (`branch`, `os`, `arch`), or a checksum's glob."""

    text: str = ""
    fact: str = ""
    pattern: str = ""


def parse_template(template: str) -> list[Part]:
    """The template's parts; TemplateError names the first problem and where it is."""
    parts: list[Part] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        _literal(template, position, match.start(), parts)
        parts.append(_placeholder(match.group(1).strip(), match.start()))
        position = match.end()
    _literal(template, position, len(template), parts)
    if not parts:
        raise TemplateError("the cache key is empty", 0, 'key: pip-{{ checksum "requirements.txt" }}')
    return parts


def _literal(template: str, start: int, end: int, parts: list[Part]) -> None:
    text = template[start:end]
    if "{{" in text or "}}" in text:
        offset = start + max(text.find("{{"), text.find("}}"))
        raise TemplateError("unbalanced `{{` or `}}` in the cache key", offset, "write `{{ branch }}`")
    if _LITERAL.fullmatch(text) is None:
        first = next(i for i, char in enumerate(text) if not _LITERAL.fullmatch(char))
        raise TemplateError(
            f"the cache key may not contain {text[first]!r}",
            start + first,
            "use letters, digits and . _ - + = @ , : /",
        )
    if text:
        parts.append(Part(text=text))


def _placeholder(inner: str, offset: int) -> Part:
    if inner in _FACTS:
        return Part(fact=inner)
    checksum = _CHECKSUM.match(inner)
    if checksum is not None:
        pattern = checksum.group(1) or checksum.group(2)
        check_relative(pattern, offset, "a checksum's file")
        problem = glob_error(pattern)
        if problem:
            raise TemplateError(f"checksum {pattern!r}: {problem}", offset)
        return Part(pattern=pattern)
    if inner.startswith("checksum"):
        raise TemplateError(
            "checksum needs one quoted file name or glob", offset, '{{ checksum "requirements.txt" }}'
        )
    raise TemplateError(
        f"unknown placeholder {{{{ {inner} }}}}",
        offset,
        'one of {{ checksum "file" }}, {{ branch }}, {{ os }}, {{ arch }}',
    )


def check_relative(path: str, offset: int = 0, what: str = "a cache path") -> None:
    """TemplateError unless path stays inside the workspace (relative, no `..`)."""
    parts = path.replace("\\", "/").split("/")
    if path.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", path):
        raise TemplateError(f"{what} must be relative to the workspace, not {path!r}", offset)
    if ".." in parts:
        raise TemplateError(f"{what} may not leave the workspace with `..`: {path!r}", offset)
    if not path.strip() or path.strip() in (".", "./"):
        raise TemplateError(f"{what} must name something inside the workspace", offset)


def patterns_of(template: str) -> list[str]:
    """The file globs whose checksums the template needs."""
    return [part.pattern for part in parse_template(template) if part.pattern]


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    """A key with the prefixes its lookup falls back to (longest match wins)."""

    key: str
    prefixes: tuple[str, ...]


def resolve(template: str, facts: Mapping[str, str], checksum: Callable[[str], str]) -> ResolvedKey:
    """The key for these facts (`branch`, `os`, `arch`) and file checksums (by glob)."""
    text = ""
    prefixes: list[str] = []
    for part in parse_template(template):
        if part.fact or part.pattern:
            prefixes.append(text)
            value = facts.get(part.fact, "") if part.fact else checksum(part.pattern)
            text += _safe(value)
        else:
            text += part.text
    return ResolvedKey(text[:MAX_KEY_LENGTH], tuple(p for p in prefixes if p))


def _safe(value: str) -> str:
    """A fact's value as key text (a branch may hold any character)."""
    return re.sub(r"[^A-Za-z0-9._+=@,:/-]", "-", value)

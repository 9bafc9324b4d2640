"""Drone's ``DRONE_SEMVER*`` variables for tag builds.

Drone (drone/runner-go ``environ/semver.go``) strips one leading ``v`` from the tag and parses the rest with
github.com/coreos/go-semver v0.3.0: ``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`` with base-10 int64 numbers
(leading zeros allowed and dropped) and ``[0-9A-Za-z-]`` dot-separated identifiers. On success it sets
``DRONE_SEMVER`` (the normalised version without the ``v``), ``_SHORT``, ``_MAJOR``, ``_MINOR``, ``_PATCH``,
and ``_PRERELEASE``/``_BUILD`` only when non-empty; otherwise only ``DRONE_SEMVER_ERROR``, with Go's message.
"""

from __future__ import annotations

import re

_IDENTIFIERS = re.compile(r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*")
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1
_GO_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v"}


class _ParseError(ValueError):
    pass


def _go_quote(text: str) -> str:
    """``text`` as Go's ``strconv.Quote`` writes it."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{0xFFFD if 0xD800 <= code < 0xE000 else code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out) + '"'


def _parse_int64(text: str) -> int:
    """Go's ``strconv.ParseInt(text, 10, 64)``, raising its error message."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    value = 0
    for char in digits:
        if not "0" <= char <= "9":
            raise _ParseError(f"strconv.ParseInt: parsing {_go_quote(text)}: invalid syntax")
        value = value * 10 + ord(char) - ord("0")
        if value > _UINT64_MAX:
            break
    if not digits:
        raise _ParseError(f"strconv.ParseInt: parsing {_go_quote(text)}: invalid syntax")
    if value > _INT64_MAX + (text[0] == "-"):
        raise _ParseError(f"strconv.ParseInt: parsing {_go_quote(text)}: value out of range")
    return -value if text[0] == "-" else value


def semver_environ(tag: str) -> dict[str, str]:
    """DRONE_SEMVER* variables for a tag name ({} when tag is empty)."""
    if not tag:
        return {}
    version, _, build = tag.removeprefix("v").partition("+")
    version, _, prerelease = version.partition("-")
    parts = version.split(".", 2)
    try:
        if len(parts) != 3:
            raise _ParseError(f"{version} is not in dotted-tri format")
        if prerelease and not _IDENTIFIERS.fullmatch(prerelease):
            raise _ParseError(
                f"failed to validate pre-release: {prerelease} is not a valid semver identifier"
            )
        if build and not _IDENTIFIERS.fullmatch(build):
            raise _ParseError(f"failed to validate metadata: {build} is not a valid semver identifier")
        major, minor, patch = (_parse_int64(part) for part in parts)
    except _ParseError as error:
        return {"DRONE_SEMVER_ERROR": str(error)}
    short = f"{major}.{minor}.{patch}"
    env = {
        "DRONE_SEMVER": short + (f"-{prerelease}" if prerelease else "") + (f"+{build}" if build else ""),
        "DRONE_SEMVER_SHORT": short,
        "DRONE_SEMVER_MAJOR": str(major),
        "DRONE_SEMVER_MINOR": str(minor),
        "DRONE_SEMVER_PATCH": str(patch),
    }
    if prerelease:
        env["DRONE_SEMVER_PRERELEASE"] = prerelease
    if build:
        env["DRONE_SEMVER_BUILD"] = build
    return env

"""Reading a webhook request: headers looked up case-insensitively, the body decoded, JSON walked safely."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypeAlias
from urllib.parse import parse_qs

from server.forges.hook import HookError

JsonObject: TypeAlias = dict[str, object]

_FORM = "application/x-www-form-urlencoded"
_MAX_FORM_FIELDS = 100


def header(headers: Mapping[str, str], name: str) -> str:
    """Header `name` whatever the case of its key (starlette's Headers or a plain dict), or ""."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    return value.strip() if isinstance(value, str) else ""


def read_payload(headers: Mapping[str, str], body: bytes) -> JsonObject:
    """The JSON object a hook carries, sent as `application/json` or as a form's `payload` field."""
    media_type = header(headers, "Content-Type").split(";", 1)[0].strip().lower()
    if media_type == _FORM:
        document = _form_payload(body)
    elif media_type in ("", "application/json", "text/json") or media_type.endswith("+json"):
        document = body
    else:
        raise HookError(f"unsupported content type {media_type!r}: send application/json")
    try:
        decoded = json.loads(document)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise HookError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(decoded, dict):
        raise HookError(f"the payload is a JSON {type(decoded).__name__}, not an object")
    return decoded


def _form_payload(body: bytes) -> bytes:
    """The `payload` field of an url-encoded form body."""
    try:
        fields = parse_qs(body.decode("ascii"), errors="strict", max_num_fields=_MAX_FORM_FIELDS)
    except ValueError as exc:  # also UnicodeDecodeError, and too many fields
        raise HookError(f"the form body cannot be decoded: {exc}") from None
    values = fields.get("payload")
    if not values:
        raise HookError("the form body has no `payload` field")
    return values[0].encode("utf-8")


def member(document: Mapping[str, object], *path: str) -> object:
    """The value at `path` in nested objects, or None when any step is missing or not an object."""
    value: object = document
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def text(document: Mapping[str, object], *path: str) -> str:
    """The string at `path`, or "" when it is missing, null or not a string."""
    value = member(document, *path)
    return value if isinstance(value, str) else ""


def number(document: Mapping[str, object], *path: str) -> int:
    """The integer at `path` (an integer or a string of digits), or 0."""
    value = member(document, *path)
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return 0


def flag(document: Mapping[str, object], *path: str) -> bool:
    """True only when the value at `path` is JSON `true`."""
    return member(document, *path) is True


def child(document: Mapping[str, object], *path: str) -> JsonObject:
    """The object at `path`, or an empty one."""
    value = member(document, *path)
    return value if isinstance(value, dict) else {}


def children(document: Mapping[str, object], *path: str) -> list[JsonObject]:
    """The objects in the list at `path` (other items skipped), or an empty list."""
    value = member(document, *path)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]

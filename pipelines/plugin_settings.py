"""Plugin `settings:` as `PLUGIN_*` environment variables, encoded the way Drone's plugins expect."""

from __future__ import annotations

import json
from typing import Any

from pipelines.model import SecretRef

_GO_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def settings_environ(settings: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(plain variables, variable -> secret name) for a step's settings."""
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for key, value in settings.items():
        if value is None:  # Drone leaves empty settings out rather than setting them to ''
            continue
        name = setting_variable(key)
        if isinstance(value, SecretRef):
            secrets[name] = value.name
        else:
            plain[name] = encode_setting(value)
    return plain, secrets


def setting_variable(key: str) -> str:
    """`build_args` -> `PLUGIN_BUILD_ARGS` (dots and dashes become underscores)."""
    return "PLUGIN_" + key.upper().replace(".", "_").replace("-", "_")


def encode_setting(value: Any) -> str:
    """Scalars as text, a list of scalars comma-joined, maps and nested lists as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if all(_is_scalar(item) for item in value):
            return ",".join(encode_setting(item) for item in value)
        return _json(value)
    if isinstance(value, dict):
        return _json(value)
    return str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _json(value: Any) -> str:
    """Compact JSON with sorted keys and Go's HTML escaping, as Drone's Go encoder writes it."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    for char, escape in _GO_HTML_ESCAPES.items():
        text = text.replace(char, escape)
    return text

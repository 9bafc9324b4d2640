"""A build cause whose every field is set, whatever fields the model has (tests iterate, they do not list)."""

from __future__ import annotations

from typing import Any

from pipelines import BuildCause


def every_field_set(**fixed: Any) -> BuildCause:
    """A cause whose every field differs from its default (and names its field), but for `fixed`."""
    values = {
        name: _other_than(field.get_default(call_default_factory=True), name)
        for name, field in BuildCause.model_fields.items()
    }
    return BuildCause.model_validate(values | fixed)


def _other_than(default: object, name: str) -> object:
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 7
    if isinstance(default, str):
        return f"{name} of the build\nand a second line"
    if isinstance(default, dict):
        return {name.upper(): f"{name} value"}
    if isinstance(default, list):
        return [name]
    raise TypeError(f"BuildCause.{name}: add a value of its type here")

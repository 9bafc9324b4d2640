"""From the evaluated value to the multi-document YAML the pipeline parser reads, and located errors."""

from __future__ import annotations

from typing import Any

import yaml

from pipelines.errors import ConfigError, Problem, Severity


class EvaluationError(ConfigError):
    """A configuration file that could not be evaluated; its one problem says where and why."""

    def __init__(self, message: str, filename: str, line: int = 1, column: int = 1) -> None:
        super().__init__([Problem(Severity.ERROR, message, filename, line, column)])


class _Dumper(yaml.CSafeDumper):
    """libyaml's dumper, keeping multi-line strings (scripts) readable as `|` blocks."""


def _represent_string(dumper: _Dumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_string)


def to_yaml(documents: list[Any], filename: str, limit: int) -> str:
    """Each value a YAML document, in order; refused (located at the file) when larger than `limit` bytes."""
    text = yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, allow_unicode=True, explicit_start=True, width=1 << 16
    )
    size = len(text.encode())
    if size > limit:
        raise EvaluationError(
            f"the configuration it produces is too large ({size:,} bytes; the limit is {limit:,})", filename
        )
    return text

"""A commit's pipeline configuration, whichever language it speaks: one Drone file (its YAML, Jsonnet and
Starlark already evaluated) or Woodpecker's workflow files, and compiling it for a build."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines import lint_text
from pipelines.compiler import Compilation, compile_file
from pipelines.errors import Problem
from pipelines.plan import BuildContext
from pipelines.woodpecker import WorkflowFile, is_woodpecker_path

_KIND = re.compile(r"^kind\s*:", re.MULTILINE)
_STEPS = re.compile(r"^(steps|pipeline)\s*:", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Configuration:
    """The file(s) a build is made from: one Drone file (`files[0]`, named as its problems are), or the
    Woodpecker workflow files."""

    files: tuple[WorkflowFile, ...]
    woodpecker: bool = False

    @property
    def names(self) -> list[str]:
        """The files' paths, for the build page."""
        return [file.path for file in self.files]

    @property
    def text(self) -> str:
        """The text a signature is checked against (Drone's one file; Woodpecker files are never signed)."""
        return "\n".join(file.text for file in self.files)


def drone_configuration(text: str, name: str) -> Configuration:
    """A Drone file's YAML."""
    return Configuration((WorkflowFile(name, text),))


def woodpecker_configuration(files: Sequence[WorkflowFile]) -> Configuration:
    """Woodpecker workflow files."""
    return Configuration(tuple(files), woodpecker=True)


def is_woodpecker_file(path: str, text: str) -> bool:
    """Whether a file is Woodpecker's: by its name, else by its shape (a top-level `steps:` or `pipeline:`
    and no `kind:`; a `.drone.yml` is always Drone's)."""
    if is_woodpecker_path(path):
        return True
    if path.rsplit("/", 1)[-1].startswith(".drone"):
        return False
    return not _KIND.search(text) and bool(_STEPS.search(text))


def compile_configuration(configuration: Configuration, context: BuildContext) -> Compilation:
    """The build's Plans (raises ConfigError)."""
    if configuration.woodpecker:
        from pipelines.woodpecker import compile_workflows  # noqa: PLC0415  (loaded for Woodpecker files only)

        return compile_workflows(configuration.files, context)
    file = configuration.files[0]
    return compile_file(file.text, context, file.path)


def lint_configuration(configuration: Configuration, context: BuildContext) -> list[Problem]:
    """Every problem of the configuration (Woodpecker files are read as for `context`)."""
    if configuration.woodpecker:
        from pipelines.woodpecker import lint_workflows  # noqa: PLC0415  (loaded for Woodpecker files only)

        return lint_workflows(configuration.files, context)
    file = configuration.files[0]
    return lint_text(file.text, file.path, trusted=context.trusted)

"""What a pipeline means: YAML -> validated model -> lint -> conditions -> runnable Plans. Pure, no I/O."""

from __future__ import annotations

from pipelines.cause import BuildCause, cause_of
from pipelines.compiler import Compilation, SkippedStage, compile_file, compile_manifest
from pipelines.errors import ConfigError, Problem, Severity
from pipelines.lint import lint
from pipelines.model import Manifest
from pipelines.parse import parse
from pipelines.plan import BuildContext, Plan, Repo, StepPlan
from pipelines.status import Status
from pipelines.substitute import SubstitutionError, check

CONFIG_FILES = (".ci.yml", ".drone.yml", ".drone.jsonnet", ".drone.star")
"""The pipeline file read when a repository names none, first found wins."""


def lint_text(text: str, filename: str = ".ci.yml", *, trusted: bool = False) -> list[Problem]:
    """Every problem of a pipeline file, errors and warnings, in file order."""
    return lint(parse(text, filename, check_string=_substitution_problem), trusted=trusted)


def _substitution_problem(value: str) -> str | None:
    """Why a `${...}` expression in value is malformed, or None."""
    try:
        check(value)
    except SubstitutionError as exc:
        return f"bad substitution: {exc.reason}"
    return None


__all__ = [
    "CONFIG_FILES",
    "BuildCause",
    "BuildContext",
    "Compilation",
    "ConfigError",
    "Manifest",
    "Plan",
    "Problem",
    "Repo",
    "Severity",
    "SkippedStage",
    "Status",
    "StepPlan",
    "cause_of",
    "compile_file",
    "compile_manifest",
    "lint",
    "lint_text",
    "parse",
]

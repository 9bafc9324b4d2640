"""Jsonnet and Starlark configuration: evaluated, as Drone does, to the YAML the pipeline parser reads.

Pure given the file reader it is handed (imports and load() read the repository's files through it);
`bounded.generate_bounded` runs the same evaluation in a child process under time and memory limits.
"""

from __future__ import annotations

from enum import StrEnum

from pipelines.configlang.documents import EvaluationError, to_yaml
from pipelines.configlang.files import FileReader, RepositoryFiles
from pipelines.configlang.limits import MAX_CONFIG_BYTES, EvaluationLimits
from pipelines.configlang.variables import build_values, external_variables, repo_values
from pipelines.plan import BuildContext


class Language(StrEnum):
    """A configuration language Drone evaluates on the server."""

    JSONNET = "jsonnet"
    STARLARK = "starlark"


_SUFFIXES = {
    ".jsonnet": Language.JSONNET,
    ".star": Language.STARLARK,
    ".starlark": Language.STARLARK,
    ".star.yml": Language.STARLARK,
    ".script": Language.STARLARK,
}


def language_of(path: str) -> Language | None:
    """The language a configuration file is written in, from its name (None: YAML)."""
    return next((language for suffix, language in _SUFFIXES.items() if path.endswith(suffix)), None)


def generated_name(path: str) -> str:
    """How problems in the YAML a file produced name it (their lines are the produced YAML's)."""
    return f"{path} (generated YAML)"


def generate(
    text: str,
    path: str,
    context: BuildContext,
    read: FileReader,
    limits: EvaluationLimits | None = None,
) -> str:
    """The multi-document YAML a Jsonnet or Starlark file at repository path `path` produces for the build.

    Raises EvaluationError (a ConfigError) located at the evaluator's own file, line and column.
    """
    limits = limits or EvaluationLimits()
    files = RepositoryFiles(read, limits.imports)
    language = language_of(path)
    if language is Language.JSONNET:
        from pipelines.configlang.jsonnet import evaluate_jsonnet  # noqa: PLC0415 (loads go-jsonnet)

        documents = evaluate_jsonnet(text, path, external_variables(context, path), files, limits)
    elif language is Language.STARLARK:
        from pipelines.configlang.starlark import evaluate_starlark  # noqa: PLC0415 (loads starlark-rust)

        build, repo = build_values(context), repo_values(context, path)
        documents = evaluate_starlark(text, path, build, repo, files, limits)
    else:
        raise EvaluationError("not a Jsonnet or Starlark file (.jsonnet, .star, .starlark)", path)
    return to_yaml(documents, path, limits.output_bytes)


__all__ = [
    "MAX_CONFIG_BYTES",
    "EvaluationError",
    "EvaluationLimits",
    "FileReader",
    "Language",
    "generate",
    "generated_name",
    "language_of",
]

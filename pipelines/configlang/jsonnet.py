"""Jsonnet configuration (`.drone.jsonnet`) evaluated with go-jsonnet, the implementation Drone uses."""

from __future__ import annotations

import json
import re
from typing import Any

import _gojsonnet  # type: ignore[import-not-found]  # go-jsonnet ships no type stubs

from pipelines.configlang.documents import EvaluationError
from pipelines.configlang.files import ImportRefused, RepositoryFiles, resolve
from pipelines.configlang.limits import EvaluationLimits

_NO_ANSWER = "import_callback did not return a tuple"
_FRAME = re.compile(r"^\t(?P<file>[^\t]+?):\(?(?P<line>\d+):(?P<column>\d+)", re.MULTILINE)
_STATIC = re.compile(r"^(?P<file>[^\n]+?):\(?(?P<line>\d+):(?P<column>\d+)\)?(?:-\S+)? (?P<message>.+)")


def evaluate_jsonnet(
    text: str,
    filename: str,
    variables: dict[str, str],
    files: RepositoryFiles,
    limits: EvaluationLimits,
) -> list[Any]:
    """The documents a Jsonnet file produces: an array's elements, or the one object (as Drone does)."""

    refusals: list[str] = []

    def imported(folder: str, requested: str) -> tuple[str, bytes] | None:
        try:
            path = resolve(folder.rstrip("/"), requested)
            return path, files.read(path).encode()
        except ImportRefused as exc:
            # the binding garbles the text of an exception raised here: keep the reason, answer nothing
            refusals.append(str(exc))
            return None

    try:
        output = _gojsonnet.evaluate_snippet(
            filename,
            text,
            ext_vars=variables,
            import_callback=imported,
            max_stack=limits.stack,
            max_trace=20,
        )
    except RuntimeError as exc:
        report = str(exc)
        if refusals and _NO_ANSWER in report:
            report = report.replace(_NO_ANSWER, refusals[-1], 1)
        raise _located(report, filename) from None
    if len(output) > 4 * limits.output_bytes:
        raise EvaluationError(f"the configuration it produces is too large ({len(output):,} bytes)", filename)
    value = json.loads(output)
    return value if isinstance(value, list) else [value]


def _located(report: str, filename: str) -> EvaluationError:
    """go-jsonnet's report as one problem at the place it names (the innermost frame)."""
    first, _, frames = report.partition("\n")
    if first.startswith("RUNTIME ERROR: "):
        message = first.removeprefix("RUNTIME ERROR: ").removeprefix("importer error: ").rstrip(".")
        frame = _FRAME.search(frames)
        if frame:
            return EvaluationError(message, frame["file"], int(frame["line"]), int(frame["column"]))
        return EvaluationError(message, filename)
    static = _STATIC.match(first)
    if static:
        where = static["file"]
        return EvaluationError(
            f"syntax error: {static['message']}", where, int(static["line"]), int(static["column"])
        )
    return EvaluationError(first or report, filename)

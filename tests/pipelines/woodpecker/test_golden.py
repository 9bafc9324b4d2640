"""Golden tests of Woodpecker files the project writes itself: `golden/NAME.yaml` (first line
`# context: {json}`) or `golden/NAME/` (a `.woodpecker/` folder and `context.json`) compile to
`golden/NAME.json`; `golden/evaluate-cases.yaml` evaluates expressions into `evaluate-cases.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines import BuildContext, ConfigError
from pipelines.woodpecker import WorkflowFile, compile_workflows, lint_workflows
from pipelines.woodpecker.expr import ExpressionError, compile_expression
from tests.pipelines.golden_support import UPDATE, document, load_context

GOLDEN = Path(__file__).parent / "golden"


def cases() -> list[str]:
    """Every golden case: single files and folders."""
    files = [p.stem for p in GOLDEN.glob("*.yaml") if p.stem != "evaluate-cases"]
    folders = [p.name for p in GOLDEN.iterdir() if p.is_dir()]
    return sorted(files + folders)


def read_case(name: str) -> tuple[list[WorkflowFile], BuildContext]:
    """The case's workflow files and build context."""
    folder = GOLDEN / name
    if folder.is_dir():
        first = "# context: " + (folder / "context.json").read_text().strip()
        context, _ = load_context(first)
        paths = sorted((folder / ".woodpecker").iterdir())
        return [WorkflowFile(f".woodpecker/{p.name}", p.read_text()) for p in paths], context
    text = (GOLDEN / f"{name}.yaml").read_text()
    context, _ = load_context(text)
    return [WorkflowFile(f"{name}.yaml", text)], context


def render(name: str) -> dict[str, Any]:
    files, context = read_case(name)
    try:
        compilation = compile_workflows(files, context)
    except ConfigError as exc:
        return {"errors": [p.format() for p in exc.problems]}
    return document(compilation)


def expected(path: Path, actual: object) -> object:
    if UPDATE:
        path.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n")
    assert path.exists(), f"no {path.name}: run with HANGAR_UPDATE_GOLDEN=1 and review the file it writes"
    return json.loads(path.read_text())


@pytest.mark.parametrize("name", cases())
def test_golden(name: str) -> None:
    actual = render(name)
    assert actual == expected(GOLDEN / f"{name}.json", actual)


@pytest.mark.parametrize("name", cases())
def test_lint_finds_the_errors_compiling_finds(name: str) -> None:
    """`hangar lint` finds the errors a build would (evaluate's type errors only show with the build's
    variables, so only reading and lint errors are compared)."""
    files, context = read_case(name)
    errors = [p.format() for p in lint_workflows(files, context) if p.is_error]
    compiled = render(name).get("errors", [])
    assert [e for e in compiled if e in errors] == errors


def test_evaluate_golden() -> None:
    cases = yaml.safe_load((GOLDEN / "evaluate-cases.yaml").read_text())
    results: dict[str, object] = {}
    for text in cases["expressions"]:
        try:
            results[text] = compile_expression(text).evaluate(cases["environment"])
        except ExpressionError as exc:
            results[text] = {"error": exc.message, "at": exc.offset}
    assert results == expected(GOLDEN / "evaluate-cases.json", results)

"""Golden tests: each pipeline feature, and a few whole files as projects write them (`golden/file-*.yml`),
YAML in -> Plan JSON out, or the located errors."""

from __future__ import annotations

import pytest

from pipelines import lint_text
from tests.pipelines.golden_support import GOLDEN, expected, golden_cases, load_context, render


@pytest.mark.parametrize("name", golden_cases())
def test_golden(name: str) -> None:
    actual = render(name)
    assert actual == expected(name, actual)


@pytest.mark.parametrize("name", golden_cases())
def test_lint_finds_the_errors_compiling_finds(name: str) -> None:
    """`hangar lint` says what a build would: no error for a file that compiles, or the same errors."""
    text = (GOLDEN / f"{name}.yml").read_text()
    context, _ = load_context(text)
    errors = [p.format() for p in lint_text(text, f"{name}.yml", trusted=context.trusted) if p.is_error]
    assert errors == render(name).get("errors", [])

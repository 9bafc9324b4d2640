"""Golden tests of Jsonnet and Starlark files the project wrote: `golden/configlang/CASE/` holds the
repository's files and `context.json`; what they produce is `expected.yml`, which must compile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipelines import compile_file
from pipelines.configlang import generate, generated_name
from tests.pipelines.configlang.support import case_context, folder_reader

CASES = Path(__file__).parent.parent / "golden" / "configlang"
UPDATE = os.environ.get("HANGAR_UPDATE_GOLDEN") == "1"


def _cases() -> list[str]:
    return sorted(path.name for path in CASES.iterdir() if path.is_dir())


@pytest.mark.parametrize("name", _cases())
def test_produces_the_expected_pipelines(name: str) -> None:
    folder = CASES / name
    context, path = case_context(folder)
    produced = generate((folder / path).read_text(), path, context, folder_reader(folder))
    expected = folder / "expected.yml"
    if UPDATE:
        expected.write_text(produced)
    assert expected.exists(), f"no {expected}: run with HANGAR_UPDATE_GOLDEN=1 and review the file it writes"
    assert produced == expected.read_text()


@pytest.mark.parametrize("name", _cases())
def test_the_produced_pipelines_compile(name: str) -> None:
    folder = CASES / name
    context, path = case_context(folder)
    produced = (folder / "expected.yml").read_text()
    compilation = compile_file(produced, context, generated_name(path))
    assert compilation.plans, "every golden case runs at least one pipeline for its context"
    assert not [p for p in compilation.warnings if p.is_error]

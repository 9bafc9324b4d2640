"""Woodpecker's own linter fixtures and real-world Woodpecker files (third-party, in the corpus folder; the
tests are skipped without it): what must pass lints and compiles, what must fail fails with a located error,
and every real file compiles for a push to its default branch with its steps in the file's order, or says
which of its features Hangar does not run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from pipelines import BuildContext, ConfigError, Repo
from pipelines.woodpecker import WorkflowFile, compile_workflows, lint_workflows
from tests.corpus import corpus_files, or_skip

SCHEMA = "woodpecker-schema"
MUST_FAIL = frozenset(
    {
        "test-broken-plugin.yaml",
        "test-broken-plugin2.yaml",
        "test-broken-service-without-name.yaml",
        "test-broken.yaml",
        "test-concurrency-invalid.yaml",
    }
)
NOT_LISTED = frozenset({"test-pipeline-when.yaml"})
"""Not referenced by Woodpecker's schema test (it uses filters Woodpecker removed): see SOURCE.md."""

EXPLAINED = {
    "CatalaLang__catala__windows.yaml": "`local` backend",
    "woodpecker-ci__woodpecker__docker.yaml": "`from_secret` inside a list or map is not supported by Hangar",
    "LemmyNet__lemmy__.woodpecker.yml": "evaluate: invalid char escape",
    "LemmyNet__lemmy-ui__.woodpecker.yml": "evaluate: invalid char escape",
}
"""Real files that fail, and why: a backend or feature Hangar does not run, or an `evaluate` expression
that expr-lang (and so Woodpecker) refuses too (`\\.` is no escape in an expr string)."""
_LOCATED = re.compile(r"^[^:]+:[1-9][0-9]*:[1-9][0-9]*: error: ")


def _push(default_branch: str = "main") -> BuildContext:
    repo = Repo(
        owner="octocat",
        name="hello",
        link="https://codeberg.org/octocat/hello",
        default_branch=default_branch,
    )
    ref = f"refs/heads/{default_branch}"
    return BuildContext(
        event="push", branch=default_branch, ref=ref, sha="a" * 40, repo=repo, number=3, trusted=True
    )


def _file(path: Path) -> list[WorkflowFile]:
    return [WorkflowFile(path.name, path.read_text())]


def _schema(kind: str) -> list[Path]:
    files = corpus_files(SCHEMA, "*.yaml")
    wanted = {"fail": lambda p: p.name in MUST_FAIL, "pass": lambda p: p.name not in MUST_FAIL | NOT_LISTED}
    return [p for p in files if wanted[kind](p)]


@pytest.mark.parametrize("path", or_skip(_schema("pass"), SCHEMA, ids=lambda p: p.name))
def test_fixtures_that_must_pass_lint_and_compile(path: Path) -> None:
    assert [p.format() for p in lint_workflows(_file(path), _push()) if p.is_error] == []
    compile_workflows(_file(path), _push())


@pytest.mark.parametrize("path", or_skip(_schema("fail"), SCHEMA, ids=lambda p: p.name))
def test_fixtures_that_must_fail_fail_with_a_located_error(path: Path) -> None:
    errors = [p.format() for p in lint_workflows(_file(path), _push()) if p.is_error]
    assert errors and all(_LOCATED.match(error) for error in errors), errors
    with pytest.raises(ConfigError) as raised:
        compile_workflows(_file(path), _push())
    assert _LOCATED.match(raised.value.first.format())


def _real(folder: str) -> list[Path]:
    return corpus_files("woodpecker", folder + "*.y*ml")


@pytest.mark.parametrize("path", or_skip(_real(""), "woodpecker", ids=lambda p: p.name))
def test_real_files_compile_for_a_push_with_their_steps_in_order(path: Path) -> None:
    try:
        compilation = compile_workflows(_file(path), _push())
    except ConfigError as exc:
        assert path.name in EXPLAINED, exc.problems[0].format()
        assert _LOCATED.match(exc.first.format())
        assert EXPLAINED[path.name] in str(exc)
        return
    assert path.name not in EXPLAINED
    written = _written_step_names(path.read_text())
    for plan in compilation.plans:
        names = [step.name for step in plan.steps if step.kind.value == "step"]
        positions = [written.index(name) for name in names if name in written]
        assert positions == sorted(positions), (plan.stage.name, names)
        assert set(names) <= set(written) | {"clone", "git"}
    assert compilation.plans or compilation.skipped


def _written_step_names(text: str) -> list[str]:
    """The step names in the order the file writes them (map keys or `name:` entries), read by PyYAML
    where it can (not the files using xyaml's sequence merge)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return re.findall(r"^  (?:- name: )?([\w.-]+):?\s*$", text, flags=re.MULTILINE)
    steps = data.get("steps", data.get("pipeline", {}))
    clone = data.get("clone") or {}
    names = list(clone) if isinstance(clone, dict) else [c.get("name", "") for c in clone]
    if isinstance(steps, dict):
        return names + [str(key) for key in steps]
    return names + [str(step.get("name", f"step-{i}")) for i, step in enumerate(steps)]


@pytest.mark.parametrize("path", or_skip(_real("invalid/"), "woodpecker", ids=lambda p: p.name))
def test_invalid_real_files_fail_with_a_located_error(path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        compile_workflows(_file(path), _push())
    assert all(_LOCATED.match(p.format()) for p in raised.value.problems if p.is_error)

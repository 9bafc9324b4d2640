"""A step's `artifacts:` (Hangar's extension): globs and folders into the Plan; absolute paths and `..`
refused where they are written; a plain Drone file unchanged."""

from __future__ import annotations

import textwrap

import pytest

from pipelines import BuildContext, ConfigError, compile_file
from pipelines.artifact_paths import is_safe_artifact_path

PIPELINE = """\
kind: pipeline
name: default
steps:
  - name: build
    image: python:3.11
    commands: [python -m build]
    artifacts:
      - dist/*.whl
      - coverage/
  - name: docs
    image: busybox
    artifacts: site.tar.gz
"""


def _compile(text: str):
    return compile_file(textwrap.dedent(text), BuildContext(event="push", branch="main"), ".ci.yml")


def test_the_globs_and_folders_reach_the_plan_as_written() -> None:
    [plan] = _compile(PIPELINE).plans
    assert plan.step("build").artifacts == ["dist/*.whl", "coverage/"]
    assert plan.step("docs").artifacts == ["site.tar.gz"], "a single value is a list of one"
    assert plan.step("clone").artifacts == []


def test_absolute_paths_and_paths_leaving_the_workspace_are_refused_at_their_line_and_column() -> None:
    text = PIPELINE.replace(
        "      - coverage/", "      - /etc/passwd\n      - ../secrets/*\n      - a/../../b"
    )
    with pytest.raises(ConfigError) as raised:
        _compile(text)
    assert [problem.format() for problem in raised.value.problems] == [
        ".ci.yml:9:9: error: steps[0].artifacts[1]: artifact path '/etc/passwd' is absolute: artifacts are"
        " relative to the workspace (hint: write a path inside the workspace, e.g. artifacts: [dist/*.whl,"
        " coverage/])",
        ".ci.yml:10:9: error: steps[0].artifacts[2]: artifact path '../secrets/*' leaves the workspace (`..`)"
        " (hint: write a path inside the workspace, e.g. artifacts: [dist/*.whl, coverage/])",
        ".ci.yml:11:9: error: steps[0].artifacts[3]: artifact path 'a/../../b' leaves the workspace (`..`)"
        " (hint: write a path inside the workspace, e.g. artifacts: [dist/*.whl, coverage/])",
    ]


def test_a_map_instead_of_a_path_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        _compile(PIPELINE.replace("artifacts: site.tar.gz", "artifacts: [{path: x}]"))
    [problem] = raised.value.problems
    assert (problem.line, problem.column, problem.path) == (12, 17, "steps[1].artifacts[0]")
    assert "an artifact path must be a single value" in problem.message


def test_a_plain_drone_file_has_no_artifacts_in_its_plan() -> None:
    [plan] = _compile(PIPELINE.replace("    artifacts:\n      - dist/*.whl\n      - coverage/\n", "")).plans
    assert plan.step("build").artifacts == []
    assert "artifacts" not in plan.step("build").model_dump(exclude_defaults=True)


@pytest.mark.parametrize(
    ("path", "safe"),
    [("dist/app.whl", True), ("a/b/c.txt", True), ("../x", False), ("/x", False), ("a//b", False),
     ("./a", False), ("", False), ("a/..", False)],
)  # fmt: skip
def test_what_the_server_accepts_as_a_stored_path(path: str, safe: bool) -> None:
    assert is_safe_artifact_path(path) == safe

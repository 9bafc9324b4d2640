"""`hangar lint` and `hangar compile`, run as the installed command a user types."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HANGAR = str(Path(sys.executable).parent / "hangar")
GOOD = "kind: pipeline\nname: ci\nsteps:\n  - name: test\n    image: busybox\n    commands: [echo hi]\n"
BROKEN = (
    "kind: pipeline\nsteps:\n  - name: test\n    commands: [echo hi]\n"
    "  - name: x\n    image: busybox\n    bogus: 1\n"
)


def _hangar(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HANGAR, *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60)


def test_lint_passes_a_good_file(tmp_path: Path) -> None:
    (tmp_path / "good.yml").write_text(GOOD)
    result = _hangar("lint", "good.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 file(s) checked: 0 with errors" in result.stderr


def test_lint_reports_file_line_col_and_fails(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text(BROKEN)
    result = _hangar("lint", "bad.yml", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "bad.yml:3:5: error: steps[0].image: step 'test' has no image" in lines[0]
    assert lines[1].startswith("bad.yml:7:5: warning: steps[1].bogus: unknown key 'bogus'")


def test_lint_reads_drone_yml_when_no_file_is_named(tmp_path: Path) -> None:
    (tmp_path / ".drone.yml").write_text(BROKEN)
    result = _hangar("lint", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(".drone.yml:3:5:")


def test_ci_yml_wins_over_drone_yml(tmp_path: Path) -> None:
    (tmp_path / ".ci.yml").write_text(GOOD)
    (tmp_path / ".drone.yml").write_text(BROKEN)
    assert _hangar("lint", cwd=tmp_path).returncode == 0


def test_warnings_do_not_fail(tmp_path: Path) -> None:
    (tmp_path / ".ci.yml").write_text(GOOD + "    colour: blue\n")
    result = _hangar("lint", cwd=tmp_path)
    assert result.returncode == 0
    assert "unknown key 'colour'" in result.stderr


def test_untrusted_file_needs_trusted_flag(tmp_path: Path) -> None:
    (tmp_path / ".ci.yml").write_text(GOOD + "    privileged: true\n")
    assert _hangar("lint", cwd=tmp_path).returncode == 1
    assert _hangar("lint", "--trusted", cwd=tmp_path).returncode == 0


def test_compile_prints_plans_as_json(tmp_path: Path) -> None:
    (tmp_path / ".ci.yml").write_text(
        GOOD + "    when:\n      branch: main\n  - name: tagged\n    image: busybox\n    when: {event: tag}\n"
    )
    result = _hangar("compile", "--event", "push", "--branch", "main", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    (plan,) = document["plans"]
    assert [s["name"] for s in plan["steps"]] == ["clone", "test"]
    test = plan["steps"][1]
    assert test["image"] == "busybox:latest"
    assert test["environment"]["DRONE_BRANCH"] == "main"
    assert "+ echo hi" in test["command"][0]


def test_compile_paths_and_skipped_stages(tmp_path: Path) -> None:
    (tmp_path / ".ci.yml").write_text(GOOD + "trigger:\n  paths: [docs/**]\n")
    skipped = json.loads(_hangar("compile", "--changed", "src/a.go", "--json", cwd=tmp_path).stdout)
    assert skipped["plans"] == [] and "paths" in skipped["skipped"][0]["reason"]
    ran = json.loads(_hangar("compile", "--changed", "docs/x.md", "--json", cwd=tmp_path).stdout)
    assert len(ran["plans"]) == 1


def test_compile_error_exits_nonzero_with_the_line(tmp_path: Path) -> None:
    (tmp_path / ".ci.yml").write_text(BROKEN)
    result = _hangar("compile", "--json", cwd=tmp_path)
    assert result.returncode == 1
    assert ".ci.yml:3:5: error:" in result.stderr
    assert result.stdout == ""


def test_compile_table_output(tmp_path: Path) -> None:
    (tmp_path / ".ci.yml").write_text(GOOD)
    result = _hangar("compile", cwd=tmp_path)
    assert result.returncode == 0
    assert "stage 1: ci" in result.stdout and "busybox:latest" in result.stdout


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = _hangar("lint", cwd=tmp_path)
    assert result.returncode == 2
    expected = ".ci.yml, .drone.yml, .drone.jsonnet, .drone.star, .woodpecker/*.yaml, .woodpecker.yaml or"
    assert f"no {expected} .woodpecker.yml here" in result.stderr


def test_non_utf8_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".ci.yml").write_bytes(b"kind: pipeline\nname: \xff\xfe\n")
    result = _hangar("lint", cwd=tmp_path)
    assert result.returncode == 1
    assert "not UTF-8 text" in result.stderr
    assert "Traceback" not in result.stderr


STAR = """\
load("ci/steps.star", "step")

def main(ctx):
    return [{"kind": "pipeline", "name": "on-" + ctx.build.branch, "steps": [step(ctx.build.event)]}]
"""
STAR_STEPS = """def step(event):
    return {"name": "say", "image": "busybox", "commands": ["echo " + event]}
"""


def _star_project(folder: Path) -> Path:
    """A git work tree on branch `trunk` whose only pipeline file is a .drone.star loading ci/steps.star."""
    (folder / "ci").mkdir(parents=True)
    (folder / ".drone.star").write_text(STAR)
    (folder / "ci" / "steps.star").write_text(STAR_STEPS)
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(folder)], check=True)
    return folder


def test_lint_finds_and_evaluates_a_drone_star(tmp_path: Path) -> None:
    result = _hangar("lint", cwd=_star_project(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "1 file(s) checked: 0 with errors" in result.stderr


def test_lint_reports_an_evaluation_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonnet").write_text("{\n  a: error 'no config for ' + std.extVar('build.branch'),\n}\n")
    result = _hangar("lint", "--branch", "dev", "bad.jsonnet", cwd=tmp_path)
    assert result.returncode == 1
    assert "bad.jsonnet:2:6: error: no config for dev" in result.stderr


def test_lint_names_the_pipeline_and_key_of_a_problem_in_what_a_file_produced(tmp_path: Path) -> None:
    (tmp_path / ".drone.jsonnet").write_text("[{kind: 'pipeline', name: 'p', steps: [{name: 's'}]}]")
    result = _hangar("lint", cwd=tmp_path)
    assert result.returncode == 1
    assert ".drone.jsonnet (generated YAML):" in result.stderr
    assert "steps[0].image: step 's' has no image" in result.stderr


def test_compile_show_config_prints_the_yaml_a_starlark_file_produces(tmp_path: Path) -> None:
    result = _hangar("compile", "--show-config", "--event", "tag", cwd=_star_project(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("---\nkind: pipeline\nname: on-trunk\n")
    assert "- echo tag\n" in result.stdout


def test_compile_takes_the_branch_from_the_flag_over_the_work_tree(tmp_path: Path) -> None:
    result = _hangar("compile", "--branch", "release", "--json", cwd=_star_project(tmp_path))
    assert result.returncode == 0, result.stderr
    assert [plan["stage"]["name"] for plan in json.loads(result.stdout)["plans"]] == ["on-release"]


WORKFLOW = """\
matrix:
  GO: ["1.22", "1.23"]
steps:
  - name: test
    image: golang:${GO}
    commands: go test
"""


def test_lint_reads_the_woodpecker_folder_when_no_file_is_named(tmp_path: Path) -> None:
    (tmp_path / ".woodpecker").mkdir()
    (tmp_path / ".woodpecker" / "test.yaml").write_text(WORKFLOW)
    broken = "steps:\n  deploy:\n    image: alpine\n    when:\n      evaluate: 'CI_COMMIT_BRANCH =='\n"
    (tmp_path / ".woodpecker" / "deploy.yml").write_text(broken)
    result = _hangar("lint", cwd=tmp_path)
    assert result.returncode == 1
    assert ".woodpecker/deploy.yml:5:37: error: steps.deploy.when.evaluate: evaluate:" in result.stderr
    assert "1 file(s) checked: 1 with errors" in result.stderr


def test_compile_expands_a_woodpecker_matrix(tmp_path: Path) -> None:
    (tmp_path / ".woodpecker.yaml").write_text(WORKFLOW)
    result = _hangar("compile", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    plans = json.loads(result.stdout)["plans"]
    assert [plan["stage"]["name"] for plan in plans] == ["woodpecker (GO=1.22)", "woodpecker (GO=1.23)"]
    assert [plan["steps"][1]["image"] for plan in plans] == ["golang:1.22", "golang:1.23"]

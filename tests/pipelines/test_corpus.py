"""Every real-world file of the shared corpus lints without a traceback, with the expected verdict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines import BuildContext, ConfigError, Repo, compile_file, lint_text
from tests.conftest import shared_dir

DRONE = shared_dir() / "corpus" / "drone"
_FOREIGN_TYPE = re.compile(r"^type:\s*[\"']?(vm|kubernetes|exec|ssh|digitalocean|macstadium)\b", re.MULTILINE)
# Where the MANIFEST says the invalid files break: (line, column or 0 for any column).
INVALID_AT = {"go-xorm__xorm.drone.yml": (217, 28), "rancher__ui.drone.yml": (9, 0)}

pytestmark = pytest.mark.corpus


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yml")) if folder.is_dir() else []


def _ids(paths: list[Path]) -> list[str]:
    return [path.name for path in paths]


DOCKER_FILES = [p for p in _files(DRONE) if not _FOREIGN_TYPE.search(p.read_text())]
FOREIGN_FILES = [p for p in _files(DRONE) if _FOREIGN_TYPE.search(p.read_text())]


@pytest.mark.parametrize("path", DOCKER_FILES, ids=_ids(DOCKER_FILES))
def test_docker_files_pass_lint(path: Path) -> None:
    problems = lint_text(path.read_text(), path.name, trusted=True)
    assert [p.format() for p in problems if p.is_error] == []


@pytest.mark.parametrize("path", DOCKER_FILES, ids=_ids(DOCKER_FILES))
def test_docker_files_compile_for_a_push(path: Path) -> None:
    context = BuildContext(
        repo=Repo(owner="octocat", name="hello"),
        event="push",
        branch="master",
        ref="refs/heads/master",
        trusted=True,
    )
    compilation = compile_file(path.read_text(), context, path.name)
    for plan in compilation.plans:
        assert all(step.image for step in plan.steps if step.kind != "clone")
    assert len(compilation.plans) + len(compilation.skipped) >= 1


@pytest.mark.parametrize("path", FOREIGN_FILES, ids=_ids(FOREIGN_FILES))
def test_foreign_types_say_not_supported(path: Path) -> None:
    problems = lint_text(path.read_text(), path.name, trusted=True)
    unsupported = [p for p in problems if "is not supported" in p.message]
    assert unsupported, "expected a 'not supported' message"
    assert all(p.line > 0 for p in unsupported)
    names = re.findall(r"pipeline '([^']+)'", " ".join(p.message for p in unsupported))
    assert names, "the message names the pipeline"


def test_mixed_file_keeps_its_docker_pipelines() -> None:
    path = DRONE / "harness__drone.drone.yml"
    if not path.exists():
        pytest.skip("corpus file missing")
    problems = lint_text(path.read_text(), path.name, trusted=True)
    assert not [p for p in problems if p.is_error]
    context = BuildContext(event="push", branch="master", ref="refs/heads/master", trusted=True)
    plans = compile_file(path.read_text(), context, path.name).plans
    assert plans, "the docker pipelines of a mixed file still compile"


@pytest.mark.parametrize("path", _files(DRONE / "invalid"), ids=_ids(_files(DRONE / "invalid")))
def test_invalid_files_fail_at_the_right_line(path: Path) -> None:
    problems = [p for p in lint_text(path.read_text(), path.name, trusted=True) if p.is_error]
    assert problems, "an invalid file must fail"
    line, column = INVALID_AT[path.name]
    assert problems[0].line == line
    if column:
        assert problems[0].column == column
    with pytest.raises(ConfigError):
        compile_file(path.read_text(), BuildContext(), path.name)


@pytest.mark.parametrize("path", _files(DRONE / "legacy-0.8"), ids=_ids(_files(DRONE / "legacy-0.8")))
def test_drone_08_files_get_the_08_message(path: Path) -> None:
    problems = lint_text(path.read_text(), path.name, trusted=True)
    message = next(p for p in problems if p.is_error)
    assert "Drone 0.8 syntax" in message.message
    assert "steps:" in message.hint and "kind: pipeline" in message.hint
    assert message.line == _line_of(path, "pipeline:")


@pytest.mark.parametrize("path", _files(DRONE / "legacy-0.4"), ids=_ids(_files(DRONE / "legacy-0.4")))
def test_drone_04_files_get_a_legacy_message(path: Path) -> None:
    problems = [p for p in lint_text(path.read_text(), path.name) if p.is_error]
    assert len(problems) == 1
    assert "Drone 0.3/0.4 syntax" in problems[0].message


def test_corpus_is_there_when_ci_runs() -> None:
    """CI always has ../shared: an empty parametrisation must not pass silently."""
    if not DRONE.is_dir():
        pytest.skip(f"no corpus at {DRONE}")
    assert len(DOCKER_FILES) + len(FOREIGN_FILES) >= 40


def _line_of(path: Path, prefix: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith(prefix):
            return number
    raise AssertionError(f"{prefix!r} not in {path}")

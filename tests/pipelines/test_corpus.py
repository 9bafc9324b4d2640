"""Every real-world Drone file of the corpus lints without a traceback, with the expected verdict; without the
corpus these are skipped (the project's own files are in `golden/`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipelines import BuildContext, ConfigError, Repo, compile_file, lint_text
from tests.corpus import corpus_dir, corpus_files, needs_corpus, or_skip

_FOREIGN_TYPE = re.compile(r"^type:\s*[\"']?(vm|kubernetes|exec|ssh|digitalocean|macstadium)\b", re.MULTILINE)
# Where the MANIFEST says the invalid files break: (line, column or 0 for any column).
INVALID_AT = {"go-xorm__xorm.drone.yml": (217, 28), "rancher__ui.drone.yml": (9, 0)}

pytestmark = pytest.mark.corpus


def _cases(paths: list[Path], folder: str = "drone") -> list[object]:
    """The files as parameters named after them; a skipped case naming the folder when there are none."""
    return or_skip(paths, folder, ids=lambda path: path.name)


DRONE = corpus_files("drone", "*.yml")
DOCKER_FILES = _cases([p for p in DRONE if not _FOREIGN_TYPE.search(p.read_text())])
FOREIGN_FILES = _cases([p for p in DRONE if _FOREIGN_TYPE.search(p.read_text())])


@pytest.mark.parametrize("path", DOCKER_FILES)
def test_docker_files_pass_lint(path: Path) -> None:
    problems = lint_text(path.read_text(), path.name, trusted=True)
    assert [p.format() for p in problems if p.is_error] == []


@pytest.mark.parametrize("path", DOCKER_FILES)
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


@pytest.mark.parametrize("path", FOREIGN_FILES)
def test_foreign_types_say_not_supported(path: Path) -> None:
    problems = lint_text(path.read_text(), path.name, trusted=True)
    unsupported = [p for p in problems if "is not supported" in p.message]
    assert unsupported, "expected a 'not supported' message"
    assert all(p.line > 0 for p in unsupported)
    names = re.findall(r"pipeline '([^']+)'", " ".join(p.message for p in unsupported))
    assert names, "the message names the pipeline"


@needs_corpus("drone")
def test_mixed_file_keeps_its_docker_pipelines() -> None:
    path = corpus_dir() / "drone" / "harness__drone.drone.yml"
    assert path.exists(), f"{path} is missing from the corpus"
    problems = lint_text(path.read_text(), path.name, trusted=True)
    assert not [p for p in problems if p.is_error]
    context = BuildContext(event="push", branch="master", ref="refs/heads/master", trusted=True)
    plans = compile_file(path.read_text(), context, path.name).plans
    assert plans, "the docker pipelines of a mixed file still compile"


@pytest.mark.parametrize("path", _cases(corpus_files("drone/invalid", "*.yml"), "drone/invalid"))
def test_invalid_files_fail_at_the_right_line(path: Path) -> None:
    problems = [p for p in lint_text(path.read_text(), path.name, trusted=True) if p.is_error]
    assert problems, "an invalid file must fail"
    line, column = INVALID_AT[path.name]
    assert problems[0].line == line
    if column:
        assert problems[0].column == column
    with pytest.raises(ConfigError):
        compile_file(path.read_text(), BuildContext(), path.name)


@pytest.mark.parametrize("path", _cases(corpus_files("drone/legacy-0.8", "*.yml"), "drone/legacy-0.8"))
def test_drone_08_files_get_the_08_message(path: Path) -> None:
    problems = lint_text(path.read_text(), path.name, trusted=True)
    message = next(p for p in problems if p.is_error)
    assert "Drone 0.8 syntax" in message.message
    assert "steps:" in message.hint and "kind: pipeline" in message.hint
    assert message.line == _line_of(path, "pipeline:")


@pytest.mark.parametrize("path", _cases(corpus_files("drone/legacy-0.4", "*.yml"), "drone/legacy-0.4"))
def test_drone_04_files_get_a_legacy_message(path: Path) -> None:
    problems = [p for p in lint_text(path.read_text(), path.name) if p.is_error]
    assert len(problems) == 1
    assert "Drone 0.3/0.4 syntax" in problems[0].message


@needs_corpus("drone")
def test_the_corpus_holds_its_drone_files() -> None:
    """Where the corpus is, its Drone files are all there: a parametrisation may not shrink unnoticed."""
    assert len(DRONE) >= 40, f"only {len(DRONE)} Drone files in {corpus_dir() / 'drone'}"


def _line_of(path: Path, prefix: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith(prefix):
            return number
    raise AssertionError(f"{prefix!r} not in {path}")

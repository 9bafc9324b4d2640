"""`hangar exec --artifacts DIR`: the steps' declared files are copied there (and nowhere without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runner.test_cli import hangar, project

pytestmark = pytest.mark.usefixtures("docker_host")

PIPELINE = """
kind: pipeline
name: build
steps:
  - name: package
    image: busybox
    commands:
      - mkdir -p dist coverage
      - echo "wheel of $DRONE_BRANCH" > dist/app-1.0.whl
      - echo "<p>93%</p>" > coverage/index.html
      - echo "not declared" > dist/notes.txt
    artifacts: [dist/*.whl, coverage/]
"""


def test_exec_copies_the_declared_artifacts_into_the_folder_given(tmp_path: Path) -> None:
    folder = project(tmp_path / "work", PIPELINE)
    result = hangar(folder, "--artifacts", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    copied = {
        p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()
    }
    assert copied == {"dist/app-1.0.whl", "coverage/index.html"}
    assert (tmp_path / "out" / "dist" / "app-1.0.whl").read_text() == "wheel of feature\n"
    assert "[package] [hangar] artifacts: kept 2 files (28 B) in " in result.stdout
    assert not (folder / "dist").exists(), "the work tree is left as it was"


def test_without_the_option_nothing_is_copied_anywhere(tmp_path: Path) -> None:
    folder = project(tmp_path / "work", PIPELINE)
    result = hangar(folder)
    assert result.returncode == 0, result.stderr
    assert "artifact" not in result.stdout
    assert sorted(p.name for p in folder.iterdir()) == [
        ".ci.yml",
        ".git",
        ".gitignore",
        "committed.txt",
        "ignored.txt",
    ]

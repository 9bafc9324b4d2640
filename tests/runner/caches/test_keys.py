"""Keys from the workspace's files: checksums read from the archive that fills it, lockfiles recognised."""

from __future__ import annotations

from pathlib import Path

from runner.archive import pack
from runner.caches.keys import patterns_for, read_checksums, read_folder_checksums, wanted_caches
from tests.runner.support import plan_of

FACTS = {"branch": "main", "os": "linux", "arch": "amd64"}


def _files(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _wanted(root: Path, text: str, *, auto: bool = True) -> dict[str, tuple[str, tuple[str, ...]]]:
    plan = plan_of(text)
    with pack(root) as archive:
        checksums = read_checksums(archive, patterns_for(plan, auto))
        assert archive.tell() == 0, "the archive is rewound for the workspace"
    direct = read_folder_checksums(root, patterns_for(plan, auto))
    assert direct == checksums, "a workspace filled directly gives the same keys as one filled from a tar"
    wanted = wanted_caches(plan, checksums, FACTS, auto=auto)
    return {(w.tool.name if w.tool else w.key.key.split("-")[0]): (w.key.key, w.paths) for w in wanted}


PIPELINE = """
kind: pipeline
name: default
cache:
  - key: deps-{{ checksum "lib/*.lock" }}
    paths: [.deps]
steps:
  - {name: test, image: python, commands: [pytest]}
"""


def test_a_checksum_covers_every_matching_file_and_changes_with_any_of_them(tmp_path: Path) -> None:
    root = _files(tmp_path / "a", {"lib/a.lock": "1", "lib/b.lock": "2", "lib/c.txt": "x"})
    first = _wanted(root, PIPELINE)["deps"]
    assert first[1] == ("/drone/src/.deps",)
    (root / "lib/c.txt").write_text("not a lockfile")
    assert _wanted(root, PIPELINE)["deps"] == first
    (root / "lib/b.lock").write_text("3")
    assert _wanted(root, PIPELINE)["deps"] != first


def test_lockfiles_at_the_root_and_one_level_down_give_automatic_caches(tmp_path: Path) -> None:
    root = _files(
        tmp_path / "a",
        {
            "requirements-dev.txt": "pytest",
            "web/package-lock.json": "{}",
            "go.sum": "",
            "deep/er/pom.xml": "",
        },
    )
    wanted = _wanted(root, PIPELINE)
    assert set(wanted) == {"deps", "pip", "npm", "go"}
    assert wanted["pip"][0].startswith("auto-pip-") and wanted["pip"][1] == ("/hangar/cache/pip",)
    assert "deps" in _wanted(root, PIPELINE, auto=False) and "pip" not in _wanted(root, PIPELINE, auto=False)


def test_a_tool_every_step_points_elsewhere_is_left_alone(tmp_path: Path) -> None:
    root = _files(tmp_path / "a", {"requirements.txt": "pytest"})
    text = PIPELINE.replace("commands: [pytest]}", "commands: [pytest], environment: {PIP_CACHE_DIR: /mine}}")
    assert "pip" not in _wanted(root, text)


def test_a_symbolic_link_is_not_followed_for_a_key(tmp_path: Path) -> None:
    _files(tmp_path / "outside", {"secret.lock": "x"})
    (tmp_path / "ws" / "lib").mkdir(parents=True)
    (tmp_path / "ws" / "lib" / "a.lock").symlink_to(tmp_path / "outside" / "secret.lock")
    assert read_folder_checksums(tmp_path / "ws", ["lib/*.lock"]).files == {}

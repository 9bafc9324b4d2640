"""Import paths: resolved inside the repository, never out of it, each file read once, a bounded number."""

from __future__ import annotations

import pytest

from pipelines.configlang.files import ImportRefused, RepositoryFiles, resolve


@pytest.mark.parametrize(
    ("folder", "requested", "path"),
    [("", "lib.libsonnet", "lib.libsonnet"), ("ci", "lib/a.star", "ci/lib/a.star"), ("ci/x", "../y", "ci/y"),
     ("ci", "/top.star", "top.star"), ("", "//scripts/a.star", "scripts/a.star"), ("", "./a/./b", "a/b")],
)  # fmt: skip
def test_paths_resolve_inside_the_repository(folder: str, requested: str, path: str) -> None:
    assert resolve(folder, requested) == path


@pytest.mark.parametrize("requested", ["..", "../x", "a/../../x", "/../etc/passwd", "", "@lib//x.star", "."])
def test_paths_leaving_the_repository_are_refused(requested: str) -> None:
    with pytest.raises(ImportRefused):
        resolve("", requested)


def test_each_file_is_read_once_and_at_most_the_limit() -> None:
    reads: list[str] = []

    def read(path: str) -> str:
        reads.append(path)
        return path

    files = RepositoryFiles(read, limit=2)
    assert [files.read("a"), files.read("a"), files.read("b")] == ["a", "a", "b"]
    with pytest.raises(ImportRefused, match="more than 2 files"):
        files.read("c")
    assert reads == ["a", "b"]

"""The layered store with two disk stores: the first that has it answers, saves go to both."""

from __future__ import annotations

from pathlib import Path

from runner.caches.bundle import file_sha256
from runner.caches.disk import DiskStore
from runner.caches.layered import LayeredStore


def _stores(tmp_path: Path) -> tuple[DiskStore, DiskStore, LayeredStore]:
    near = DiskStore(tmp_path / "near", "repo-1")
    far = DiskStore(tmp_path / "far", "repo-1")
    return near, far, LayeredStore([near, far])


def _archive(tmp_path: Path, content: bytes) -> tuple[Path, str]:
    path = tmp_path / "archive"
    path.write_bytes(content)
    return path, file_sha256(path)


async def test_a_save_goes_to_every_store(tmp_path: Path) -> None:
    near, far, layered = _stores(tmp_path)
    archive, sha256 = _archive(tmp_path, b"entry")
    assert await layered.keep("k", "main", archive, sha256) is not None
    assert [e.key for e in near.entries()] == ["k"] and [e.key for e in far.entries()] == ["k"]
    assert await layered.has_everywhere("k", "main")
    assert await layered.keep("k", "main", archive, sha256) is None


async def test_what_only_the_far_store_has_is_restored_and_kept_near(tmp_path: Path) -> None:
    near, far, layered = _stores(tmp_path)
    archive, sha256 = _archive(tmp_path, b"from far away")
    await far.keep("k", "main", archive, sha256)
    assert not await layered.has_everywhere("k", "main")
    entry = await layered.find("k", [], ["main"])
    assert entry is not None
    await layered.fetch(entry, tmp_path / "restored")
    assert (tmp_path / "restored").read_bytes() == b"from far away"
    assert [e.key for e in near.entries()] == ["k"]


async def test_the_near_store_answers_first(tmp_path: Path) -> None:
    near, far, layered = _stores(tmp_path)
    archive, sha256 = _archive(tmp_path, b"near")
    await near.keep("pip-1", "main", archive, sha256)
    archive, sha256 = _archive(tmp_path, b"far")
    await far.keep("pip-2", "main", archive, sha256)
    entry = await layered.find("pip-3", ["pip-"], ["main"])
    assert entry is not None and entry.key == "pip-1"


async def test_a_failing_store_is_skipped_with_a_note(tmp_path: Path) -> None:
    class Away:
        async def find(self, *args: object) -> None:
            raise ConnectionError("the server is away")

        async def fetch(self, *args: object) -> None:
            raise ConnectionError("the server is away")

        async def keep(self, *args: object) -> None:
            raise ConnectionError("the server is away")

    near = DiskStore(tmp_path / "near", "repo-1")
    layered = LayeredStore([Away(), near])
    archive, sha256 = _archive(tmp_path, b"x")
    assert await layered.keep("k", "main", archive, sha256) is not None
    assert await layered.find("k", [], ["main"]) is not None
    assert layered.notes and "the server is away" in layered.notes[0]

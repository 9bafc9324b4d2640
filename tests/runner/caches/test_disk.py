"""The runner's disk store: the lookup rule, entries kept whole or not at all, corruption, LRU eviction."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runner.caches.bundle import file_sha256
from runner.caches.disk import DiskStore, evict
from runner.caches.store import CacheCorrupt


def _archive(tmp_path: Path, content: bytes, name: str = "archive") -> tuple[Path, str]:
    path = tmp_path / name
    path.write_bytes(content)
    return path, file_sha256(path)


async def _keep(
    store: DiskStore, tmp_path: Path, key: str, branch: str = "main", content: bytes = b"x"
) -> None:
    archive, sha256 = _archive(tmp_path, content, f"in-{key}-{branch}".replace("/", "_"))
    assert await store.keep(key, branch, archive, sha256) is not None


async def test_the_exact_key_then_the_longest_prefix_then_the_fallback_branch(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "cache", "repo-1")
    await _keep(store, tmp_path, "pip-linux-aaa", "main")
    await _keep(store, tmp_path, "pip-other-bbb", "main")
    await _keep(store, tmp_path, "pip-linux-ccc", "feature")
    exact = await store.find("pip-linux-aaa", ["pip-", "pip-linux-"], ["main", "feature"])
    assert exact is not None and (exact.key, exact.branch) == ("pip-linux-aaa", "main")
    own_branch_first = await store.find("pip-linux-aaa", ["pip-", "pip-linux-"], ["feature", "main"])
    assert own_branch_first is not None and own_branch_first.key == "pip-linux-ccc"
    nearest = await store.find("pip-linux-zzz", ["pip-", "pip-linux-"], ["feature", "main"])
    assert nearest is not None and (nearest.key, nearest.branch) == ("pip-linux-ccc", "feature")
    fallback = await store.find("pip-other-zzz", ["pip-other-"], ["feature", "main"])
    assert fallback is not None and (fallback.key, fallback.branch) == ("pip-other-bbb", "main")
    assert await store.find("npm-1", ["npm-"], ["feature", "main"]) is None


async def test_a_key_already_there_is_not_kept_again(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "cache", "repo-1")
    await _keep(store, tmp_path, "k", content=b"first")
    archive, sha256 = _archive(tmp_path, b"second")
    assert await store.keep("k", "main", archive, sha256) is None
    entry = await store.find("k", [], ["main"])
    assert entry is not None
    await store.fetch(entry, tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"first"


async def test_the_kept_entry_survives_the_callers_file_being_removed(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "cache", "repo-1")
    archive, sha256 = _archive(tmp_path, b"payload")
    await store.keep("k", "main", archive, sha256)
    archive.unlink()
    entry = await store.find("k", [], ["main"])
    assert entry is not None and entry.size == len(b"payload") and entry.sha256 == sha256
    await store.fetch(entry, tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == b"payload"


async def test_a_corrupt_entry_raises_and_is_forgotten(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "cache", "repo-1")
    await _keep(store, tmp_path, "k", content=b"good bytes")
    entry = await store.find("k", [], ["main"])
    assert entry is not None
    (store.folder / f"{entry.handle}.entry").write_bytes(b"evil bytes")
    with pytest.raises(CacheCorrupt):
        await store.fetch(entry, tmp_path / "out")
    assert await store.find("k", [], ["main"]) is None
    assert list(store.folder.iterdir()) == []


async def test_half_written_files_are_never_entries(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "cache", "repo-1")
    temp = store.temp_file()
    temp.write_bytes(b"half")
    (store.folder / "orphan.entry").write_bytes(b"no metadata")
    assert store.entries() == []


async def test_another_generation_is_not_restored_and_its_folder_goes(tmp_path: Path) -> None:
    old = DiskStore(tmp_path / "cache", "repo-1", generation=0)
    await _keep(old, tmp_path, "k")
    new = DiskStore(tmp_path / "cache", "repo-1", generation=1)
    assert await new.find("k", [], ["main"]) is None
    assert not old.folder.exists()


async def test_the_least_recently_used_entries_go_past_the_size(tmp_path: Path) -> None:
    root = tmp_path / "cache"
    one = DiskStore(root, "repo-1", max_bytes=10**9)
    two = DiskStore(root, "repo-2", max_bytes=10**9)
    for store, key in ((one, "a"), (one, "b"), (two, "c")):
        await _keep(store, tmp_path, key, content=b"x" * 1000)
    for store, key, age in ((one, "a", 300), (one, "b", 200), (two, "c", 100)):
        entry = await store.find(key, [], ["main"])
        assert entry is not None
        path = store.folder / f"{entry.handle}.entry"
        os.utime(path, (path.stat().st_atime - age, path.stat().st_mtime - age))
    used = await one.find("a", [], ["main"])  # using "a" makes "b" the least recently used
    assert used is not None
    await one.fetch(used, tmp_path / "out")
    removed = evict(root, 2000)
    assert len(removed) == 1
    assert await one.find("b", [], ["main"]) is None
    assert await one.find("a", [], ["main"]) is not None and await two.find("c", [], ["main"]) is not None


async def test_keeping_past_the_size_evicts_older_entries_but_not_the_new_one(tmp_path: Path) -> None:
    store = DiskStore(tmp_path / "cache", "repo-1", max_bytes=1500)
    await _keep(store, tmp_path, "old", content=b"x" * 1000)
    path = next(store.folder.glob("*.entry"))
    os.utime(path, (1, 1))
    await _keep(store, tmp_path, "new", content=b"y" * 1000)
    assert [entry.key for entry in store.entries()] == ["new"]

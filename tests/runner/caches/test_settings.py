"""Where a runner keeps its caches, and how much: settings and their HANGAR_RUNNER_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.daemon_cli import load_settings


def test_the_cache_folder_and_size_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HANGAR_RUNNER_CACHE_DIR", str(tmp_path / "caches"))
    monkeypatch.setenv("HANGAR_RUNNER_CACHE_MAX_BYTES", "1048576")
    settings = load_settings(server="http://hangar.example", token="t")
    assert settings.cache_dir == tmp_path / "caches"
    assert settings.cache_max_bytes == 1024 * 1024


def test_by_default_they_are_kept_in_the_users_cache_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    settings = load_settings(server="http://hangar.example", token="t")
    assert settings.cache_dir == tmp_path / "hangar" / "runner"
    assert settings.cache_max_bytes == 10 * 1024**3

"""Shared fixtures: where the shared corpus of real-world files lives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """`../shared` beside the checkout (HANGAR_SHARED overrides)."""
    return Path(os.environ.get("HANGAR_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus folder; tests that need it are skipped, loudly, when it is missing."""
    path = shared_dir() / "corpus"
    if not path.is_dir():
        pytest.skip(f"the shared corpus is not at {path} (set HANGAR_SHARED)")
    return path

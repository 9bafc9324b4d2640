"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.package_index import served_index


@pytest.fixture
def package_index(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local package index of the example's dependency (a wheel made here): its URL and access log."""
    with served_index(tmp_path) as index:
        yield index

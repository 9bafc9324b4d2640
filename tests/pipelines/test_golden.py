"""Golden tests: each pipeline feature, YAML in -> Plan JSON out."""

from __future__ import annotations

import pytest

from tests.pipelines.golden_support import expected, golden_cases, render


@pytest.mark.parametrize("name", golden_cases())
def test_golden(name: str) -> None:
    actual = render(name)
    assert actual == expected(name, actual)

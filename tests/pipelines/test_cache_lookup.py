"""The restore rule: exact key first, then the longest prefix, per branch in order; never an empty prefix."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.cache_lookup import best_entry


@dataclass(frozen=True)
class E:
    key: str
    branch: str
    created: float


ENTRIES = [
    E("pip-aaa", "main", 1.0),
    E("pip-bbb", "main", 3.0),
    E("pip-ccc", "feature", 2.0),
    E("npm-xyz", "feature", 9.0),
]


def test_the_exact_key_wins_over_a_newer_prefix_match() -> None:
    assert best_entry(ENTRIES, "pip-aaa", ["pip-"], ["main"]) == ENTRIES[0]


def test_the_newest_prefix_match_of_the_own_branch_comes_before_the_fallback() -> None:
    assert best_entry(ENTRIES, "pip-new", ["pip-"], ["feature", "main"]) == ENTRIES[2]


def test_the_fallback_branch_is_read_when_the_own_has_nothing() -> None:
    assert best_entry(ENTRIES, "pip-new", ["pip-"], ["fork-branch", "main"]) == ENTRIES[1]


def test_an_exact_key_of_another_branch_is_not_taken_before_the_own_branchs_prefix() -> None:
    assert best_entry(ENTRIES, "pip-bbb", ["pip-"], ["feature", "main"]) == ENTRIES[2]


def test_the_longest_prefix_is_tried_first() -> None:
    entries = [E("pip-linux-1", "main", 1.0), E("pip-mac-2", "main", 5.0)]
    assert best_entry(entries, "pip-linux-9", ["pip-", "pip-linux-"], ["main"]) == entries[0]


def test_no_prefix_or_an_empty_one_restores_nothing_but_the_exact_key() -> None:
    assert best_entry(ENTRIES, "other", ["", "x-"], ["main", "feature"]) is None

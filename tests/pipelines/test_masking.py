"""Masker: what a secret's owner can rely on — its value never shows in a log line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pipelines.masking import MASK, Masker

# No '*' in secrets: a secret made of the mask's own character (say "x*") can reappear next to a mask
# ("xx*" -> "x******"), so the guarantee below holds only for secrets without '*'.
_ALPHABET = st.sampled_from("abcxyz01 -_:=é\t")
secrets_ = st.lists(st.text(_ALPHABET, min_size=0, max_size=6), max_size=5)
lines = st.text(_ALPHABET, max_size=40)


def parts(secrets: list[str]) -> set[str]:
    """The values that must disappear: each line of each secret, without surrounding blanks, ≥ 2 chars."""
    return {p.strip() for s in secrets for p in s.splitlines() if len(p.strip()) >= 2}


@given(secrets_, lines)
def test_no_secret_of_two_chars_or_more_survives_masking(secrets: list[str], line: str) -> None:
    masked = Masker(secrets).mask(line)
    for part in parts(secrets):
        assert part not in masked


@given(secrets_, st.lists(st.sampled_from(["ab", "bc", "abc", "cab", "bca"]), min_size=1), lines)
def test_overlapping_secrets_are_all_masked(secrets: list[str], overlapping: list[str], line: str) -> None:
    masked = Masker(secrets + overlapping).mask(line + "abcabca" + line)
    for part in parts(secrets + overlapping):
        assert part not in masked


@given(secrets_, lines)
def test_a_line_without_secrets_is_unchanged(secrets: list[str], line: str) -> None:
    if not any(part in line for part in parts(secrets)):
        assert Masker(secrets).mask(line) == line


def test_every_occurrence_becomes_the_mask_and_the_rest_is_kept() -> None:
    masker = Masker(["hunter2"])
    assert masker.mask("login hunter2, again hunter2!") == f"login {MASK}, again {MASK}!"


def test_the_longest_secret_wins_where_secrets_overlap() -> None:
    masker = Masker(["pass", "password123"])
    assert masker.mask("use password123 now") == f"use {MASK} now"


def test_a_multi_line_secret_is_masked_line_by_line() -> None:
    key = "-----BEGIN KEY-----\nMIIEow\r\n  c2VjcmV0  \n-----END KEY-----\n"
    masker = Masker([key])
    assert masker.mask("MIIEow") == MASK
    assert masker.mask("    c2VjcmV0") == f"    {MASK}"
    assert masker.mask("echo -----END KEY-----") == f"echo {MASK}"


def test_one_character_parts_are_not_masked() -> None:
    masker = Masker(["x", "y\nlong-enough", " z "])
    assert masker.mask("x y z") == "x y z"
    assert masker.mask("long-enough") == MASK


def test_a_masker_without_maskable_secrets_is_false_and_leaves_lines_alone() -> None:
    assert not Masker([])
    assert not Masker(["a", "", "  \n b \n"])
    assert Masker(["ab"])
    assert Masker(["a", "\n ab \n"]).mask("xab") == f"x{MASK}"


def test_regex_characters_in_a_secret_are_literal() -> None:
    masker = Masker(["p.s$(1)+"])
    assert masker.mask("p.s$(1)+ pXs$(1)+") == f"{MASK} pXs$(1)+"


@given(secrets_, st.lists(lines, max_size=8))
def test_masking_a_batch_equals_masking_each_line(secrets: list[str], batch: list[str]) -> None:
    masker = Masker(secrets)
    assert masker.mask_lines(batch) == [masker.mask(line) for line in batch]


def test_a_secret_with_a_quote_is_masked_where_set_x_traces_it() -> None:
    masker = Masker(["it's$ecret"])
    assert masker.mask("""+ echo 'it'"'"'s$ecret'""") == f"+ echo '{MASK}'", "busybox and dash"
    assert masker.mask("""+ echo 'it'\\''s$ecret'""") == f"+ echo '{MASK}'", "bash"

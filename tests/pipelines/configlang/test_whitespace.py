"""Tabs outside strings become what go.starlark.net makes of them; tabs inside strings stay."""

from __future__ import annotations

from pipelines.configlang.whitespace import untabify


def test_indentation_tabs_advance_to_the_next_multiple_of_eight() -> None:
    assert untabify("def f():\n\treturn 1\n") == "def f():\n        return 1\n"
    assert untabify("if x:\n  \ty = 1\n") == "if x:\n        y = 1\n"


def test_tabs_between_tokens_become_one_space() -> None:
    assert untabify("x =\t[1,\t2]\n") == "x = [1, 2]\n"


def test_tabs_in_strings_and_their_escapes_are_kept() -> None:
    source = 'a = \'x\ty\'\nb = """\n\tz\n"""\nc = \'q\\\'\t\'\n'
    assert untabify(source) == source


def test_tabs_in_comments_are_harmless_spaces() -> None:
    assert untabify("x = 1  #\tnote\n") == "x = 1  # note\n"

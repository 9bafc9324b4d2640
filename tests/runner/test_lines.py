"""LineSplitter: any chunking of any output gives the same lines, with bounded memory."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.lines import MAX_LINE_BYTES, LineSplitter

# Bytes that matter to a line splitter: newlines, CRs, multi-byte UTF-8 and invalid UTF-8.
_PIECES = [b"a", b"xyz", b"\n", b"\r", b"\r\n", "é".encode(), "€".encode(), b"\xff", b"\xe2\x82"]


def outputs(*, with_cr: bool = True) -> st.SearchStrategy[bytes]:
    pieces = _PIECES if with_cr else [p for p in _PIECES if b"\r" not in p]
    raw = st.binary(max_size=60).map(lambda b: b if with_cr else b.replace(b"\r", b""))
    return st.one_of(st.lists(st.sampled_from(pieces), max_size=40).map(b"".join), raw)


@st.composite
def chunked(draw: st.DrawFn, data: st.SearchStrategy[bytes]) -> tuple[bytes, list[bytes]]:
    """Some output and an arbitrary split of it into chunks (empty chunks included)."""
    whole = draw(data)
    cuts = sorted(draw(st.lists(st.integers(0, len(whole)), max_size=10)))
    bounds = [0, *cuts, len(whole)]
    return whole, [whole[a:b] for a, b in itertools.pairwise(bounds)]


def expected(data: bytes, max_line: int) -> list[str]:
    """The reference: split on LF, drop one CR before each LF (and at the end), cut long lines where no
    UTF-8 character is cut in two (a cut moves back at most 3 bytes)."""
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the output ended with a newline: there is no last partial line
    result: list[str] = []
    for line in lines:
        text = line.removesuffix(b"\r")
        while len(text) > max_line:
            cut = max_line
            while cut > 1 and max_line - cut < 3 and text[cut] & 0xC0 == 0x80:  # not inside a character
                cut -= 1
            result.append(text[:cut].decode("utf-8", errors="replace"))
            text = text[cut:]
        result.append(text.decode("utf-8", errors="replace"))
    return result


def split(chunks: list[bytes], max_line: int) -> list[str]:
    splitter = LineSplitter(max_line)
    lines: list[str] = []
    for chunk in chunks:
        lines += splitter.feed(chunk)
        assert len(splitter._partial) <= max_line, "memory must stay bounded by max_line"
    return lines + splitter.flush()


@given(chunked(outputs()))
def test_any_chunking_gives_the_lines_of_the_whole_output(case: tuple[bytes, list[bytes]]) -> None:
    data, chunks = case
    assert split(chunks, MAX_LINE_BYTES) == expected(data, MAX_LINE_BYTES)


@given(chunked(outputs(with_cr=False)), st.integers(1, 8))
def test_long_lines_are_cut_the_same_whatever_the_chunking(
    case: tuple[bytes, list[bytes]], max_line: int
) -> None:
    data, chunks = case
    assert split(chunks, max_line) == expected(data, max_line)


@given(st.integers(1, 5000), st.integers(1, 64))
def test_a_huge_line_without_newline_never_grows_the_buffer(size: int, max_line: int) -> None:
    splitter = LineSplitter(max_line)
    lines = splitter.feed(b"x" * size)
    assert len(splitter._partial) <= max_line
    lines += splitter.flush()
    assert "".join(lines) == "x" * size
    assert all(len(line) == max_line for line in lines[:-1])


def test_crlf_goes_but_a_lone_cr_stays() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"one\r\ntwo\r") == ["one"]
    assert splitter.feed(b"\n10%\r20%\n") == ["two", "10%\r20%"]


def test_invalid_utf8_becomes_replacement_characters_not_lost() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"caf\xc3\xa9 \xff ok\n") == ["café \ufffd ok"]


def test_a_character_split_across_chunks_is_decoded_whole() -> None:
    splitter = LineSplitter()
    euro = "€".encode()
    assert splitter.feed(euro[:1]) == []
    assert splitter.feed(euro[1:] + b"\n") == ["€"]


def test_flush_gives_the_unterminated_last_line_once() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b"done\nno newline") == ["done"]
    assert splitter.flush() == ["no newline"]
    assert splitter.flush() == []


def test_empty_lines_are_kept() -> None:
    assert LineSplitter().feed(b"\n\na\n\n") == ["", "", "a", ""]


@pytest.mark.parametrize(
    ("chunk", "lines"),
    [
        (b"abcd\r\n", ["abcd"]),  # 4 bytes of text: one line, not "abcd" and a spurious ""
        (b"abc\rxyz\n", ["abc\r", "xyz"]),  # a CR not before LF is text, even at a cut
    ],
)
def test_cr_handling_does_not_depend_on_where_a_long_line_is_cut(chunk: bytes, lines: list[str]) -> None:
    splitter = LineSplitter(4)
    assert splitter.feed(chunk) + splitter.flush() == lines


def test_a_cut_never_splits_a_secret_or_a_character() -> None:
    secret = b"hunter2-secret"
    guard = re.compile(re.escape(secret))
    data = b"x" * 60 + secret + b"y" * 60 + "€".encode() * 30 + b"\n"
    for size in (1, 7, len(data)):
        splitter = LineSplitter(64, guard=guard, reach=len(secret))
        pieces: list[str] = []
        for i in range(0, len(data), size):
            pieces += splitter.feed(data[i : i + size])
        assert pieces[0] == "x" * 60  # ends before the secret instead of cutting it
        assert pieces[1].startswith("hunter2-secret")
        assert "".join(pieces) == data[:-1].decode()
        assert "\ufffd" not in "".join(pieces)

"""Tabs as go.starlark.net (Drone's interpreter) reads them, for starlark-rust, which refuses every tab.

Go's scanner skips a tab between tokens like a space, and in a line's indentation advances to the next
multiple of 8 columns. Rewriting the tabs outside string literals that way gives starlark-rust the same
program; tabs inside strings are kept.
"""

from __future__ import annotations

_TAB_STOP = 8


def untabify(source: str) -> str:
    """The same Starlark program without a tab outside string literals."""
    if "\t" not in source:
        return source
    out: list[str] = []
    index, length = 0, len(source)
    line_start = True
    column = 0
    while index < length:
        char = source[index]
        if char == "\t":
            width = _TAB_STOP - column % _TAB_STOP if line_start else 1
            out.append(" " * width)
            column += width
            index += 1
            continue
        if char in "'\"":
            end = _string_end(source, index)
            out.append(source[index:end])
            newline = source.rfind("\n", index, end)
            column = end - newline - 1 if newline >= 0 else column + end - index
            line_start = False
            index = end
            continue
        if char == "#":
            end = source.find("\n", index)
            end = length if end < 0 else end
            out.append(source[index:end].replace("\t", " "))
            column += end - index
            index = end
            continue
        out.append(char)
        if char == "\n":
            line_start, column = True, 0
        else:
            line_start = line_start and char == " "
            column += 1
        index += 1
    return "".join(out)


def _string_end(source: str, start: int) -> int:
    """Where the string literal opening at `start` ends (past its closing quote; the end if unterminated)."""
    quote = source[start]
    triple = source.startswith(quote * 3, start)
    delimiter = quote * 3 if triple else quote
    index = start + len(delimiter)
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if not triple and char == "\n":
            return index
        if source.startswith(delimiter, index):
            return index + len(delimiter)
        index += 1
    return len(source)

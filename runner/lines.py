"""Turn a container's raw output into text lines, with bounded memory whatever the container prints."""

from __future__ import annotations

import re

MAX_LINE_BYTES = 64 * 1024
_UTF8_TAIL_MASK, _UTF8_TAIL = 0xC0, 0x80  # the bytes after the first of a UTF-8 character: 10xxxxxx
_UTF8_LONGEST = 4


class LineSplitter:
    """Feed raw chunks, get lines (a CR before the LF dropped); a line over `max_line` bytes is cut in pieces.

    Pieces are cut the same way whatever the chunking, and output without a newline never holds more than
    `max_line + reach` bytes. A cut never falls inside a UTF-8 character, nor inside a secret that `guard`
    finds (`reach`: its longest match, in bytes): the piece ends before it, and it stays whole for masking.
    """

    def __init__(
        self, max_line: int = MAX_LINE_BYTES, *, guard: re.Pattern[bytes] | None = None, reach: int = 0
    ) -> None:
        self._max_line = max_line
        self._guard, self._reach = guard, reach if guard is not None else 0
        self._partial = bytearray()

    def feed(self, chunk: bytes) -> list[str]:
        """The lines completed by this chunk (without their line endings), and pieces of an overlong one."""
        end = chunk.rfind(b"\n")
        if end < 0:
            self._partial += chunk
            lines: list[str] = []
        else:
            if self._partial:
                self._partial += chunk[:end]
                complete = bytes(self._partial)
                self._partial.clear()
            else:
                complete = chunk[:end]
            self._partial += chunk[end + 1 :]
            lines = self._lines(complete)
        limit = self._max_line
        while len(self._partial) > limit + self._reach:
            cut = self._cut(self._partial)
            lines.append(_decode(bytes(self._partial[:cut])))
            del self._partial[:cut]
        return lines

    def _lines(self, complete: bytes) -> list[str]:
        """The lines of whole lines' bytes (newline-separated), decoded at once when none is overlong.

        Decoding the whole gives what decoding each line does: no UTF-8 character holds a newline byte.
        """
        lines = _decode(complete).split("\n")
        if b"\r" in complete:
            lines = [line.removesuffix("\r") for line in lines]
        if len(complete) <= self._max_line:  # no line can be over the limit: the whole is not
            return lines
        longest = max(map(len, lines))
        if longest <= self._max_line // _UTF8_LONGEST or (
            longest <= self._max_line and complete.isascii()
        ):  # a character is 1 to 4 bytes: no line is over the limit
            return lines
        return [piece for part in complete.split(b"\n") for piece in self._pieces(part.removesuffix(b"\r"))]

    def flush(self) -> list[str]:
        """The last line, if the output did not end with a newline."""
        if not self._partial:
            return []
        rest = bytes(self._partial).removesuffix(b"\r")
        self._partial.clear()
        return self._pieces(rest)

    def _pieces(self, line: bytes) -> list[str]:
        pieces: list[str] = []
        while len(line) > self._max_line:
            cut = self._cut(line)
            pieces.append(_decode(line[:cut]))
            line = line[cut:]
        pieces.append(_decode(line))
        return pieces

    def _cut(self, data: bytes | bytearray) -> int:
        """Where the next piece of an overlong line ends."""
        cut = self._max_line
        for _ in range(_UTF8_LONGEST - 1):  # back to the start of a UTF-8 character, if inside one
            if cut <= 1 or data[cut] & _UTF8_TAIL_MASK != _UTF8_TAIL:
                break
            cut -= 1
        if self._guard is not None:
            for match in self._guard.finditer(data, max(0, cut - self._reach), cut + self._reach):
                if match.start() < cut < match.end():
                    return match.start() or match.end()
        return cut


def _decode(raw: bytes) -> str:
    """UTF-8 text; bytes that are not UTF-8 become U+FFFD instead of being lost."""
    return raw.decode("utf-8", errors="replace")

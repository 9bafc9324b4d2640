"""Turn a container's raw output into text lines, with bounded memory whatever the container prints."""

from __future__ import annotations

MAX_LINE_BYTES = 64 * 1024


class LineSplitter:
    """Feed raw chunks, get complete lines (a CR before the LF dropped); longer than `max_line` bytes, cut."""

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._max_line = max_line
        self._partial = bytearray()

    def feed(self, chunk: bytes) -> list[str]:
        """The lines completed by this chunk (without their line endings)."""
        parts = chunk.split(b"\n")
        if self._partial:
            self._partial += parts[0]
            parts[0] = bytes(self._partial)
            self._partial.clear()
        rest = parts.pop()
        limit = self._max_line
        if max(map(len, parts), default=0) <= limit:
            lines = [_decode(part.removesuffix(b"\r")) for part in parts]
        else:
            lines = [text for part in parts for text in self._cut(part.removesuffix(b"\r"))]
        self._partial += rest
        while len(self._partial) > limit:
            lines.append(_decode(bytes(self._partial[:limit])))
            del self._partial[:limit]
        return lines

    def flush(self) -> list[str]:
        """The last line, if the output did not end with a newline."""
        if not self._partial:
            return []
        rest = bytes(self._partial).removesuffix(b"\r")
        self._partial.clear()
        return self._cut(rest)

    def _cut(self, line: bytes) -> list[str]:
        if len(line) <= self._max_line:
            return [_decode(line)]
        return [_decode(line[i : i + self._max_line]) for i in range(0, len(line), self._max_line)]


def _decode(raw: bytes) -> str:
    """UTF-8 text; bytes that are not UTF-8 become U+FFFD instead of being lost."""
    return raw.decode("utf-8", errors="replace")

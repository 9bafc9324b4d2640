"""Docker's multiplexed stream format (an 8-byte header per frame: stream, 3 zero bytes, big-endian size)."""

from __future__ import annotations

import struct

HEADER = struct.Struct(">BxxxL")
_HEADER_SIZE = HEADER.size


class FrameReader:
    """Feed raw bytes of a non-TTY log stream; get the payload bytes of every complete frame, in order."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> bytes:
        """The payloads completed by this data, concatenated (stdout and stderr interleaved as written)."""
        buffer = self._buffer
        if buffer:
            buffer += data
            if len(buffer) >= _HEADER_SIZE and _HEADER_SIZE + HEADER.unpack_from(buffer)[1] > len(buffer):
                return b""  # a big frame still incomplete: not copied again
            data = bytes(buffer)
        pieces: list[bytes] = []
        append, unpack = pieces.append, HEADER.unpack_from
        offset, length = 0, len(data)
        while length - offset >= _HEADER_SIZE:  # a frame is often one line: this loop is kept lean
            start = offset + _HEADER_SIZE
            end = start + unpack(data, offset)[1]
            if end > length:
                break
            append(data[start:end])  # copying a slice of bytes is faster than a memoryview's
            offset = end
        if buffer:
            del buffer[:offset]
        elif offset < length:
            buffer += data[offset:]
        return b"".join(pieces)

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buffer)

"""Docker's multiplexed stream format (an 8-byte header per frame: stream, 3 zero bytes, big-endian size)."""

from __future__ import annotations

import struct

HEADER = struct.Struct(">BxxxL")


class FrameReader:
    """Feed raw bytes of a non-TTY log stream; get the payload bytes of every complete frame, in order."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> bytes:
        """The payloads completed by this data, concatenated (stdout and stderr interleaved as written)."""
        buffer = self._buffer
        buffer += data
        view = memoryview(buffer)
        pieces: list[memoryview] = []
        offset, length, header, unpack = 0, len(buffer), HEADER.size, HEADER.unpack_from
        while length - offset >= header:
            end = offset + header + unpack(buffer, offset)[1]
            if end > length:
                break
            pieces.append(view[offset + header : end])
            offset = end
        payload = b"".join(pieces)
        del pieces
        view.release()
        del buffer[:offset]
        return payload

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buffer)

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
        self._buffer += data
        payload = bytearray()
        offset = 0
        while len(self._buffer) - offset >= HEADER.size:
            _, size = HEADER.unpack_from(self._buffer, offset)
            end = offset + HEADER.size + size
            if end > len(self._buffer):
                break
            payload += self._buffer[offset + HEADER.size : end]
            offset = end
        del self._buffer[:offset]
        return bytes(payload)

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buffer)

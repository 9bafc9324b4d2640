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


LONGEST_HELD = 64 * 1024
"""A stream's unfinished line is given out as it is past this size (a line that never ends must not grow)."""


class LineFrames:
    """Feed raw bytes of an attach stream; get whole lines, each from one stream.

    The log API gives each line of a stream in one frame, but an attach connection gives the stream's bytes
    as they were read (a line may be cut anywhere), so stdout's and stderr's pieces could interleave inside a
    line. Each stream's unfinished line is held until its newline (or the end). What each stream gave so far
    is counted, so the same output read again from the log API can continue after it (`skip_received`).
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._unfinished: dict[int, bytes] = {}
        self.received: dict[int, int] = {}
        """Payload bytes received per stream (1 stdout, 2 stderr)."""
        self._skip: dict[int, int] = {}

    def feed(self, data: bytes) -> bytes:
        """The whole lines completed by this data, in the order their ends arrived."""
        if self._buffer:
            data = self._buffer + data
        pieces: list[bytes] = []
        offset, length = 0, len(data)
        while length - offset >= _HEADER_SIZE:
            stream, size = HEADER.unpack_from(data, offset)
            start = offset + _HEADER_SIZE
            end = start + size
            if end > length:
                break
            offset = end
            payload = data[start:end]
            skip = self._skip.get(stream, 0)
            if skip:
                self._skip[stream] = max(0, skip - len(payload))
                payload = payload[skip:]
            if payload:
                self.received[stream] = self.received.get(stream, 0) + len(payload)
                self._take(stream, payload, pieces)
        self._buffer = data[offset:]
        return b"".join(pieces)

    def _take(self, stream: int, payload: bytes, pieces: list[bytes]) -> None:
        held = self._unfinished.pop(stream, b"")
        if held:
            payload = held + payload
        cut = payload.rfind(b"\n") + 1
        if cut < len(payload) and len(payload) - cut <= LONGEST_HELD:
            self._unfinished[stream] = payload[cut:]
            payload = payload[:cut]
        if payload:
            pieces.append(payload)

    def skip_received(self) -> None:
        """From now on, fed the same streams from their start: what was received already is skipped."""
        self._buffer = b""
        self._skip = dict(self.received)

    def flush(self) -> bytes:
        """Every stream's unfinished line (the streams have ended)."""
        held = b"".join(self._unfinished.values())
        self._unfinished.clear()
        return held

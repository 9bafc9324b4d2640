"""FrameReader: Docker's multiplexed log stream, however the network splits it, gives back the output.
LineFrames: an attach stream, its streams cut anywhere, gives back each line whole."""

from __future__ import annotations

import itertools
import struct

from hypothesis import given
from hypothesis import strategies as st

from runner.docker.frames import FrameReader, LineFrames

STDOUT, STDERR = 1, 2


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


Frames = list[tuple[int, bytes]]
frames_ = st.lists(st.tuples(st.sampled_from([0, STDOUT, STDERR]), st.binary(max_size=40)), max_size=12)


@st.composite
def chunkings(draw: st.DrawFn) -> tuple[Frames, list[bytes]]:
    """Frames and their encoded stream, split at arbitrary points (empty chunks included)."""
    frames = draw(frames_)
    stream = b"".join(frame(kind, payload) for kind, payload in frames)
    cuts = sorted(draw(st.lists(st.integers(0, len(stream)), max_size=20)))
    bounds = [0, *cuts, len(stream)]
    return frames, [stream[a:b] for a, b in itertools.pairwise(bounds)]


@given(chunkings())
def test_any_chunking_gives_back_the_payloads_in_order(case: tuple[Frames, list[bytes]]) -> None:
    frames, chunks = case
    reader = FrameReader()
    out = b""
    for chunk in chunks:
        out += reader.feed(chunk)
        assert reader.pending < 8 + max((len(p) for _, p in frames), default=0), "at most one frame held"
    assert out == b"".join(payload for _, payload in frames)
    assert reader.pending == 0


@given(frames_, st.binary(min_size=1, max_size=30))
def test_nothing_is_given_before_its_frame_is_complete(frames: Frames, last: bytes) -> None:
    reader = FrameReader()
    whole = b"".join(frame(kind, payload) for kind, payload in frames)
    assert reader.feed(whole) == b"".join(payload for _, payload in frames)
    tail = frame(STDERR, last)
    for i in range(len(tail) - 1):
        assert reader.feed(tail[i : i + 1]) == b""
        assert reader.pending == i + 1
    assert reader.feed(tail[-1:]) == last
    assert reader.pending == 0


def test_stdout_and_stderr_are_interleaved_as_written() -> None:
    stream = frame(STDOUT, b"building\n") + frame(STDERR, b"warning: x\n") + frame(STDOUT, b"done\n")
    assert FrameReader().feed(stream) == b"building\nwarning: x\ndone\n"


def test_a_large_frame_size_is_read_big_endian() -> None:
    payload = bytes(range(256)) * 300  # 76800 bytes: the size needs more than the low byte
    reader = FrameReader()
    encoded = frame(STDOUT, payload)
    assert encoded[4:8] == (76800).to_bytes(4, "big")
    assert reader.feed(encoded[:5000]) == b""
    assert reader.feed(encoded[5000:]) == payload


def test_empty_frames_give_nothing_and_hold_nothing() -> None:
    reader = FrameReader()
    assert reader.feed(frame(STDOUT, b"") * 3) == b""
    assert reader.pending == 0


texts_ = st.lists(st.tuples(st.sampled_from([STDOUT, STDERR]), st.binary(max_size=30)), max_size=12)


@given(texts_, st.lists(st.integers(1, 7), min_size=1, max_size=30), st.integers(1, 50))
def test_an_attach_stream_cut_anywhere_gives_each_line_whole_and_each_stream_in_order(
    texts: list[tuple[int, bytes]], piece_sizes: list[int], chunk: int
) -> None:
    lines = [
        (kind, b"%d:%d:%s\n" % (kind, n, text.replace(b"\n", b""))) for n, (kind, text) in enumerate(texts)
    ]
    encoded = b""
    pending = {STDOUT: b"", STDERR: b""}
    sizes = itertools.cycle(piece_sizes)
    for kind, line in lines:  # each line cut into pieces, written as frames of its stream
        pending[kind] += line
        other = STDERR if kind == STDOUT else STDOUT
        while pending[kind]:
            size = next(sizes)
            encoded += frame(kind, pending[kind][:size])
            pending[kind] = pending[kind][size:]
            if pending[other]:  # the other stream's pieces interleave
                encoded += frame(other, pending[other][:size])
                pending[other] = pending[other][size:]
    encoded += b"".join(frame(kind, rest) for kind, rest in pending.items() if rest)
    reader = LineFrames()
    out = b"".join(reader.feed(encoded[at : at + chunk]) for at in range(0, len(encoded), chunk))
    out += reader.flush()
    got = [line + b"\n" for line in out.split(b"\n")[:-1]]
    assert sorted(got) == sorted(line for _, line in lines)  # every line whole, once
    for kind in (STDOUT, STDERR):
        assert [line for line in got if line.startswith(b"%d:" % kind)] == [
            line for k, line in lines if k == kind
        ]

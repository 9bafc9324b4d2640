"""A step's output comes through an attach connection opened before it starts: every byte, in order, stdout
and stderr, and a consumer that does not read never holds the step back; a broken connection is continued from
the log API without a line twice or missing."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from pipelines.plan import StepKind
from runner.docker import DockerEngine, attached
from runner.docker.attached import AttachedOutput, Spool, attached_payloads
from runner.docker.frames import HEADER
from runner.engine import ContainerSpec, StageSpec
from tests.runner.support import plan_of

LINES = 200_000
"""Lines of 100 bytes the step prints: 20 MB, far past what is held in memory in these tests."""


def frame(stream: int, payload: bytes) -> bytes:
    """One frame of Docker's multiplexed stream."""
    return HEADER.pack(stream, len(payload)) + payload


async def test_a_spool_gives_back_in_order_what_went_to_memory_then_to_its_file_then_memory_again() -> None:
    spool = Spool(in_memory=10)
    pieces = [b"abcd", b"efgh", b"ijkl", b"mnop", b"qrst"]  # the third goes past 10 bytes: the file
    for piece in pieces[:4]:
        spool.put(piece)
    taken = [await spool.take() for _ in range(3)]  # memory twice, then the file (all it holds)
    assert taken == [b"abcd", b"efgh", b"ijklmnop"]
    spool.put(pieces[4])  # the file is still open (not yet seen to be caught up): appended to it
    spool.end()
    rest = b""
    while data := await spool.take():
        rest += data
    assert rest == b"qrst"
    assert spool.error is None


async def test_a_broken_connection_is_continued_from_the_log_api_skipping_what_was_delivered() -> None:
    whole = [frame(1, b"line %d\n" % n) for n in range(100)] + [frame(2, b"oops\n")]
    cut_line = frame(1, b"line 40 is cut ") + frame(2, b"oo")  # the attach connection's own cuts
    reader = asyncio.StreamReader()
    reader.feed_data(b"".join(whole[:40]) + cut_line + whole[40][:5])  # broken inside a frame
    reader.set_exception(ConnectionResetError("reset by peer"))

    class Writer:
        def close(self) -> None: ...

        async def wait_closed(self) -> None: ...

    output = AttachedOutput(reader, Writer())  # type: ignore[arg-type]

    async def log_api() -> AsyncIterator[bytes]:  # lines whole, one frame each
        data = b"".join(whole[:40]) + frame(1, b"line 40 is cut here\n") + b"".join(whole[40:-1])
        data += frame(2, b"oops\n")
        for at in range(0, len(data), 333):
            yield data[at : at + 333]

    got = b"".join([payload async for payload in attached_payloads(output, log_api)])
    lines = [b"line %d\n" % n for n in range(100)]
    lines.insert(40, b"line 40 is cut here\n")
    assert got == b"".join(lines) + b"oops\n"
    assert output.spool.error is not None and "reset by peer" in output.spool.error


@pytest.fixture
async def engine(docker_host: str) -> AsyncIterator[DockerEngine]:
    async with await DockerEngine.connect() as engine:
        yield engine


def stage_printing(command: str) -> StageSpec:
    """A stage whose one step runs `command` in busybox."""
    text = (
        "kind: pipeline\nname: p\nclone: {disable: true}\nsteps:\n"
        f"  - name: print\n    image: busybox\n    commands:\n      - {command}\n"
    )
    return StageSpec(f"attached-{secrets.token_hex(4)}", plan_of(text))


PRINT = f"awk 'BEGIN {{ for (i = 0; i < {LINES}; i++) printf \"%09d %089d\\n\", i, 0 }}'; echo done >&2"


@pytest.mark.parametrize("arm", [True, False], ids=["armed", "started"])
async def test_a_step_that_is_not_read_runs_to_its_end_and_its_output_is_whole_afterwards(
    engine: DockerEngine, arm: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attached, "HELD_IN_MEMORY", 1024 * 1024)  # most of the 20 MB goes to the file
    engine.arm = arm
    stage = stage_printing(PRINT)
    step = next(s for s in stage.plan.steps if s.kind == StepKind.STEP)
    await engine.setup(stage)
    try:
        handle = await engine.create(stage, ContainerSpec(step, {}))
        await engine.start(handle)
        exit_state = await asyncio.wait_for(engine.wait(handle), 300)  # nobody reads the output meanwhile
        assert exit_state.code == 0
        output = b"".join([payload async for payload in engine.output(handle)])
        await engine.remove(handle)
    finally:
        await engine.destroy(stage)
    lines = [line for line in output.split(b"\n") if not line.startswith(b"+ ")]  # the shell's trace
    assert lines.count(b"done") == 1  # on stderr: where among stdout's last lines is Docker's choice
    lines.remove(b"done")
    assert lines == [b"%09d %s" % (n, b"0" * 89) for n in range(LINES)] + [b""]

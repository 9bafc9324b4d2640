"""Signals around a clean-up: SIGTERM unwinding like Ctrl-C, and a clean-up that Ctrl-C does not cut short."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType


@contextlib.contextmanager
def stopped_at_exit() -> Iterator[None]:
    """Within the block, SIGTERM unwinds like Ctrl-C (so the clean-ups in `finally` run)."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """Within the block, Ctrl-C and SIGTERM wait (the clean-up finishes), then act as usual."""
    pending: list[int] = []
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in handlers:
        signal.signal(sig, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        if pending:
            raise KeyboardInterrupt

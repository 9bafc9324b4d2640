"""The garbage collector's settings for a process that keeps what its start-up made until it ends (server,
worker, runner daemon, `hangar exec`)."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000
"""Allocations between two collections of the youngest generation (Python's default: 700). A log batch
parses into thousands of small objects, none of them in a cycle: at 700 each 5,000-line batch set off
several young collections that found nothing to free. bench.log_ingest (100 MB): `hangar up` made 3,450
collections (0.56-0.75 CPU-s) -> 480 (0.51); at 50,000: 383 (0.31-0.35 CPU-s), but its peak RSS grew by
2-3 MiB (garbage in cycles waits longer), which bench.big_log's 150 MiB goal has no room for."""


def settle_start_up(*, collect: bool = True) -> None:
    """Collect once (unless `collect` is False: a short command whose start-up made little garbage, where a
    collection, ~20 ms, would only delay the work), move everything alive out of the collector's sight
    (gc.freeze: its full collections no longer walk the modules, schemas and services), and collect the young
    generation less often."""
    if collect:
        gc.collect()
    gc.freeze()
    _collect_young_less_often()


def _collect_young_less_often() -> None:
    """Collect the youngest generation every `YOUNG_THRESHOLD` allocations (the older ones as they were)."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)

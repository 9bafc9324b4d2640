"""glibc's allocator, tuned so that the server hands memory back: reading long logs must not grow it."""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3
"""glibc's mallopt() parameter: allocations of at least this many bytes get their own mapping."""
MMAP_THRESHOLD_BYTES = 128 * 1024
M_ARENA_MAX = -8
"""glibc's mallopt() parameter: how many malloc arenas threads may use."""
ARENA_MAX = 2


def keep_memory_compact() -> bool:
    """Pin glibc's mmap threshold at 128 KiB and use 2 malloc arenas; True when set (False off glibc).

    glibc raises the threshold each time such a buffer is freed (up to 32 MiB), after which buffers of a
    few hundred KiB, like a log chunk's JSON read from the database, come from the heap, which fragments and
    never shrinks: the server's memory grew by about half of every long log read. Pinned, they are unmapped
    when freed.

    Arenas: each thread (aiosqlite runs one per database connection) may otherwise get an arena of its own,
    whose freed memory stays with it: 2 arenas cut the peak RSS with a 100 MB log and 3 viewers from 151 to
    143 MiB (bench/big_log.py).
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(mallopt(M_ARENA_MAX, ARENA_MAX))

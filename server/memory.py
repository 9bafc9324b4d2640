"""Large buffers are handed back to the system when freed, so reading long logs does not grow the server."""

from __future__ import annotations

import ctypes
import ctypes.util

M_MMAP_THRESHOLD = -3
"""glibc's mallopt() parameter: allocations of at least this many bytes get their own mapping."""
MMAP_THRESHOLD_BYTES = 128 * 1024


def return_large_buffers() -> bool:
    """Pin glibc's mmap threshold at 128 KiB; True when set (False off glibc, where nothing is changed).

    glibc raises the threshold each time such a buffer is freed (up to 32 MiB), after which buffers of a
    few hundred KiB, like a log chunk's JSON read from the database, come from the heap, which fragments and
    never shrinks: the server's memory grew by about half of every long log read. Pinned, they are unmapped
    when freed.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))

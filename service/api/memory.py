"""Keep the C allocator from holding on to the memory a large request used.

glibc's ``malloc`` gives an allocation above its mmap threshold (128 KiB at start) a mapping of its
own and unmaps it when it is freed. But each such free raises the threshold to the size freed (up to
32 MiB): after the first 10,000-workload batch, the multi-megabyte buffers of every later one (its
body, its answer) come from the heap instead, which glibc keeps, so a worker stayed ~30 MB above
idle after batch load. Setting the threshold once turns that adjustment off; it is what
``MALLOC_MMAP_THRESHOLD_=131072`` in the environment does, set by the process itself so that every
way of starting it (``serve``, a worker, a container) gets it.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: glibc's ``M_MMAP_THRESHOLD`` parameter of ``mallopt`` (malloc.h).
_M_MMAP_THRESHOLD = -3
#: glibc's own starting value: allocations from 128 KiB up get a mapping of their own, always.
MMAP_THRESHOLD_BYTES = 128 * 1024


def fix_mmap_threshold(size: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold at ``size`` bytes; True if it was set.

    Does nothing (False) off Linux, on a C library without ``mallopt`` or one that refuses it (musl),
    or when the operator chose a threshold in the environment already (which glibc read at start-up).
    """
    if sys.platform != "linux" or "MALLOC_MMAP_THRESHOLD_" in os.environ or \
            "mmap_threshold" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, size))

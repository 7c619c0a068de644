"""After a large request the memory goes back to the system: glibc's mmap threshold stays fixed.

Checked in fresh interpreters, the way a batch's buffers behave: a large buffer freed, then a
slightly smaller one made and freed. With glibc's default (its threshold follows the first free up),
the second comes from the heap and stays resident; with the threshold fixed it is unmapped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

_PROBE = """
import json
{setup}

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

first = b"x" * (8 << 20)
del first
before = rss()
second = b"y" * (6 << 20)
del second
print(json.dumps({{"fixed": fixed, "kept_mb": (rss() - before) / (1 << 20)}}))
"""


FIX = "from service.api import memory\nfixed = memory.fix_mmap_threshold()"
#: How the served app starts in a worker.
SERVED = """from pricing import Catalog
from service.api.current import CurrentCatalog
from service.api.server import serving_app
from service.api.settings import Settings
serving_app(CurrentCatalog(Catalog.default()), Settings())
fixed = None"""


def kept_after_a_second_large_buffer(setup: str, **env: str) -> dict[str, float]:
    clean = {k: v for k, v in os.environ.items() if k not in ("MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")}
    out = subprocess.run([sys.executable, "-c", _PROBE.format(setup=setup)], check=True, capture_output=True,
                         text=True, env={**clean, **env}, timeout=120)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def test_with_the_threshold_fixed_a_large_buffer_is_given_back() -> None:
    got = kept_after_a_second_large_buffer(FIX)
    assert got["fixed"] is True
    assert got["kept_mb"] < 1


def test_without_it_glibc_keeps_the_buffer() -> None:
    # The probe can tell: glibc's default keeps the 6 MB in the heap.
    assert kept_after_a_second_large_buffer("fixed = False")["kept_mb"] > 5


def test_a_threshold_the_operator_set_is_left_alone() -> None:
    got = kept_after_a_second_large_buffer(FIX, MALLOC_MMAP_THRESHOLD_="131072")
    assert got["fixed"] is False
    assert got["kept_mb"] < 1  # glibc read the operator's value at start-up


def test_the_served_app_fixes_it_in_its_process() -> None:
    # serving_app is what each worker (and a single-worker serve) builds the app with.
    assert kept_after_a_second_large_buffer(SERVED)["kept_mb"] < 1

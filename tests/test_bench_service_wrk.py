"""benchmarks/bench_service.py reads wrk's report (every unit wrk writes, its padding, a missing line), and
bench_guard.py runs."""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from bench_service import parse_wrk

# As wrk 4.1 prints it: a one-letter unit is padded with a space to the width of a two-letter one.
SLOW_BATCH = "\n".join([
    "Running 10s test @ http://127.0.0.1:8000/v1/quotes/batch",
    "  1 threads and 4 connections",
    "  Thread Stats   Avg      Stdev     Max   +/- Stdev",
    "    Latency     1.62s   310.12ms   2.31s    70.00%",
    "  Latency Distribution",
    "     50%    1.58s ",
    "     75%    1.80s ",
    "     90%    2.05s ",
    "     99%    2.31s ",
    "  25 requests in 10.02s, 171.42MB read",
    "Requests/sec:      2.49",
    "Transfer/sec:     17.10MB",
    "",
])

FAST_QUOTES = """  Latency Distribution
     50%  613.46us
     75%  725.58us
     90%    1.20ms
     99%    3.79ms
  120000 requests in 10.00s, 90.00MB read
Requests/sec:  12000.50
"""


def test_seconds_padded_with_a_space_are_read() -> None:
    got = parse_wrk(SLOW_BATCH)
    assert got == {"rps": 2.49, "p50_ms": 1580.0, "p99_ms": 2310.0, "requests": 25.0}


def test_microseconds_and_milliseconds_are_read() -> None:
    got = parse_wrk(FAST_QUOTES)
    assert got["rps"] == 12000.5
    assert math.isclose(got["p50_ms"], 0.61346) and got["p99_ms"] == 3.79


def test_minutes_are_read() -> None:
    assert parse_wrk("     50%    1.05m \n     99%    2.00m \nRequests/sec:      0.10\n")["p99_ms"] == 120_000.0


def test_a_report_without_a_99th_percentile_is_not_a_crash() -> None:
    got = parse_wrk("     50%    1.58s \nRequests/sec:      2.49\n")
    assert got["p50_ms"] == 1580.0 and math.isnan(got["p99_ms"])


def test_the_guard_benchmark_prints_its_contenders_and_pieces() -> None:
    import subprocess

    bench = Path(__file__).resolve().parent.parent / "benchmarks"
    proc = subprocess.run([sys.executable, str(bench / "bench_guard.py"), "--rounds", "1", "--requests", "20", "--parts"],
                          capture_output=True, text=True, timeout=120, cwd=bench.parent)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for row in ("| bare |", "| app |", "| guarded |", "| Catalog.quote", "| encode the itemised Quote"):
        assert row in proc.stdout, proc.stdout

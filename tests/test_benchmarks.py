"""Smoke tests of the benchmark scripts: each runs with tiny counts and prints its tables.

They keep the scripts from rotting as the engine and the service change; they measure nothing.
genai-prices and litellm are the optional ``bench`` extra: where they are installed, their rows must
carry numbers; where not, the rows must say so.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

from workloads import TARGETS, TIER_THRESHOLD, generate  # noqa: E402


def _run(script: str, *args: str, timeout: float = 60) -> str:
    proc = subprocess.run([sys.executable, str(BENCH / script), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=BENCH.parent)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _row(output: str, label: str) -> str:
    rows = [line for line in output.splitlines() if line.startswith("|") and label in line]
    assert rows, f"no table row mentions {label!r}:\n{output}"
    return rows[0]


def test_workloads_are_reproducible_and_valid() -> None:
    first, again, other = generate(64, seed=7), generate(64, seed=7), generate(64, seed=8)
    assert first == again
    assert first != other
    assert {bw.target for bw in first} == set(TARGETS)
    for bw in first:
        w = bw.workload
        assert w.model == bw.target.model and w.at in bw.target.instants and w.requests == 1
        assert w.cached_input_tokens + w.cache_write_tokens <= w.input_tokens <= bw.target.max_prompt
        assert bw.target.cache_writes or w.cache_write_tokens == 0
    # The long-context tiers are exercised on both sides of the threshold and exactly at it.
    prompts = [bw.workload.input_tokens for bw in generate(400) if bw.target.tiered]
    assert TIER_THRESHOLD in prompts
    assert any(p > TIER_THRESHOLD for p in prompts) and any(p < TIER_THRESHOLD for p in prompts)


def test_engine_benchmark_prints_its_tables() -> None:
    out = _run("bench_engine.py", "--workloads", "24", "--rounds", "1", "--sample-ms", "1")
    assert out.startswith("## Engine")
    for heading in ("### Time per quote", "### Do the prices agree?", "| contender | us/quote (median) |"):
        assert heading in out
    number = re.compile(r"\| \d+\.\d\d \|")
    for label in ("plain Decimal arithmetic", "`Catalog.quote`", "`Workload(...)` built"):
        assert number.search(_row(out, label)), _row(out, label)
    for dist, module, label in (("genai-prices", "genai_prices", "genai-prices `calc_price`"),
                                ("litellm", "litellm", "litellm `cost_per_token`")):
        row = _row(out, label)
        assert importlib.util.find_spec(module) is not None, f"{dist} is in the dev extra"
        assert number.search(row), row
        assert _row(out, f"| {dist} ")  # its line in the agreement table
    assert "MISMATCH" not in out.split("### Do the prices agree?")[1].replace("MISMATCH (same rates)", "")


def test_startup_benchmark_prints_its_tables() -> None:
    out = _run("bench_startup.py", "--runs", "1", "--no-libs", "--load-seconds", "0.3", "--clients", "2",
               "--batch", "50")
    assert out.startswith("## Start-up")
    assert re.search(r"\| `import pricing` \| \+-?\d+\.\d ms \(best \+-?\d+\.\d\) \| \d+\.\d ms \| "
                     r"\d+\.\d ms \| \d+\.\d ms", out), out
    assert re.search(r"\| `pricing` \| \d+\.\d MB \| \d+\.\d MB \| \d+\.\d MB", out), out
    service = out.split("### The service's resident memory")[1]
    # The service is installed (make install): it must really have been measured, idle and under both loads.
    assert Path(sys.executable).with_name("inference-cost").exists()
    assert re.search(r"\| idle, .* \| \d+\.\d MB \|", service), service
    assert service.count("under load:") == 2, service


def test_projection_benchmark_prints_its_ratio() -> None:
    out = _run("bench_projection.py", "--rounds", "1")
    assert re.search(r"\| [\d.]+x \|", _row(out, "hour-by-hour shaped projection"))
    assert "stretches: " in out


def test_usage_benchmark_prints_its_table() -> None:
    out = _run("bench_usage.py", "--rows", "2000", "--python-rows", "500", timeout=300)
    assert out.startswith("## Usage pricing (2,000 rows")
    number = re.compile(r"\| [\d,]+ \| \d+\.\d\d \| [\d,]+ \| \d+ \|")
    for label in ("naive DuckDB", "duckdb engine", "python engine"):
        assert number.search(_row(out, label)), _row(out, label)
    assert "duckdb engine / naive" in out


def test_the_bare_server_of_the_service_benchmark_starts() -> None:
    """bench_service.py's reference server imports what it measures against (a broken import would
    only show when someone runs the benchmark)."""
    proc = subprocess.run([sys.executable, str(BENCH / "bench_server.py")], capture_output=True, text=True,
                          timeout=60, cwd=BENCH.parent)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "usage: bench_server.py" in proc.stdout + proc.stderr

"""Throughput of the quote service against a bare Litestar endpoint, under wrk.

Starts two servers with the same settings (service/server.py: uvicorn, uvloop, httptools, one
worker, no access log): the service, and a bare app whose handlers decode the same body with the
same msgspec decoder and answer a constant (benchmarks/bench_server.py). wrk then loads each in
turn, alternating, with the same threads, connections and duration:

- ``POST /v1/quotes`` with one workload: target, the service at >= 0.85 of the bare requests/s;
- ``POST /v1/quotes/batch`` with 10,000 workloads: target, >= 100,000 priced workloads/s.

Prints requests/s and p50/p99 latency of each round, the medians, and the ratio. Not a test: run it
by hand (`.venv/bin/python benchmarks/bench_service.py`); it skips when wrk is absent
(`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
AT = "2025-03-01T17:00:00Z"  # inside DeepSeek's off-peak window: the quote path checks a window too
ONE = {"model": "deepseek-reasoner", "input_tokens": 1_200_000, "cached_input_tokens": 200_000,
       "output_tokens": 350_000, "requests": 3, "at": AT}
#: wrk's latency units, in milliseconds (it writes minutes and hours past 60 s).
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
# wrk pads a one-letter unit with a space ("99%    2.31s "): the line may end in blanks.
_PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
#: Seconds wrk waits for an answer before it counts a timeout (its default, 2 s, drops a slow batch
#: from the latency figures altogether).
WRK_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(kind: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, str(HERE / "bench_server.py"), kind, str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{kind} server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{kind} server did not answer on port {port} within 30 s")


def batch_body(size: int) -> dict[str, object]:
    """``size`` varied workloads on every model that has a price at ``AT`` (so all are 200s)."""
    from datetime import datetime as dt

    from pricing import Catalog, PricingError

    catalog = Catalog.default()
    at = dt.fromisoformat(AT.replace("Z", "+00:00"))
    names = []
    for m in catalog.models():
        try:
            catalog.period_at(f"{m.provider}/{m.id}", at)
            names.append(f"{m.provider}/{m.id}")
        except PricingError:
            continue
    workloads = [{"model": names[i % len(names)], "input_tokens": 1000 + i, "cached_input_tokens": i % 1000,
                  "output_tokens": 500 + i % 7919, "requests": 1 + i % 10, "at": AT} for i in range(size)]
    return {"workloads": workloads}


def lua(name: str, body: dict[str, object]) -> Path:
    WORK.mkdir(exist_ok=True)
    data = WORK / f"{name}.json"
    data.write_text(json.dumps(body, separators=(",", ":")))
    script = WORK / f"{name}.lua"
    script.write_text(
        f'local f = io.open("{data}", "rb")\nwrk.body = f:read("*a")\nf:close()\n'
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
    return script


def parse_wrk(out: str) -> dict[str, float]:
    """Requests/s and the p50/p99 latency (ms; NaN when wrk printed no such line) of a ``wrk --latency`` report."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rps is None:
        raise SystemExit(f"wrk printed no Requests/sec line:\n{out}")
    lat = {p: float(v) * _UNITS[u] for p, v, u in _PERCENTILE.findall(out)}
    return {"rps": float(rps.group(1)), "p50_ms": lat.get("50", math.nan), "p99_ms": lat.get("99", math.nan)}


def wrk(url: str, script: Path, threads: int, connections: int, seconds: int) -> dict[str, float]:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={WRK_TIMEOUT_SECONDS}s",
           "--latency", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"{url}: {m.group(1)} error responses: the benchmark would measure errors\n{out}")
    if errors := re.search(r"Socket errors:.*", out):
        print(f"  note: wrk reported {errors.group(0)}")
    return parse_wrk(out)


def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    libs = ", ".join(f"{p} {version(p)}" for p in ("litestar", "uvicorn", "uvloop", "httptools", "msgspec"))
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    try:
        load = ", ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    return [f"- machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}; "
            f"load average before the run {load}",
            f"- Python {platform.python_version()}; {libs}; wrk {wrk_version}",
            f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
            f"- command: `{' '.join(['.venv/bin/python', 'benchmarks/bench_service.py', *sys.argv[1:]])}`"]


Result = dict[str, float]


def scenario(title: str, path: str, script: Path, ports: dict[str, int], args: argparse.Namespace,
             connections: int, per_request: int) -> dict[str, Result]:
    """Alternating wrk runs on the bare app and the service; prints a table, returns the medians."""
    print(f"\n### {title}\n")
    print(f"wrk -t{args.threads} -c{connections} -d{args.seconds}s --latency, {args.rounds} rounds, "
          "bare and service alternating (after a 2 s warm-up of each)\n")
    unit = "workloads/s" if per_request > 1 else "requests/s"
    print(f"| round | app | requests/s | {'workloads/s | ' if per_request > 1 else ''}p50 | p99 |")
    print(f"|---|---|---|{'---|' if per_request > 1 else ''}---|---|")
    runs: dict[str, list[Result]] = {"bare": [], "service": []}
    for kind in ("bare", "service"):  # warm-up, not counted
        wrk(f"http://127.0.0.1:{ports[kind]}{path}", script, args.threads, connections, 2)

    def row(label: str, kind: str, res: Result) -> None:
        per = f"{res['rps'] * per_request:,.0f} | " if per_request > 1 else ""
        print(f"| {label} | {kind} | {res['rps']:,.0f} | {per}{res['p50_ms']:.2f} ms | {res['p99_ms']:.2f} ms |",
              flush=True)

    for r in range(args.rounds):
        for kind in ("bare", "service"):
            res = wrk(f"http://127.0.0.1:{ports[kind]}{path}", script, args.threads, connections, args.seconds)
            runs[kind].append(res)
            row(str(r + 1), kind, res)
    medians = {kind: {k: statistics.median(x[k] for x in rs) for k in ("rps", "p50_ms", "p99_ms")}
               for kind, rs in runs.items()}
    for kind, m in medians.items():
        row("**median**", f"**{kind}**", m)
    ratio = medians["service"]["rps"] / medians["bare"]["rps"]
    print(f"\nservice / bare ({unit}, medians): **{ratio:.3f}**")
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each measured wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per scenario")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections for POST /v1/quotes")
    parser.add_argument("--batch-size", type=int, default=10_000, help="workloads per batch request")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("SKIP: wrk is not installed (Debian: apt-get install wrk); nothing was measured")
        return 0
    print("\n".join(machine()))
    ports = {"bare": free_port(), "service": free_port()}
    procs = [start(kind, port) for kind, port in ports.items()]
    try:
        quotes = scenario("`POST /v1/quotes`, one workload", "/v1/quotes", lua("one", ONE), ports, args,
                          args.connections, 1)
        batch = scenario(f"`POST /v1/quotes/batch`, {args.batch_size:,} workloads a request", "/v1/quotes/batch",
                         lua("batch", batch_body(args.batch_size)), ports, args, 4, args.batch_size)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=15)
    ratio = quotes["service"]["rps"] / quotes["bare"]["rps"]
    per_second = batch["service"]["rps"] * args.batch_size
    print("\n### Targets\n")
    print(f"- `POST /v1/quotes` at {ratio:.3f} of the bare endpoint's requests/s; target >= 0.85: "
          f"{'met' if ratio >= 0.85 else 'MISSED'}")
    print(f"- `POST /v1/quotes/batch` at {per_second:,.0f} priced workloads/s on one worker; target >= 100,000: "
          f"{'met' if per_second >= 100_000 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

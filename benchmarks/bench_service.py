"""Throughput of the quote service against a bare Litestar endpoint under wrk, its scaling over
workers, and its memory under batch load.

Starts servers with the same settings (service/server.py: uvicorn, uvloop, httptools, no access
log): the service, and a bare app whose handlers decode the same body with the same msgspec
decoder and answer a constant (benchmarks/bench_server.py). wrk then loads them in turn,
alternating, with the same threads, connections and duration. Scenarios (``--scenarios``, default
``quotes,batch``):

- ``quotes``: ``POST /v1/quotes`` with one workload, bare and service (one worker each): target,
  the service at >= 0.95 of the bare requests/s;
- ``batch``: ``POST /v1/quotes/batch`` with 10,000 workloads: target, >= 100,000 priced workloads/s;
- ``workers``: ``POST /v1/quotes`` on the service with 1 and with 2 workers (the load generator
  shares the machine's cores);
- ``memory``: the resident memory of ``inference-cost serve``'s process tree (sampled every 50 ms)
  idle, under single quotes, and under four connections sending 10,000-workload batches back to
  back, then while it settles: target, peak under 80 MB and back near idle after.

Each run also reads the CPU time the server's processes used (``/proc``, with psutil), so the
table shows CPU microseconds per request: on a machine shared with other jobs that is steadier
than requests/s, which mostly measure the other jobs. Not a test: run it by hand
(`.venv/bin/python benchmarks/bench_service.py`); it skips when wrk is absent (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import contextlib
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
import threading
import time
import urllib.request
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

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


def start(kind: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, str(HERE / "bench_server.py"), kind, str(port), str(workers)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{kind} server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{kind} server did not answer on port {port} within 60 s")


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
    done = re.search(r"^\s*(\d+) requests in", out, re.M)
    return {"rps": float(rps.group(1)), "p50_ms": lat.get("50", math.nan), "p99_ms": lat.get("99", math.nan),
            "requests": float(done.group(1)) if done else math.nan}


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


def tree(pid: int) -> list[Any]:
    """The psutil processes of ``pid`` and its descendants (the supervisor and its workers)."""
    import psutil  # installed with the dev extra (locust depends on it)

    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid``'s process tree."""
    import psutil

    total = 0.0
    for proc in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid``'s process tree."""
    import psutil

    total = 0
    for proc in tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total


def measured(url: str, script: Path, threads: int, connections: int, seconds: int, pid: int) -> Result:
    """One wrk run, with the CPU microseconds the server's processes spent per request."""
    before = cpu_seconds(pid)
    res = wrk(url, script, threads, connections, seconds)
    res["cpu_us"] = (cpu_seconds(pid) - before) / res["requests"] * 1e6 if res["requests"] else math.nan
    return res


def scenario(title: str, path: str, script: Path, servers: dict[str, tuple[int, int]], args: argparse.Namespace,
             connections: int, per_request: int) -> dict[str, Result]:
    """Alternating wrk runs on each of ``servers`` (label: (port, pid)); prints a table, returns the
    medians. The ratio printed is the last server's against the first's."""
    kinds = list(servers)
    print(f"\n### {title}\n")
    print(f"wrk -t{args.threads} -c{connections} -d{args.seconds}s --latency, {args.rounds} rounds, "
          f"{' and '.join(kinds)} alternating (after a 2 s warm-up of each)\n")
    unit = "workloads/s" if per_request > 1 else "requests/s"
    print(f"| round | app | requests/s | {'workloads/s | ' if per_request > 1 else ''}p50 | p99 | server CPU per request |")
    print(f"|---|---|---|{'---|' if per_request > 1 else ''}---|---|---|")
    runs: dict[str, list[Result]] = {kind: [] for kind in kinds}
    for kind in kinds:  # warm-up, not counted
        wrk(f"http://127.0.0.1:{servers[kind][0]}{path}", script, args.threads, connections, 2)

    def row(label: str, kind: str, res: Result) -> None:
        per = f"{res['rps'] * per_request:,.0f} | " if per_request > 1 else ""
        cpu = f"{res['cpu_us'] / 1000:,.1f} ms" if per_request > 1 else f"{res['cpu_us']:,.0f} us"
        print(f"| {label} | {kind} | {res['rps']:,.0f} | {per}{res['p50_ms']:.2f} ms | {res['p99_ms']:.2f} ms | {cpu} |",
              flush=True)

    for r in range(args.rounds):
        for kind in kinds:
            port, pid = servers[kind]
            res = measured(f"http://127.0.0.1:{port}{path}", script, args.threads, connections, args.seconds, pid)
            runs[kind].append(res)
            row(str(r + 1), kind, res)
    medians = {kind: {k: statistics.median(x[k] for x in rs) for k in ("rps", "p50_ms", "p99_ms", "cpu_us")}
               for kind, rs in runs.items()}
    for kind, m in medians.items():
        row("**median**", f"**{kind}**", m)
    first, last = medians[kinds[0]], medians[kinds[-1]]
    print(f"\n{kinds[-1]} / {kinds[0]} ({unit}, medians): **{last['rps'] / first['rps']:.3f}**; "
          f"CPU per request, {kinds[0]} / {kinds[-1]}: **{first['cpu_us'] / last['cpu_us']:.3f}**")
    return medians


class Servers:
    """Servers started for a scenario, stopped (SIGTERM, then waited for) on exit."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, kind: str, workers: int = 1) -> tuple[int, int]:
        port = free_port()
        proc = start(kind, port, workers)
        self.procs.append(proc)
        return port, proc.pid

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def sample_peak(pid: int, peak: list[int], done: threading.Event) -> None:
    """Keep ``peak[0]`` at the highest RSS of ``pid``'s tree seen every 50 ms, until ``done``."""
    while not done.is_set():
        peak[0] = max(peak[0], rss_bytes(pid))
        time.sleep(0.05)


def memory(args: argparse.Namespace) -> None:
    """RSS of ``inference-cost serve``'s process tree, idle, under quotes, under 4 connections of batches."""
    port = free_port()
    cli = str(Path(sys.executable).with_name("inference-cost"))
    proc = subprocess.Popen([cli, "serve", "--port", str(port), "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("inference-cost serve did not start") from None
                time.sleep(0.1)
        time.sleep(1)
        print("\n### Memory: `inference-cost serve`, one worker (RSS of its process tree, sampled every 50 ms)\n")
        print("| state | requests | RSS | peak | after 0.5 s | after 2 s | after 5 s |")
        print("|---|---|---|---|---|---|---|")
        mb = 1024 * 1024
        idle = rss_bytes(proc.pid)
        print(f"| idle, 1 s after /healthz answered | - | {idle / mb:.1f} MB | - | - | - | - |")
        loads = [("`POST /v1/quotes`, 16 connections", "/v1/quotes", lua("one", ONE), 16),
                 (f"`POST /v1/quotes/batch` of {args.batch_size:,} workloads, 4 connections back to back",
                  "/v1/quotes/batch", lua("batch", batch_body(args.batch_size)), 4)]
        for label, path, script, connections in loads:
            peak = [0]
            done = threading.Event()
            sampler = threading.Thread(target=sample_peak, args=(proc.pid, peak, done))
            sampler.start()
            try:
                res = wrk(f"http://127.0.0.1:{port}{path}", script, args.threads, connections, args.seconds)
            finally:
                done.set()
                sampler.join()
            after = []
            for wait in (0.5, 1.5, 3.0):
                time.sleep(wait)
                after.append(rss_bytes(proc.pid))
            print(f"| {label}, {args.seconds} s | {res['requests']:,.0f} | - | {peak[0] / mb:.1f} MB | "
                  + " | ".join(f"{a / mb:.1f} MB" for a in after) + " |", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


SCENARIOS = ("quotes", "batch", "workers", "memory")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each measured wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per scenario")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections for POST /v1/quotes")
    parser.add_argument("--batch-size", type=int, default=10_000, help="workloads per batch request")
    parser.add_argument("--scenarios", default="quotes,batch",
                        help=f"comma-separated, of {', '.join(SCENARIOS)} (default: quotes,batch)")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    if unknown := sorted(set(chosen) - set(SCENARIOS)):
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    if shutil.which("wrk") is None:
        print("SKIP: wrk is not installed (Debian: apt-get install wrk); nothing was measured")
        return 0
    print("\n".join(machine()))
    targets = []
    if "quotes" in chosen or "batch" in chosen:
        with Servers() as servers:
            pair = {"bare": servers.start("bare"), "service": servers.start("service")}
            if "quotes" in chosen:
                quotes = scenario("`POST /v1/quotes`, one workload", "/v1/quotes", lua("one", ONE), pair, args,
                                  args.connections, 1)
                ratio = quotes["service"]["rps"] / quotes["bare"]["rps"]
                cpu = quotes["bare"]["cpu_us"] / quotes["service"]["cpu_us"]
                targets.append(f"- `POST /v1/quotes` at {ratio:.3f} of the bare endpoint's requests/s ({cpu:.3f} by "
                               f"CPU per request); target >= 0.95: {'met' if ratio >= 0.95 else 'MISSED'}")
            if "batch" in chosen:
                batch = scenario(f"`POST /v1/quotes/batch`, {args.batch_size:,} workloads a request",
                                 "/v1/quotes/batch", lua("batch", batch_body(args.batch_size)), pair, args, 4,
                                 args.batch_size)
                per_second = batch["service"]["rps"] * args.batch_size
                targets.append(f"- `POST /v1/quotes/batch` at {per_second:,.0f} priced workloads/s on one worker; "
                               f"target >= 100,000: {'met' if per_second >= 100_000 else 'MISSED'}")
    if "workers" in chosen:
        with Servers() as servers:
            scaling = {"1 worker": servers.start("service", 1), "2 workers": servers.start("service", 2)}
            scenario("`POST /v1/quotes` on the service, 1 and 2 workers", "/v1/quotes", lua("one", ONE), scaling,
                     args, args.connections, 1)
    if "memory" in chosen:
        memory(args)
    if targets:
        print("\n### Targets\n")
        print("\n".join(targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Start-up cost: import time and resident memory of ``pricing``, and of the service idle and under load.

    .venv/bin/python benchmarks/bench_startup.py                 # under a minute; prints markdown tables
    .venv/bin/python benchmarks/bench_startup.py --runs 21 --load-seconds 20
    .venv/bin/python benchmarks/bench_startup.py --no-libs --no-service   # pricing alone, a few seconds

Every import is measured in a fresh interpreter (imports are cached per process), several times,
and the median is shown:

- wall clock of ``python -c "import pricing"`` minus that of ``python -c pass``, run alternately;
- the cumulative time ``python -X importtime`` reports for the package (it adds its own overhead),
  with the heaviest modules it pulls in;
- ``Catalog.default()`` (reading and validating the shipped TOML) timed inside the child;
- resident memory (VmRSS) of the child after each step.

genai-prices and litellm (the optional ``bench`` extra) are measured the same way for comparison.
The service is started with ``inference-cost serve --port N`` when it is installed; its memory
(the whole process tree) is sampled idle, then under single-quote and batch load from a small
load generator in this process. Without the service that part says so: no number is made up.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from report import environment, table, version
from workloads import DEFAULT_SEED, generate

#: Targets from the issue.
IMPORT_TARGET_MS = 50.0
#: ``import pricing`` plus ``Catalog.default()``, in-process, with the compiled catalog (issue 10).
DEFAULT_TARGET_MS = 25.0
#: Where the "pricing" subject keeps its compiled catalog (warmed before the runs); the TOML
#: subject runs with the cache off, so every run parses and checks the TOML.
_CACHE = tempfile.mkdtemp(prefix="bench-startup-cache-")
SERVICE_RSS_TARGET_MB = 80.0

# Run in the child interpreter: time each step with perf_counter and read VmRSS after it.
_CHILD = r"""
import json, sys, time
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
out = {"rss_start": rss()}
c0 = time.process_time_ns()
t0 = time.perf_counter_ns()
STEP1
t1 = time.perf_counter_ns()
out["import_ms"] = (t1 - t0) / 1e6
out["rss_import"] = rss()
STEP2
out["step2_ms"] = (time.perf_counter_ns() - t1) / 1e6
out["cpu_ms"] = (time.process_time_ns() - c0) / 1e6
out["rss_step2"] = rss()
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Subject:
    """Something to import in a fresh interpreter, and a first use of it (``step2``)."""

    name: str
    module: str
    step2: str
    step2_label: str
    env: tuple[tuple[str, str], ...] = ()
    #: Run once before the measured runs, in the subject's environment (writes the compiled catalog).
    warm: str = ""
    #: Run after warming; it fails (and the benchmark stops) if the subject would not measure what it says.
    check: str = ""
    #: A comparison that takes seconds to import (litellm): measured in --lib-runs runs only.
    few_runs: bool = False
    #: Shown after the import in the tables, to tell two subjects of one module apart.
    label: str = ""


#: The engine only reads its compiled catalog; the shell writes it (as `make install` does).
_COMPILE = "from pricing import Catalog; from service.catalog_cache import save; save(Catalog.default())"
_IS_COMPILED = ("from pricing import Catalog, compiled; assert compiled.read(Catalog.default().digest) is not None, "
                "'no compiled catalog to read: the run would measure the TOML'")

SUBJECTS = {
    # The floor: every Struct of the engine needs msgspec, and msgspec imports typing_extensions,
    # inspect, uuid, decimal and datetime itself.
    "msgspec": Subject("msgspec", "msgspec", "pass", "(nothing)"),
    "pricing": Subject("pricing", "pricing", "from pricing import Catalog; Catalog.default()",
                       "`Catalog.default()` (compiled)", env=(("INFERENCE_COST_CACHE_DIR", _CACHE),),
                       warm=_COMPILE, check=_IS_COMPILED),
    "pricing-toml": Subject("pricing-toml", "pricing", "from pricing import Catalog; Catalog.default()",
                            "`Catalog.default()` (TOML, cache off)", env=(("INFERENCE_COST_CACHE_DIR", "off"),)),
    "genai-prices": Subject(
        "genai-prices", "genai_prices",
        "import datetime; genai_prices.calc_price(genai_prices.Usage(input_tokens=1000, output_tokens=100), "
        "'gpt-4o', provider_id='openai', genai_request_timestamp=datetime.datetime(2025, 3, 1, "
        "tzinfo=datetime.timezone.utc))",
        "first `calc_price`", few_runs=True),
    # litellm fetches its price map at import unless told not to: measure it offline.
    "litellm": Subject("litellm", "litellm",
                       "litellm.cost_per_token(model='gpt-4o', prompt_tokens=1000, completion_tokens=100)",
                       "first `cost_per_token`", env=(("LITELLM_LOCAL_MODEL_COST_MAP", "True"),), few_runs=True),
}


def against(source: Path) -> Subject:
    """The "pricing" subject for another copy of the project's source (``--against``), measured in the
    same runs: before and after a change, on a machine whose speed drifts from one run to the next."""
    cache = tempfile.mkdtemp(prefix="bench-startup-against-")
    # PYTHONSAFEPATH: `-c` would otherwise put the current folder (this checkout) before PYTHONPATH.
    env = (("PYTHONPATH", str(source.resolve())), ("PYTHONSAFEPATH", "1"), ("INFERENCE_COST_CACHE_DIR", cache))
    return Subject("pricing-against", "pricing", "from pricing import Catalog; Catalog.default()",
                   "`Catalog.default()` (compiled)", env=env, warm=_COMPILE,
                   check=_IS_COMPILED + f"; import pricing; assert pricing.__file__.startswith({str(source.resolve())!r})",
                   label=f"`{source}`")


def _env(subject: Subject | None) -> dict[str, str]:
    env = dict(os.environ)
    # An installed package has its bytecode; without it every import compiles the sources again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(subject.env if subject else ())
    return env


def _prepare(code: str, env: dict[str, str]) -> None:
    """Run ``code`` once; stop the benchmark with its error if it fails (a check, a warm-up)."""
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"bench_startup: preparing failed: {code}\n{proc.stderr.strip()}")


def _wall_ms(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter_ns()
    subprocess.run([sys.executable, "-c", code], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter_ns() - start) / 1e6


@dataclass
class _Node:
    name: str
    cumulative_us: float
    children: list[_Node] = field(default_factory=list)


def _importtime(subject: Subject) -> tuple[float, list[tuple[float, str]]]:
    """The cumulative microseconds ``-X importtime`` gives the module, and the heaviest modules from
    outside the package that it imports (by their cumulative time): where an import could be deferred."""
    return _importtime_of(f"import {subject.module}", _env(subject), (subject.module,))


def _importtime_of(code: str, env: dict[str, str], packages: Sequence[str]) -> tuple[float, list[tuple[float, str]]]:
    """``_importtime`` of running ``code``: the cumulative microseconds of the ``packages``' modules it
    imports first (roots of the import tree), and the heaviest modules from outside ``packages`` they import."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                          env=env, check=True, capture_output=True, text=True)
    # The lines come children first; the indent of the name (two spaces a level) gives the nesting.
    pending: dict[int, list[_Node]] = {}
    roots: list[_Node] = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _self_us, cum_us, raw_name = line[len("import time:"):].split("|")
        depth = (len(raw_name) - len(raw_name.lstrip()) - 1) // 2
        node = _Node(raw_name.strip(), float(cum_us), pending.pop(depth + 1, []))
        pending.setdefault(depth, []).append(node)
        if depth == 0:
            roots.append(node)
    def own(name: str) -> bool:
        return any(name == p or name.startswith(p + ".") for p in packages)

    # Modules imported from a function (each command's module, by build_parser) are roots too.
    mine = [r for r in roots if own(r.name)]
    if not mine:
        return float("nan"), []
    external: list[tuple[float, str]] = []
    stack = list(mine)
    while stack:
        node = stack.pop()
        for child in node.children:
            if own(child.name):
                stack.append(child)
            else:
                external.append((child.cumulative_us, child.name))
    external.sort(reverse=True)
    return sum(r.cumulative_us for r in mine), external[:6]


@dataclass
class ImportResult:
    subject: Subject
    wall_ms: list[float] = field(default_factory=list)
    inproc_ms: list[float] = field(default_factory=list)
    importtime_ms: list[float] = field(default_factory=list)
    step2_ms: list[float] = field(default_factory=list)
    #: CPU time of import and first use together: less disturbed than wall clock by other processes.
    cpu_ms: list[float] = field(default_factory=list)
    rss_start: list[float] = field(default_factory=list)
    rss_import: list[float] = field(default_factory=list)
    rss_step2: list[float] = field(default_factory=list)
    heaviest: list[tuple[float, str]] = field(default_factory=list)


def measure_imports(subjects: Sequence[Subject], runs: int, lib_runs: int
                    ) -> tuple[list[float], list[ImportResult]]:
    base_env = _env(None)
    # Warm the page cache and write the .pyc files first: a first-ever import compiles sources.
    _wall_ms("pass", base_env)
    for s in subjects:
        for code in (s.warm, f"import {s.module}; {s.step2}", s.check):
            if code:
                _prepare(code, _env(s))
    baseline: list[float] = []
    results = [ImportResult(s) for s in subjects]
    for run in range(runs):
        # Alternate baseline and subjects so drift on a shared machine hits both alike.
        baseline.append(_wall_ms("pass", base_env))
        for r in results:
            if r.subject.few_runs and run >= lib_runs:
                continue  # litellm takes seconds to import: fewer runs of the comparisons
            r.wall_ms.append(_wall_ms(f"import {r.subject.module}", _env(r.subject)))
            child = _CHILD.replace("STEP1", f"import {r.subject.module}").replace("STEP2", r.subject.step2)
            proc = subprocess.run([sys.executable, "-c", child], env=_env(r.subject), check=True,
                                  capture_output=True, text=True)
            data = json.loads(proc.stdout.strip().splitlines()[-1])
            r.inproc_ms.append(data["import_ms"])
            r.step2_ms.append(data["step2_ms"])
            r.cpu_ms.append(data["cpu_ms"])
            r.rss_start.append(data["rss_start"])
            r.rss_import.append(data["rss_import"])
            r.rss_step2.append(data["rss_step2"])
            if not r.subject.few_runs or run == 0:  # litellm's -X importtime run alone takes seconds
                cumulative, heaviest = _importtime(r.subject)
                r.importtime_ms.append(cumulative / 1000)
                r.heaviest = heaviest
    return baseline, results


# -- the command line ------------------------------------------------------------------------------

#: A quote from the command line, as a user types it (a fixed instant: the same price every run).
CLI_ARGS = ("quote", "deepseek-reasoner", "--output", "1M", "--at", "2025-01-31T12:00:00Z")


@dataclass
class CliResult:
    todo: str | None = None
    baseline_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)
    #: The same command run from the ``--against`` source, alternately with this one.
    against: Subject | None = None
    against_ms: list[float] = field(default_factory=list)
    #: What ``-X importtime`` gives the project's modules the command imports, in microseconds.
    importtime_us: float = float("nan")
    #: The heaviest modules from outside the project they import (cumulative microseconds, one run).
    heaviest: list[tuple[float, str]] = field(default_factory=list)


def _timed_ms(command: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter_ns()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter_ns() - start) / 1e6


def measure_cli(runs: int, other: Subject | None = None) -> CliResult:
    """Wall clock of ``inference-cost quote ...`` (a fresh process each time) against ``python -c pass``."""
    script = Path(sys.executable).with_name("inference-cost")
    if not script.exists():
        return CliResult(todo=f"TODO: `{script}` is not installed; the command line is not measured")
    env = _env(SUBJECTS["pricing"])  # the compiled catalog, as after `make install`
    command = [str(script), *CLI_ARGS]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    result = CliResult(against=other)
    if other is not None:
        subprocess.run(command, env=_env(other), check=True, stdout=subprocess.DEVNULL)
    for _ in range(runs):
        result.baseline_ms.append(_wall_ms("pass", env))
        result.wall_ms.append(_timed_ms(command, env))
        if other is not None:
            result.against_ms.append(_timed_ms(command, _env(other)))
    code = f"from service.cli import main; main({list(CLI_ARGS)!r})"
    result.importtime_us, result.heaviest = _importtime_of(code, env, ("service", "pricing"))
    return result


def report_cli(cli: CliResult) -> None:
    print("\n### The command line (`inference-cost quote`, a fresh process each time)\n")
    if cli.todo:
        print(cli.todo)
        return
    base, wall = _med(cli.baseline_ms), _med(cli.wall_ms)
    rows = [["`python -c pass`", f"{base:.1f} ms (best {min(cli.baseline_ms):.1f})", "-"],
            [f"`inference-cost {' '.join(CLI_ARGS)}`", f"{wall:.1f} ms (best {min(cli.wall_ms):.1f})",
             f"+{wall - base:.1f} ms"]]
    if cli.against is not None and cli.against_ms:
        other = _med(cli.against_ms)
        rows.append([f"the same, from {cli.against.label}", f"{other:.1f} ms (best {min(cli.against_ms):.1f})",
                     f"+{other - base:.1f} ms; this tree takes {wall / other:.2f}x its time"])
    print(table(["command", "wall clock: median (best)", "less the interpreter"], rows))
    heavy = ", ".join(f"{name} {us / 1000:.1f} ms" for us, name in cli.heaviest)
    print(f"\n`-X importtime` of the project's modules the command imports: {cli.importtime_us / 1000:.1f} ms "
          f"(one run); the heaviest modules from outside the project among them: {heavy}")


# -- the service ----------------------------------------------------------------------------------

def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children (uvicorn may fork workers)."""
    import psutil  # installed with the dev extra (locust depends on it)

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):  # a worker may exit while we sum
            total += p.memory_info().rss
    return total / 2**20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None) -> int:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status


@dataclass
class LoadResult:
    label: str
    seconds: float = 0.0
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    rss_peak: float = 0.0
    rss_end: float = 0.0
    errors: list[str] = field(default_factory=list)


def _load(port: int, pid: int, label: str, path: str, bodies: Sequence[bytes], clients: int,
          seconds: float) -> LoadResult:
    """``clients`` keep-alive connections POST ``bodies`` in turn for ``seconds``; RSS sampled meanwhile."""
    result = LoadResult(label)
    stop = threading.Event()
    lock = threading.Lock()

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = k
        try:
            while not stop.is_set():
                status = _request(conn, "POST", path, bodies[i % len(bodies)])
                i += clients
                with lock:
                    result.requests += 1
                    result.statuses[status] = result.statuses.get(status, 0) + 1
        except (OSError, http.client.HTTPException) as exc:
            with lock:
                result.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    while time.perf_counter() - start < seconds:
        result.rss_peak = max(result.rss_peak, _tree_rss_mb(pid))
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    result.seconds = time.perf_counter() - start
    result.rss_peak = max(result.rss_peak, _tree_rss_mb(pid))
    time.sleep(0.5)
    result.rss_end = _tree_rss_mb(pid)
    return result


def _single_bodies(count: int) -> list[bytes]:
    """JSON bodies of single workloads from the seeded benchmark set."""
    fields = ("model", "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens")
    bodies = []
    for bw in generate(count, DEFAULT_SEED):
        doc: dict[str, object] = {f: getattr(bw.workload, f) for f in fields}
        assert bw.workload.at is not None
        doc["at"] = bw.workload.at.isoformat()
        bodies.append(json.dumps(doc).encode())
    return bodies


@dataclass
class ServiceResult:
    todo: str | None = None
    idle_rss: float = 0.0
    loads: list[LoadResult] = field(default_factory=list)
    startup_s: float = 0.0


def _priceable_bodies(port: int, bodies: list[bytes]) -> list[bytes]:
    # Workloads the shipped catalog cannot price would measure the error path: keep the 200s.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        return [b for b in bodies if _request(conn, "POST", "/v1/quotes", b) == 200]
    finally:
        conn.close()


def _wait_until_serving(proc: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> str | None:
    """None once /healthz answers 200; otherwise why the service is not serving."""
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            tail = log.read().decode(errors="replace").strip().splitlines()[-3:]
            return f"`inference-cost serve` exited ({proc.returncode}) before serving: {' / '.join(tail)}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            if _request(conn, "GET", "/healthz") == 200:
                return None
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
        finally:
            conn.close()
    return "`inference-cost serve` did not answer /healthz with 200 within 30 s"


def measure_service(load_seconds: float, clients: int, batch: int, batch_clients: int) -> ServiceResult:
    script = Path(sys.executable).with_name("inference-cost")
    if importlib.util.find_spec("psutil") is None:
        return ServiceResult(todo="TODO: psutil (installed with the dev extra, through locust) is missing: "
                                  "the service's RSS is not measured")
    if not script.exists():
        return ServiceResult(todo=f"TODO: `{script}` is not installed; the service's RSS is not measured")
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        proc = subprocess.Popen([str(script), "serve", "--port", str(port)], stdout=log, stderr=log)
        try:
            problem = _wait_until_serving(proc, port, log)
            if problem:
                return ServiceResult(todo=f"TODO: {problem}")
            result = ServiceResult(startup_s=time.perf_counter() - started)
            time.sleep(1.0)  # let start-up allocations settle
            result.idle_rss = _tree_rss_mb(proc.pid)
            single = _priceable_bodies(port, _single_bodies(240))
            if not single:
                return ServiceResult(todo="TODO: the service priced none of the benchmark workloads (no 200)")
            docs = [json.loads(b) for b in single]
            batch_body = json.dumps({"workloads": [docs[i % len(docs)] for i in range(batch)]}).encode()
            result.loads.append(_load(port, proc.pid, f"`POST /v1/quotes`, {clients} connection"
                                      f"{'s' if clients > 1 else ''}",
                                      "/v1/quotes", single, clients, load_seconds))
            result.loads.append(_load(port, proc.pid, f"`POST /v1/quotes/batch` of {batch:,} workloads, "
                                      f"{batch_clients} connection{'s' if batch_clients > 1 else ''}", "/v1/quotes/batch", [batch_body],
                                      batch_clients, load_seconds))
            return result
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- report ---------------------------------------------------------------------------------------

def _med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report_imports(baseline: list[float], results: list[ImportResult], runs: int, lib_runs: int) -> None:
    base = _med(baseline)
    print(f"### Import time (a fresh interpreter each time; median of {runs} runs for pricing, "
          f"{lib_runs} for the others)\n")
    rows = [["`python -c pass` (the interpreter alone)", f"{base:.1f} ms (best {min(baseline):.1f})", "-", "-", "-", ""]]
    for r in results:
        wall = _med(r.wall_ms) - base
        goal = ""
        if r.subject.name == "pricing":
            goal = f"target < {IMPORT_TARGET_MS:g} ms: {'met' if wall < IMPORT_TARGET_MS else 'MISSED'}"
        best = min(r.wall_ms) - min(baseline)
        rows.append([f"`import {r.subject.module}`" + (f" ({r.subject.label})" if r.subject.label else ""), f"+{wall:.1f} ms (best +{best:.1f})", f"{_med(r.inproc_ms):.1f} ms",
                     f"{_med(r.importtime_ms):.1f} ms", f"{_med(r.step2_ms):.1f} ms: {r.subject.step2_label}",
                     goal])
    print(table(["what", "wall clock less the interpreter: median (best)", "in-process", "`-X importtime` cumulative",
                 "first use, in-process", "target"], rows))
    floor = next((r for r in results if r.subject.name == "msgspec"), None)
    for r in results:
        if r.subject.name.startswith("pricing"):
            totals = [a + b for a, b in zip(r.inproc_ms, r.step2_ms, strict=True)]
            both = _med(totals)
            verdict = "met" if both < DEFAULT_TARGET_MS else "MISSED"
            of = f" of {r.subject.label}" if r.subject.label else ""
            line = (f"\n- {r.subject.step2_label}{of}: `import pricing` + `Catalog.default()` in-process, median "
                    f"{both:.1f} ms (best {min(totals):.1f}), CPU time {_med(r.cpu_ms):.1f} ms"
                    + (f"; target < {DEFAULT_TARGET_MS:g} ms: {verdict}" if r.subject.name == "pricing" else ""))
            if floor is not None:
                own = both - _med(floor.inproc_ms)
                line += (f"; less `import msgspec` ({_med(floor.inproc_ms):.1f} ms, CPU {_med(floor.cpu_ms):.1f} ms) "
                         f"it is {own:.1f} ms, CPU {_med(r.cpu_ms) - _med(floor.cpu_ms):.1f} ms: "
                         f"{both / _med(floor.inproc_ms):.2f}x msgspec's own import")
            print(line)
    mine = next((r for r in results if r.subject.name == "pricing"), None)
    other = next((r for r in results if r.subject.name == "pricing-against"), None)
    if mine is not None and other is not None:
        def start(r: ImportResult) -> float:
            return _med([a + b for a, b in zip(r.inproc_ms, r.step2_ms, strict=True)])
        print(f"\n- against {other.subject.label} (its compiled catalog, in the same runs): `import pricing` + "
              f"`Catalog.default()` takes {start(mine):.1f} ms here and {start(other):.1f} ms there "
              f"({start(mine) / start(other):.2f}x); CPU time {_med(mine.cpu_ms):.1f} ms and "
              f"{_med(other.cpu_ms):.1f} ms ({_med(mine.cpu_ms) / _med(other.cpu_ms):.2f}x)")
    print("\n`-X importtime` is the median for pricing and one run for the others. `Catalog.default()` "
          "(compiled) reads the compiled catalog the install step wrote after checking it against the TOML's "
          "digest; with the cache off it reads and validates every shipped TOML file. It runs once per process "
          "(cached). The import target is checked on the median wall-clock figure, the most pessimistic one; "
          "the start-up target on the in-process import and first use. `import msgspec` is the floor: every "
          "engine Struct needs it, and its own imports (typing_extensions, inspect, uuid, decimal, datetime) "
          "are most of it. On a shared machine CPU time varies less than wall clock; the ratio to msgspec, "
          "measured in the same runs, least.")
    print("\n### Resident memory (VmRSS of the child interpreter, median)\n")
    rows = [[f"`{r.subject.module}`", f"{_med(r.rss_start):.1f} MB", f"{_med(r.rss_import):.1f} MB",
             f"{_med(r.rss_step2):.1f} MB: {r.subject.step2_label}"] for r in results]
    print(table(["module", "interpreter before import", "after import", "after first use"], rows))
    for r in results:
        heavy = ", ".join(f"{name} {us / 1000:.1f} ms" for us, name in r.heaviest)
        print(f"\nHeaviest imports from outside `{r.subject.module}` (cumulative, one `-X importtime` run): "
              f"{heavy}")


def report_service(service: ServiceResult) -> None:
    print("\n### The service's resident memory (`inference-cost serve`, whole process tree)\n")
    if service.todo:
        print(service.todo)
        return
    ok = max([service.idle_rss, *(ld.rss_peak for ld in service.loads)]) < SERVICE_RSS_TARGET_MB
    rows = [["idle, 1 s after /healthz first answered", "-", "-", f"{service.idle_rss:.1f} MB", "-"]]
    for ld in service.loads:
        statuses = ", ".join(f"{code}: {count:,}" for code, count in sorted(ld.statuses.items()))
        rate = f"{ld.requests / ld.seconds:,.0f}/s" if ld.seconds else "-"
        rows.append([f"under load: {ld.label}, {ld.seconds:.1f} s", f"{ld.requests:,} ({rate})", statuses,
                     f"{ld.rss_peak:.1f} MB peak", f"{ld.rss_end:.1f} MB"])
    print(table(["state", "requests", "statuses", "RSS", "RSS 0.5 s after"], rows))
    print(f"\n- started and answered /healthz in {service.startup_s:.2f} s; target RSS < "
          f"{SERVICE_RSS_TARGET_MB:g} MB: {'met' if ok else 'MISSED'}")
    print("- the load comes from Python threads in the benchmark process on the same machine: it measures "
          "memory under concurrent requests, not throughput (see the Service section for that)")
    for ld in service.loads:
        if ld.errors:
            print(f"- {ld.label}: client errors: {'; '.join(sorted(set(ld.errors))[:3])}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=7, help="fresh interpreters per measurement (default 7)")
    p.add_argument("--lib-runs", type=int, default=3,
                   help="fresh interpreters for genai-prices and litellm, at most --runs (default 3)")
    p.add_argument("--no-libs", action="store_true", help="measure pricing only, not genai-prices and litellm")
    p.add_argument("--no-service", action="store_true", help="do not start the service")
    p.add_argument("--no-cli", action="store_true", help="do not time the `inference-cost quote` command")
    p.add_argument("--against", type=Path, metavar="DIR",
                   help="also measure the pricing and service packages in DIR (another version's source, "
                        "e.g. `git archive main pricing service | tar -x -C DIR`) in the same runs")
    p.add_argument("--load-seconds", type=float, default=5.0, help="length of each load phase (default 5)")
    p.add_argument("--clients", type=int, default=16, help="concurrent connections for single quotes")
    p.add_argument("--batch", type=int, default=10_000, help="workloads per batch request (default 10,000)")
    p.add_argument("--batch-clients", type=int, default=2, help="concurrent batch connections (default 2)")
    args = p.parse_args(argv)
    if min(args.runs, args.lib_runs, args.clients, args.batch, args.batch_clients) < 1 or args.load_seconds <= 0:
        p.error("--runs, --lib-runs, --clients, --batch and --batch-clients must be >= 1; --load-seconds > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    subjects = [SUBJECTS["msgspec"], SUBJECTS["pricing"], SUBJECTS["pricing-toml"]]
    if args.against is not None:
        subjects.insert(2, against(args.against))
    missing = []
    if not args.no_libs:
        for name in ("genai-prices", "litellm"):
            if version(name) == "not installed":
                missing.append(name)
            else:
                subjects.append(SUBJECTS[name])
    baseline, results = measure_imports(subjects, args.runs, min(args.lib_runs, args.runs))
    cli = (CliResult(todo="not measured in this run (--no-cli)") if args.no_cli
           else measure_cli(args.runs, next((s for s in subjects if s.name == "pricing-against"), None)))
    service = (ServiceResult(todo="not measured in this run (--no-service)") if args.no_service
               else measure_service(args.load_seconds, args.clients, args.batch, args.batch_clients))
    print("## Start-up\n")
    print(environment(('inference-cost', 'msgspec', 'litestar', 'uvicorn', 'genai-prices', 'litellm')) + "\n")
    report_imports(baseline, results, args.runs, min(args.lib_runs, args.runs))
    if missing:
        print(f"\n{', '.join(missing)}: not installed (pip install -e '.[bench]'), not measured")
    report_cli(cli)
    report_service(service)
    return 0


if __name__ == "__main__":
    sys.exit(main())

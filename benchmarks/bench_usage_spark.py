"""The spark engine: local[*] against a standalone cluster of two workers, beside the duckdb engine.

Generates the same seeded usage as ``bench_usage.py`` (Parquet), then prices it, Parquet in and
Parquet out, with:

- **duckdb engine**, the reference measured in the same run;
- **spark local[*]**: one driver JVM using every core;
- **spark standalone**: a master and ``--workers`` one-core workers started on loopback by this
  script (pyspark's own scripts), the driver submitting to it: the same job with a real shuffle
  between processes.

Each contender runs in its own process; for Spark the session start (the JVM, and on the cluster
the executors) is timed apart from the job, since a long-running job pays it once. Prints markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from bench_usage import generate  # noqa: E402
from spark_cluster import loopback_env, standalone_cluster  # noqa: E402


def child(kind: str, source: Path, out: Path, master: str | None) -> None:
    from pricing import Catalog
    from service.usage import UsageJob, price_usage

    catalog = Catalog.default()
    start = time.perf_counter()
    session = None
    if kind == "spark":
        from service.usage.engines import spark_session

        session = spark_session(master)
        session.sparkContext.setLogLevel("ERROR")
        # The executors of a standalone cluster come up with the first job: start them here.
        session.range(4).count()
    started = time.perf_counter()
    price_usage(UsageJob(source=source, engine=kind, out=out, spark_session=session), catalog)
    done = time.perf_counter()
    print(json.dumps({"start_s": started - start, "job_s": done - started}))


def measure(kind: str, source: Path, out: Path, master: str | None = None) -> dict[str, float]:
    argv = [sys.executable, __file__, "--child", kind, "--source", str(source), "--out", str(out)]
    if master:
        argv += ["--master", master]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, env=loopback_env())
    if done.returncode != 0:
        raise SystemExit(f"{kind} ({master}) failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="usage rows to generate (default 1M)")
    parser.add_argument("--workers", type=int, default=2, help="one-core workers of the standalone cluster")
    parser.add_argument("--worker-memory", default="1g", help="memory of each worker (default 1g)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--source", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--master", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.source), Path(args.out), args.master)
        return
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        source = work / "usage.parquet"
        generate(source, args.rows)
        load = os.getloadavg()
        runs = [("duckdb engine", measure("duckdb", source, work / "d.parquet")),
                ("spark local[*]", measure("spark", source, work / "l.parquet", "local[*]"))]
        with standalone_cluster(work, workers=args.workers, cores=1, memory=args.worker_memory) as url:
            runs.append((f"spark standalone ({args.workers} one-core workers)",
                         measure("spark", source, work / "c.parquet", url)))
        print(f"## Spark ({args.rows:,} rows, {source.stat().st_size / 1e6:.0f} MB Parquet in, Parquet out; "
              f"{os.cpu_count()} CPUs, load average {load[0]:.1f} at the start)\n")
        print("| contender | session start (s) | job (s) | job rows/s | vs duckdb engine |")
        print("|---|---:|---:|---:|---:|")
        reference = args.rows / runs[0][1]["job_s"]
        for label, result in runs:
            rate = args.rows / result["job_s"]
            print(f"| {label} | {result['start_s']:.1f} | {result['job_s']:.1f} | {rate:,.0f} | "
                  f"{rate / reference:.2f}x |")


if __name__ == "__main__":
    main()

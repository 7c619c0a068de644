"""A Spark standalone cluster on loopback: a master and N workers, started from pyspark's own scripts.

Used by ``tests/test_usage_spark.py`` (a real shuffle between processes) and by
``benchmarks/bench_usage_spark.py`` (how the same job scales). Java 17+ must be on the PATH.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spark_class() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def loopback_env() -> dict[str, str]:
    """The environment a driver and the cluster share: loopback only, this interpreter on the workers."""
    return {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}


@contextmanager
def standalone_cluster(folder: Path, *, workers: int = 2, cores: int = 1, memory: str = "1g",
                       start_timeout: float = 120) -> Iterator[str]:
    """Yield the ``spark://`` URL of a master with ``workers`` workers; stop them all afterwards."""
    env = {**loopback_env(), "SPARK_WORKER_DIR": str(folder / "work")}
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    procs = [subprocess.Popen([str(spark_class()), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(free_port())],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Spark master did not start listening within {start_timeout:.0f} s")
            time.sleep(0.5)
        for _ in range(workers):
            procs.append(subprocess.Popen(
                [str(spark_class()), "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1",
                 "--cores", str(cores), "--memory", memory, "--webui-port", str(free_port())],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield url
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

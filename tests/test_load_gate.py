"""The load gate end to end: ``python -m load.run`` against a service that is slowed, failing or
wrong must exit non-zero with the right one-line reason, and the same run against a sound service
must pass (the control: the failures come from the faults, not from the machine).

Each run is a few seconds of real locust load over real loopback sockets; the faults are injected
into the real service by ``load/faulty.py``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from load.run import free_port, stop, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
#: A short, flat-out run: a few users back to back, only the threshold under test switched on.
SHORT = ["--run-time", "2s", "--users", "4", "--spawn-rate", "4", "--user-rate", "0"]
LATENCY_ONLY = ["--max-p95-ms", "100", "--max-p99-ms", "inf", "--min-rps", "0"]


def clean_env() -> dict[str, str]:
    # The gate reads LOAD_* and the service INFERENCE_COST_*: the developer's own must not leak in.
    return {k: v for k, v in os.environ.items() if not k.startswith(("LOAD_", "INFERENCE_COST_"))}


def gate(*args: str, reports: Path, timeout: float = 90) -> tuple[int, str, str]:
    """Run the gate; its exit status, its last line (the verdict) and all its output."""
    proc = subprocess.run([sys.executable, "-m", "load.run", "--reports", str(reports), *args], cwd=ROOT,
                          env=clean_env(), capture_output=True, text=True, timeout=timeout)
    output = proc.stdout + proc.stderr
    verdicts = [line for line in output.splitlines() if line.startswith("load [")]
    return proc.returncode, (verdicts[-1] if verdicts else ""), output


@pytest.fixture
def faulty() -> Iterator[Callable[..., str]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*faults: str) -> str:
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "load.faulty", "--port", str(port), *faults], cwd=ROOT,
                                env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, None, 30)
        return url

    yield start
    for proc in started:
        stop(proc)


def test_a_sound_service_passes_the_same_short_run(faulty: Callable[..., str], tmp_path: Path) -> None:
    status, verdict, output = gate("--host", faulty(), *SHORT, *LATENCY_ONLY, reports=tmp_path)
    assert status == 0, output
    assert re.fullmatch(r"load \[ci\]: PASS: \d+ requests, 0 failed \(limit 0\), .*p95 \d+ ms \(limit 100 ms\).*",
                        verdict), verdict
    for name in ("final_stats.csv", "locust_stats.csv", "locust_failures.csv", "report.html", "verdict.txt"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "verdict.txt").read_text().strip() == verdict


def test_a_slowed_service_fails_on_latency(faulty: Callable[..., str], tmp_path: Path) -> None:
    status, verdict, output = gate("--host", faulty("--delay-ms", "150"), *SHORT, *LATENCY_ONLY, reports=tmp_path)
    assert status == 1, output
    # Every request answered, and right: the one reason is latency.
    assert re.fullmatch(r"load \[ci\]: FAIL: p95 latency (\d+) ms above the limit 100 ms", verdict), verdict
    assert int(verdict.split("p95 latency ")[1].split()[0]) >= 150


def test_a_failing_service_fails_on_its_failed_requests(faulty: Callable[..., str], tmp_path: Path) -> None:
    status, verdict, output = gate("--host", faulty("--error-every", "4"), *SHORT, *LATENCY_ONLY, reports=tmp_path)
    assert status == 1, output
    assert re.fullmatch(r"load \[ci\]: FAIL: \d+ of \d+ requests failed \(limit 0\); most frequent: POST /v1/\S+"
                        r"( \[[^]]+\])?: HTTP 500: .*injected fault.* \(x\d+ like it\)", verdict), verdict
    assert "latency" not in verdict and "floor" not in verdict


def test_a_service_answering_wrong_totals_fails_though_every_status_is_200(faulty: Callable[..., str], tmp_path: Path) -> None:
    status, verdict, output = gate("--host", faulty("--corrupt-totals"), *SHORT, *LATENCY_ONLY, reports=tmp_path)
    assert status == 1, output
    assert re.fullmatch(r"load \[ci\]: FAIL: \d+ of \d+ requests failed \(limit 0\); most frequent: .*"
                        r"total != sum of (line amounts|quote totals).*", verdict), verdict
    assert "HTTP" not in verdict


def _port_of(service_log: Path) -> int:
    match = re.search(r"http://127\.0\.0\.1:(\d+)", service_log.read_text())
    assert match, service_log.read_text()
    return int(match[1])


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_the_real_service_below_the_rps_floor_fails_and_is_stopped(tmp_path: Path) -> None:
    status, verdict, output = gate(*SHORT, "--max-p95-ms", "inf", "--max-p99-ms", "inf", "--min-rps", "1000000",
                                   reports=tmp_path)
    assert status == 1, output
    assert re.fullmatch(r"load \[ci\]: FAIL: \d+\.\d requests/s below the floor 1000000", verdict), verdict
    # The gate started the service itself, on a free loopback port, and stopped it.
    assert _refused(_port_of(tmp_path / "service.log"))


def test_a_service_that_cannot_start_is_an_error_naming_why(tmp_path: Path) -> None:
    status, verdict, output = gate("--catalog", str(tmp_path / "missing.toml"), reports=tmp_path, timeout=60)
    assert status == 3, output
    # The reason is the service's own last word (the CLI's message), after the gate's.
    assert verdict.startswith("load [ci]: ERROR: the service exited with status 1 before it was healthy: "), verdict
    assert "missing.toml" in verdict
    assert not (tmp_path / "final_stats.csv").exists()


def test_bad_overrides_are_refused_before_anything_starts(tmp_path: Path) -> None:
    status, verdict, _ = gate("--max-p95-ms", "fast", reports=tmp_path)
    assert (status, verdict) == (2, "load [ci]: error: --max-p95-ms: cannot use 'fast': Expected `float`, got `str`")
    status, verdict, _ = gate("--profile", "nightly", reports=tmp_path)
    assert status == 2 and "no profile 'nightly'; it has: ci, long" in verdict


def test_ctrl_c_stops_locust_and_the_service(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "load.run", "--reports", str(tmp_path), "--run-time", "60s",
                             "--users", "2", "--spawn-rate", "2"], cwd=ROOT, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "service.log"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (tmp_path / "locust_stats.csv").exists():
        time.sleep(0.2)
    assert (tmp_path / "locust_stats.csv").exists(), "locust never started"
    port = _port_of(log)
    assert not _refused(port)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "load [ci]: interrupted; the service and locust were stopped"
    assert _refused(port)

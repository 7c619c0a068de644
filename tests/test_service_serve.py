"""``inference-cost serve`` as a real process: it serves, stops cleanly on SIGTERM, and refuses a bad catalog
before it opens the port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import ACME, AT

SERVE = [sys.executable, "-m", "service.cli", "serve"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def get(port: int, path: str) -> tuple[int, dict[str, object]]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return r.status, json.loads(r.read())


def post(port: int, path: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def wait_healthy(proc: subprocess.Popen[str], port: int, seconds: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited {proc.returncode}: {proc.communicate()[1]}")
        try:
            return get(port, "/healthz")[1]
        except OSError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail(f"serve did not answer on port {port} within {seconds} s: {proc.communicate()[1]}")


@contextmanager
def serving(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([*SERVE, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def stop(proc: subprocess.Popen[str], port: int) -> str:
    """SIGTERM, then a clean exit within a few seconds; returns what it logged."""
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("serve did not stop within 10 s of SIGTERM")
    assert proc.returncode == 0, err
    assert not listening(port)
    return err


def test_serves_and_stops_on_sigterm() -> None:
    port = free_port()
    with serving("--port", str(port)) as proc:
        health = wait_healthy(proc, port)
        assert health["status"] == "ok" and str(health["catalog_digest"]).startswith("sha256:")
        status, quote = post(port, "/v1/quotes", {"model": "deepseek-reasoner", "output_tokens": 1_000_000,
                                                  "at": "2025-01-31T12:00:00Z"})
        assert (status, quote["total"]) == (200, "2.19")
        status, problem = post(port, "/v1/quotes", {"model": "deepseek-reasoner", "output_tokens": -1})
        assert (status, problem["field"]) == (422, "$.output_tokens")
        log = stop(proc, port)
    assert "Finished server process" in log


def test_settings_from_the_environment_and_a_users_catalog(tmp_path: Path) -> None:
    (tmp_path / "acme.toml").write_text(ACME)
    port = free_port()
    env = {"INFERENCE_COST_PORT": str(port), "INFERENCE_COST_CATALOG": str(tmp_path)}
    with serving(env=env) as proc:
        assert wait_healthy(proc, port)["models"] == 3
        assert post(port, "/v1/quotes", {"model": "alpha", "output_tokens": 1_000_000, "at": AT})[1]["total"] == "4"
        stop(proc, port)


def test_several_workers_serve_and_stop(tmp_path: Path) -> None:
    (tmp_path / "acme.toml").write_text(ACME)
    port = free_port()
    with serving("--port", str(port), "--workers", "2", "--catalog", str(tmp_path / "acme.toml")) as proc:
        assert wait_healthy(proc, port)["models"] == 3
        # Each worker loaded the user's catalog, not the embedded one.
        for _ in range(4):
            assert post(port, "/v1/quotes", {"model": "gamma", "output_tokens": 1_000_000, "at": AT})[0] == 200
        stop(proc, port)


def test_a_bad_catalog_stops_start_up_before_the_port_opens(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(ACME.replace("input = 3", "input = -3"))
    port = free_port()
    proc = subprocess.run([*SERVE, "--port", str(port), "--catalog", str(bad)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("inference-cost: error: catalog: bad.toml: $.models[1].periods[0]")
    assert "Uvicorn running" not in proc.stderr and not listening(port)


@pytest.mark.parametrize(("args", "env", "words"), [
    (["--port", "70000"], {}, "port must be between 0 and 65535"),
    (["--workers", "0"], {}, "workers must be between 1 and 512"),
    ([], {"INFERENCE_COST_PORT": "eighty"}, "INFERENCE_COST_PORT: expected a whole number"),
    ([], {"INFERENCE_COST_ACCESS_LOG": "maybe"}, "INFERENCE_COST_ACCESS_LOG: expected true or false"),
    (["--port", "http"], {}, "argument --port: invalid int value"),
])
def test_bad_settings_exit_2(args: list[str], env: dict[str, str], words: str) -> None:
    proc = subprocess.run([*SERVE, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env})
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and words in proc.stderr

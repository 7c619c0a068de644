"""The service as a real process, as an operator runs it: limits, what the HTTP parser refuses, metrics,
request logs, reload on SIGHUP (also under load, also with several workers) and SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support import ACME, AT
from tests.test_service_serve import SERVE, free_port, get, wait_healthy

QUOTE = {"model": "alpha", "output_tokens": 1_000_000, "at": AT}


def post(port: int, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def raw(port: int, data: bytes, wait: float = 10, then: bytes | None = None) -> bytes:
    """What the server answers to ``data`` sent as is on a new connection (until it closes, or ``wait``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        if then is not None:
            time.sleep(0.3)
            s.sendall(then)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except TimeoutError:
            pass
        except ConnectionResetError:
            pass
        return out


def problem_in(response: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/problem+json" in head.lower(), response[:400]
    return status, json.loads(body)


class Service:
    def __init__(self, proc: subprocess.Popen[str], port: int, folder: Path, log: Path) -> None:
        self.proc, self.port, self.folder, self.log_path = proc, port, folder, log

    def log(self) -> str:
        return self.log_path.read_text()


@contextmanager
def logging_to_file(log: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    """``serve`` with its log in a file: with every request logged, an unread pipe would fill and block it."""
    with log.open("w") as sink:
        # A session of its own: should a test fail, its workers are killed with it.
        proc = subprocess.Popen([*SERVE, *args], stdout=sink, stderr=sink, text=True, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def stop_quietly(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("catalog")
    (folder / "acme.toml").write_text(ACME)
    log = folder.parent / "service.log"
    port = free_port()
    with logging_to_file(log, "--port", str(port), "--catalog", str(folder), "--access-log", "--log-format", "json",
                         "--header-timeout", "1", "--request-timeout", "2", "--max-concurrent", "3",
                         "--max-body-bytes", "4096", "--max-batch", "2", "--max-url-bytes", "1024",
                         "--max-header-bytes", "4096") as proc:
        wait_healthy(proc, port)
        yield Service(proc, port, folder, log)


# -- what the HTTP parser refuses, and the limits around it ---------------------------------------


@pytest.mark.parametrize(("request_bytes", "status", "code"), [
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    (b"GET /healthz?" + b"q" * 2_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n", 431, "headers_too_large"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1234567890\r\n" * 400 + b"\r\n", 431, "headers_too_large"),
    (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400, "bad_request"),
    (b"POST /v1/quotes HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     400, "bad_request"),
    (b"POST /v1/quotes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "bad_request"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n", 400, "bad_request"),
    (b"GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n", 400, "bad_request"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, "bad_request"),  # a TLS client hello
])
def test_what_the_parser_refuses_is_a_problem_document(service: Service, request_bytes: bytes, status: int,
                                                       code: str) -> None:
    got, body = problem_in(raw(service.port, request_bytes))
    assert (got, body["code"]) == (status, code)


def test_half_a_request_line_is_timed_out(service: Service) -> None:
    started = time.monotonic()
    status, body = problem_in(raw(service.port, b"GET /heal"))
    assert (status, body["code"]) == (408, "header_timeout")
    assert time.monotonic() - started < 5


def test_a_silent_connection_is_closed(service: Service) -> None:
    started = time.monotonic()
    assert raw(service.port, b"").startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 5


def test_a_stalled_body_is_a_408(service: Service) -> None:
    status, body = problem_in(raw(service.port, b"POST /v1/quotes HTTP/1.1\r\nHost: x\r\n"
                                                b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"))
    assert (status, body["code"]) == (408, "request_timeout")


def test_the_body_and_batch_limits_are_the_operators(service: Service) -> None:
    body = json.dumps({"workloads": [{"model": "alpha", "input_tokens": 1}] * 200})
    status, problem = post(service.port, "/v1/quotes/batch", json.loads(body))
    assert (status, problem["code"]) == (413, "body_too_large")
    assert "4,096 bytes" in problem["detail"]
    status, problem = post(service.port, "/v1/quotes/batch", {"workloads": [QUOTE] * 3})
    assert (status, problem["field"]) == (422, "$.workloads")
    assert post(service.port, "/v1/quotes/batch", {"workloads": [QUOTE] * 2})[0] == 200


def test_beyond_the_concurrency_limit_is_a_503_with_retry_after(service: Service) -> None:
    stalled = []
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", service.port))
        s.sendall(b"POST /v1/quotes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{")
        stalled.append(s)
    time.sleep(0.3)
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{service.port}/healthz", timeout=5)
        assert err.value.code == 503
        assert err.value.headers["Retry-After"] == "1"
        assert json.loads(err.value.read())["code"] == "overloaded"
    finally:
        for s in stalled:
            s.close()
    time.sleep(2.5)  # the stalled requests time out and free their slots
    assert get(service.port, "/healthz")[0] == 200


# -- metrics and logs -----------------------------------------------------------------------------


def metrics_text(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        # The exposition format's own type, its charset said once (a scraper may refuse a repeated one).
        assert r.headers["content-type"] in ("text/plain; version=0.0.4; charset=utf-8",
                                             "text/plain; version=1.0.0; charset=utf-8"), r.headers["content-type"]
        return str(r.read().decode())


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name{labels}`` (labels matched as a subset); 0 if absent."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_problems_quotes_and_show_the_catalog(service: Service) -> None:
    before = metrics_text(service.port)
    post(service.port, "/v1/quotes", QUOTE)
    post(service.port, "/v1/quotes", {"model": "nope"})
    post(service.port, "/v1/quotes/batch", {"workloads": [QUOTE, QUOTE]})
    get(service.port, "/v1/models/alpha")
    after = metrics_text(service.port)
    ok = {"route": "/v1/quotes", "method": "POST", "status": "200"}
    assert sample(after, "inference_cost_requests_total", **ok) == sample(before, "inference_cost_requests_total", **ok) + 1
    assert sample(after, "inference_cost_problems_total", code="unknown_model") >= 1
    assert sample(after, "inference_cost_quotes_priced_total") - sample(before, "inference_cost_quotes_priced_total") == 3
    assert sample(after, "inference_cost_batch_workloads_count") >= 1
    assert sample(after, "inference_cost_request_duration_seconds_count", route="/v1/models/{name}") >= 1
    digest = get(service.port, "/healthz")[1]["catalog_digest"]
    assert sample(after, "inference_cost_catalog_info", digest=str(digest), models="3") == 1
    assert sample(after, "process_resident_memory_bytes") > 1e6
    # A path per model name would be a label per name: unknown paths share one label.
    assert 'route="unmatched"' not in after or "/v1/nope" not in after


def test_a_request_id_is_kept_or_made_and_returned(service: Service) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{service.port}/healthz", headers={"X-Request-ID": "trace-42"})
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.headers["X-Request-ID"] == "trace-42"
    request = urllib.request.Request(f"http://127.0.0.1:{service.port}/healthz", headers={"X-Request-ID": "a b"})
    with urllib.request.urlopen(request, timeout=5) as r:
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-ID"])


# -- reload ---------------------------------------------------------------------------------------


def health(port: int) -> dict[str, Any]:
    return get(port, "/healthz")[1]


def wait_for(check: Any, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting")
        time.sleep(0.1)


def test_sighup_reloads_the_catalog_and_a_broken_one_is_refused(service: Service) -> None:
    first = health(service.port)["catalog_digest"]
    assert post(service.port, "/v1/quotes", QUOTE)[1]["total"] == "4"
    (service.folder / "acme.toml").write_text(ACME.replace("output = 4", "output = 5", 1))
    service.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: health(service.port)["catalog_digest"] != first)
    assert post(service.port, "/v1/quotes", QUOTE)[1]["total"] == "5"
    second = health(service.port)["catalog_digest"]
    text = metrics_text(service.port)
    assert sample(text, "inference_cost_catalog_info", digest=str(second)) == 1
    assert sample(text, "inference_cost_catalog_info", digest=str(first)) == 0
    # A broken catalog is refused: the old one keeps serving.
    (service.folder / "acme.toml").write_text(ACME.replace("input = 3", "input = -3"))
    service.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: sample(metrics_text(service.port), "inference_cost_catalog_reloads_total", outcome="refused") == 1)
    assert health(service.port)["catalog_digest"] == second
    assert post(service.port, "/v1/quotes", QUOTE)[1]["total"] == "5"
    (service.folder / "acme.toml").write_text(ACME)
    service.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: health(service.port)["catalog_digest"] == first)


def test_a_reload_under_load_fails_no_request(service: Service) -> None:
    failures: list[str] = []
    done = threading.Event()

    def hammer() -> None:
        while not done.is_set():
            try:
                status, body = post(service.port, "/v1/quotes", QUOTE)
            except OSError as exc:
                failures.append(repr(exc))
                continue
            if status != 200 or body["total"] not in ("4", "6"):
                failures.append(f"{status} {body}")

    workers = [threading.Thread(target=hammer) for _ in range(2)]  # under the concurrency limit of 3
    for w in workers:
        w.start()
    try:
        for i in range(6):
            (service.folder / "acme.toml").write_text(ACME if i % 2 else ACME.replace("output = 4", "output = 6", 1))
            service.proc.send_signal(signal.SIGHUP)
            time.sleep(0.4)
    finally:
        done.set()
        for w in workers:
            w.join()
        (service.folder / "acme.toml").write_text(ACME)
    assert failures == []
    assert sample(metrics_text(service.port), "inference_cost_catalog_reloads_total", outcome="reloaded") >= 6


# Last in the module: it reads the whole log once the service has stopped.
def test_the_request_log_is_one_escaped_json_line_per_request_without_bodies(service: Service) -> None:
    post(service.port, "/v1/quotes", {"model": "evil\nFORGED {\"status\": 200}"})
    raw(service.port, b"GET /v1/models/evil%0aFORGED%1b[31m HTTP/1.1\r\nHost: x\r\nX-Request-ID: log-check\r\n"
                      b"Connection: close\r\n\r\n")
    stop_quietly(service.proc)
    log = service.log()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "service.request"]
    assert requests, log
    for line in requests:
        assert {"request_id", "method", "route", "path", "status", "duration_ms"} <= set(line)
    assert not any(line.startswith("FORGED") for line in log.splitlines())
    assert "evil" not in json.dumps([r for r in requests if r["route"] == "/v1/quotes"])  # bodies never logged
    checked = next(r for r in requests if r["request_id"] == "log-check")
    assert checked["status"] == 404 and checked["code"] == "unknown_model"
    assert "\\x0aFORGED\\x1b" in checked["path"]
    assert any(r.get("code") == "request_timeout" for r in requests)
    assert any(line["logger"] == "service.reload" and "refused" in line["message"] and "acme.toml" in line["message"]
               for line in lines)
    assert "Traceback" not in log


# -- several workers ------------------------------------------------------------------------------


def test_every_worker_reloads_and_the_metrics_cover_them_all(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "acme.toml").write_text(ACME)
    port = free_port()
    with logging_to_file(tmp_path / "log", "--port", str(port), "--workers", "2", "--catalog", str(folder)) as proc:
        first = wait_healthy(proc, port, 60)["catalog_digest"]
        for _ in range(20):
            post(port, "/v1/quotes", QUOTE)
        text = metrics_text(port)
        assert sample(text, "inference_cost_requests_total", route="/v1/quotes", status="200") == 20
        wait_for(lambda: sample(metrics_text(port), "inference_cost_catalog_info", digest=str(first)) == 2)
        (folder / "acme.toml").write_text(ACME.replace("output = 4", "output = 5", 1))
        proc.send_signal(signal.SIGHUP)
        # Both workers' catalog info metric moves to the new digest (one sample per worker). Each
        # worker reloads off its event loop: on a busy 2-core machine that can take a while.
        wait_for(lambda: sample(metrics_text(port), "inference_cost_catalog_info", digest=str(first)) == 0, 60)
        text = metrics_text(port)
        second = health(port)["catalog_digest"]
        assert second != first
        assert sample(text, "inference_cost_catalog_info", digest=str(second)) == 2
        assert all(post(port, "/v1/quotes", QUOTE)[1]["total"] == "5" for _ in range(10))
        stop_quietly(proc)
        assert "Traceback" not in (tmp_path / "log").read_text()


# -- SIGTERM --------------------------------------------------------------------------------------


def test_sigterm_finishes_a_request_in_flight_and_answers_a_stalled_upload_quietly(tmp_path: Path) -> None:
    (tmp_path / "acme.toml").write_text(ACME)
    port = free_port()
    rest = f'"alpha", "at": "{AT}"}}'.encode()
    with logging_to_file(tmp_path / "log", "--port", str(port), "--catalog", str(tmp_path / "acme.toml"),
                         "--graceful-shutdown", "2", "--request-timeout", "60") as proc:
        wait_healthy(proc, port)
        head = (b"POST /v1/quotes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n{\"model\": " % (10 + len(rest)))
        finishing = socket.create_connection(("127.0.0.1", port), timeout=10)
        finishing.sendall(head)
        stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
        stalled.sendall(head)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        finishing.sendall(rest)  # completes within the grace period
        answer = b""
        while chunk := finishing.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        refused = b""
        while chunk := stalled.recv(65536):  # the server closes the connection after the answer
            refused += chunk
        status, body = problem_in(refused)
        assert (status, body["code"]) == (503, "shutting_down")
        assert proc.wait(timeout=30) == 0
    log = (tmp_path / "log").read_text()
    assert "Traceback" not in log and "CancelledError" not in log, log

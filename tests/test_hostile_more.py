"""Hostile input beyond the issue's list, found by attacking every endpoint and CLI command of the real
service: each case a 4xx problem naming the field (or a one-line CLI error, exit 2), never a 500, a
traceback, a hang or a request that keeps the worker busy after it was answered."""

from __future__ import annotations

import itertools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.usage_tables import _winning_spans
from tests.support import ACME, ZONED
from tests.test_service_operations import Service, logging_to_file, stop_quietly
from tests.test_service_serve import free_port, wait_healthy


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("catalog")
    (folder / "acme.toml").write_text(ACME)
    (folder / "zoned.toml").write_text(ZONED)
    log = folder.parent / "service.log"
    port = free_port()
    with logging_to_file(log, "--port", str(port), "--catalog", str(folder), "--access-log", "--log-format", "json",
                         "--request-timeout", "20") as proc:
        wait_healthy(proc, port)
        yield Service(proc, port, folder, log)
        stop_quietly(proc)
    assert "Traceback" not in log.read_text()


def send(port: int, path: str, body: bytes, content_type: str = "application/json",
         headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
                                     headers={"content-type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def problem(port: int, path: str, body: bytes | dict[str, Any], content_type: str = "application/json",
            timeout: float = 60) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, headers, data = send(port, path, raw, content_type, timeout=timeout)
    assert 400 <= status < 500, (path, status, data[:500])
    assert headers["content-type"] == "application/problem+json"
    found: dict[str, Any] = json.loads(data)
    return status, found


# -- instants at the ends of the calendar, on the endpoints over time -----------------------------

FAR = ["9999-12-31T00:00:00Z", "9999-12-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z"]


@pytest.mark.parametrize("at", FAR)
def test_projections_budgets_and_plans_refuse_an_instant_at_the_end_of_the_calendar(service: Service,
                                                                                     at: str) -> None:
    later = "9999-12-31T23:59:59Z" if at.startswith("9999") else "0001-02-01T00:00:00Z"
    for path, body, field in [
        ("/v1/projections", {"model": "night-owl", "from": at, "until": later, "requests": 10, "days": True,
                             "zone": "Pacific/Kiritimati"}, "$.from"),
        ("/v1/projections", {"models": ["night-owl", "alpha"], "from": at, "until": later, "requests": 10},
         "$.from"),
        ("/v1/budgets", {"model": "night-owl", "amount": "1", "from": at, "requests_per_day": "1"}, "$.from"),
        ("/v1/budgets", {"model": "night-owl", "amount": "1", "from": at, "requests_per_day": "1",
                         "cycle": "rolling-30d"}, "$.from"),
        ("/v1/plans", {"model": "night-owl", "requests": 1, "from": at, "until": later, "max_per_hour": "10"},
         "$.from"),
    ]:
        status, p = problem(service.port, path, body)
        assert (status, p["code"], p["field"]) == (422, "invalid_request", field), (path, p)
        assert "too far" in p["detail"]


def test_a_budget_whose_cycle_ends_past_the_calendar_names_from(service: Service) -> None:
    status, p = problem(service.port, "/v1/budgets", {"model": "night-owl", "amount": "1",
                                                      "from": "9998-12-31T23:00:00Z", "requests_per_day": "1",
                                                      "zone": "Pacific/Kiritimati"})
    assert (status, p["field"]) == (422, "$.from") and "cycle ends" in p["detail"]


def test_the_last_instants_the_calendar_allows_still_price(service: Service) -> None:
    status, _, data = send(service.port, "/v1/projections", json.dumps(
        {"model": "night-owl", "from": "9998-12-01T00:00:00Z", "until": "9998-12-31T23:59:59Z", "requests": 10,
         "days": True, "zone": "Pacific/Kiritimati"}).encode())
    assert status == 200, data[:300]
    assert json.loads(data)["exact"] is True


# -- usage files: instants DuckDB reads but Python and the engine do not ---------------------------

CSV = "text/csv"


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59Z", "10000-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00",
                                "99999-01-01T00:00:00Z"])
def test_a_usage_row_past_the_calendar_is_a_422_naming_row_and_column(service: Service, at: str) -> None:
    body = f"model,at\nalpha,2025-06-02T12:00:00Z\nnight-owl,{at}\n".encode()
    status, p = problem(service.port, "/v1/usage", body, CSV)
    assert (status, p["field"], p["index"]) == (422, "at", 2), p
    assert "between the years 0002 and 9998" in p["detail"]


def test_usage_as_of_past_the_calendar_is_a_400_naming_as_of(service: Service) -> None:
    for as_of in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00%2B14:00"):
        status, p = problem(service.port, f"/v1/usage?as_of={as_of}", b"model,at\nalpha,2025-06-02T12:00:00Z\n", CSV)
        assert (status, p["field"]) == (400, "as_of") and "too far" in p["detail"]


def test_two_usage_rows_millennia_apart_are_refused_at_once(service: Service) -> None:
    """The price tables cover each day between the first price and the last row: a row in 9990 took the
    worker minutes (and the request's answer came long before)."""
    started = time.monotonic()
    status, p = problem(service.port, "/v1/usage",
                        b"model,at\nnight-owl,2025-06-02T12:00:00Z\nnight-owl,9990-01-01T00:00:00Z\n", CSV)
    assert time.monotonic() - started < 5
    assert (status, p["field"], p["index"]) == (422, "at", 2) and "30 years" in p["detail"]


def test_a_decade_of_usage_on_a_zoned_window_prices_within_seconds(service: Service) -> None:
    started = time.monotonic()
    status, _, data = send(service.port, "/v1/usage",
                           b"model,at,input_tokens\nnight-owl,2025-01-01T01:00:00Z,1000\n"
                           b"night-owl,2034-12-31T01:00:00Z,1000\n", CSV)
    assert status == 200, data[:300]
    assert time.monotonic() - started < 8
    summary = json.loads(data)
    assert summary["priced"] == 2
    # 01:00 UTC is 09:00 in Shanghai, after the window: the full rate, 1,000 tokens at 1 a million each.
    assert summary["totals"][0]["input_amount"] == "0.00200000"


def test_rows_at_the_edges_of_the_calendar_price_if_no_window_reaches_them(service: Service) -> None:
    status, _, data = send(service.port, "/v1/usage",
                           b"model,at\nalpha,0002-01-01T00:00:00Z\nalpha,2026-01-01T00:00:00Z\n", CSV)
    assert status == 200, data[:300]
    assert json.loads(data)["rows"] == 2


# -- the window spans of the price tables: linear now, and the same as before ----------------------


def _reference_winning_spans(windows: list[tuple[int, list[tuple[int, int]]]]) -> list[tuple[int, int, int]]:
    """The quadratic version this replaced: every piece tested against every span."""
    bounds = sorted({b for _, spans in windows for span in spans for b in span})
    out: list[tuple[int, int, int]] = []
    for lo, hi in itertools.pairwise(bounds):
        for index, spans in windows:
            if any(a <= lo and hi <= b for a, b in spans):
                if out and out[-1][1] == lo and out[-1][2] == index:
                    out[-1] = (out[-1][0], hi, index)
                else:
                    out.append((lo, hi, index))
                break
    return out


_span = st.tuples(st.integers(0, 200), st.integers(1, 40)).map(lambda t: (t[0], t[0] + t[1]))


@given(st.lists(st.lists(_span, max_size=12), min_size=1, max_size=4))
def test_winning_spans_equal_the_quadratic_reference(span_lists: list[list[tuple[int, int]]]) -> None:
    windows = list(enumerate(span_lists))
    assert _winning_spans(windows) == _reference_winning_spans(windows)


# -- the CLI -----------------------------------------------------------------------------------------


def cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "service.cli", *argv], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def one_line_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


@pytest.mark.parametrize("argv", [
    ["project", "night-owl", "--from", "9999-12-01T00:00:00Z", "--until", "9999-12-31T00:00:00Z", "--requests", "10"],
    ["budget", "night-owl", "--amount", "1", "--from", "9999-12-31T00:00:00Z", "--per-day", "1"],
    ["plan", "night-owl", "--requests", "1", "--from", "9999-12-01T00:00:00Z", "--until", "9999-12-31T00:00:00Z",
     "--max-per-hour", "10"],
])
def test_the_cli_refuses_an_instant_at_the_end_of_the_calendar_in_one_line(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "zoned.toml").write_text(ZONED)
    one_line_error(cli(*argv, "--catalog", str(tmp_path)), "too far")


def test_usage_price_refuses_rows_and_as_of_past_the_calendar_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "far.csv").write_text("model,at\no1,10000-01-01T00:00:00Z\n")
    one_line_error(cli("usage", "price", str(tmp_path / "far.csv")), "row 1", "'at'", "0002 and 9998")
    (tmp_path / "ok.csv").write_text("model,at\no1,2025-01-01T00:00:00Z\n")
    one_line_error(cli("usage", "price", str(tmp_path / "ok.csv"), "--as-of", "9999-12-31T23:59:59Z"),
                   "--as-of", "too far")


# -- usage files: wide ones, and exports of the wrong shape -------------------------------------------

JSONL = "application/x-ndjson"


def _wide_csv(columns: int, delimiter: bytes = b",", header_too: bool = True) -> bytes:
    names = delimiter.join(b"c%d" % i for i in range(columns))
    if header_too:
        return b"model" + delimiter + b"at" + delimiter + names + b"\n"
    return b"model,at\n" + names + b"\n"  # DuckDB takes its columns from the widest rows too


@pytest.mark.parametrize("body", [
    _wide_csv(100_000), _wide_csv(100_000, b";"), _wide_csv(100_000, b"\t"), _wide_csv(100_000, header_too=False),
    # Quoted newlines: no physical line is wide, the record is.
    b"model,at\n" + b",".join(b'"a\nb"' if i % 100 == 0 else b"c%d" % i for i in range(100_000)) + b"\n",
])
def test_a_csv_of_100000_columns_is_refused_at_once(service: Service, body: bytes) -> None:
    """It took DuckDB three minutes of CPU and 1.8 GB to describe."""
    started = time.monotonic()
    status, p = problem(service.port, "/v1/usage", body, CSV)
    assert time.monotonic() - started < 5
    assert status == 422 and "over 250 columns" in p["detail"], p


@pytest.mark.parametrize("body", [
    b'{"model":"o1","at":"2025-06-01T00:00:00Z",' + b",".join(b'"k%d":1' % i for i in range(50_000)) + b"}\n",
    b"".join(b'{"model":"o1","at":"2025-06-01T00:00:00Z","k%d":1}\n' % i for i in range(300)),
])
def test_json_lines_of_too_many_keys_are_refused_at_once(service: Service, body: bytes) -> None:
    started = time.monotonic()
    status, p = problem(service.port, "/v1/usage", body, JSONL)
    assert time.monotonic() - started < 5
    assert status == 422 and "over 250 columns" in p["detail"], p


def test_a_parquet_file_of_too_many_columns_is_refused(service: Service, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {"model": ["alpha"], "at": ["2025-06-02T12:00:00Z"], **{f"c{i}": ["x"] for i in range(300)}}
    pq.write_table(pa.table(columns), tmp_path / "wide.parquet")
    status, p = problem(service.port, "/v1/usage", (tmp_path / "wide.parquet").read_bytes(),
                        "application/vnd.apache.parquet")
    assert status == 422 and "over 250 columns" in p["detail"], p


def test_a_csv_with_long_text_full_of_commas_still_prices(service: Service) -> None:
    """The count is quote-aware: a prompt column with thousands of commas is one column."""
    body = b'model,at,prompt\nalpha,2025-06-02T12:00:00Z,"' + b"a," * 5_000 + b'"\n'
    status, _, data = send(service.port, "/v1/usage", body, CSV)
    assert status == 200, data[:300]
    assert json.loads(data)["priced"] == 1


@pytest.mark.parametrize("fmt", ["openai", "anthropic", "otel", "litellm"])
@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000, b"[" * 5_000 + b"]" * 5_000, b"{}\n" + b"[" * 5_000 + b"]" * 5_000 + b"\n",
    b'{"data": "\xff\xfe"}', b"1e400", b"NaN", b'"x"', b"[1, 2]", b'{"data": [1]}', b'{"data": {"a": 1}}',
    b'{"resourceSpans": [1]}', b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"attributes": [1]}]}]}]}',
    b'{"object": "page", "data": [{"object": "bucket", "start_time": "x", "results": [1]}]}',
    b'{"data": [{"starting_at": "2025-06-01T00:00:00Z", "results": [{"cache_creation": 5}]}]}',
    b'[{"metadata": {"usage_object": 7}}]', b'[{"metadata": "[1]"}]',
])
def test_an_export_of_the_wrong_shape_is_a_422(service: Service, fmt: str, body: bytes) -> None:
    """Each was a 500 (RecursionError, UnicodeDecodeError, AttributeError, TypeError in an importer)."""
    status, headers, data = send(service.port, f"/v1/usage?format={fmt}", body)
    if status == 200:  # an object with none of the export's fields is a row that cannot be priced
        summary = json.loads(data)
        assert summary["rows"] == summary["unpriced"] > 0, summary
        return
    assert status == 422 and headers["content-type"] == "application/problem+json", data[:300]
    p = json.loads(data)
    assert p["code"] == "invalid_request" and len(p["detail"]) < 400, p


def test_an_export_with_a_wide_result_is_priced_in_linear_time(service: Service) -> None:
    """The importers' column list was a list searched for every key of every row: quadratic."""
    result = b'{"model":"alpha","input_tokens":1,' + b",".join(b'"k%d":1' % i for i in range(50_000)) + b"}"
    body = b'{"object":"page","data":[{"object":"bucket","start_time":1748865600,"results":[' + result + b"]}]}"
    started = time.monotonic()
    status, _, data = send(service.port, "/v1/usage?format=openai", body)
    assert status == 200, data[:300]
    assert time.monotonic() - started < 8


def test_usage_price_says_in_one_line_that_out_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "ok.csv").write_text("model,at\no1,2025-01-01T00:00:00Z\n")
    (tmp_path / "taken.csv").mkdir()
    for out in ("/proc/nowhere.csv", "/proc/self/nowhere/x.csv", str(tmp_path / "taken.csv")):
        one_line_error(cli("usage", "price", str(tmp_path / "ok.csv"), "--out", out), out, "cannot be written")


@pytest.mark.parametrize("tolerance", ["1e999999", "1e-30", "100000000000000000000"])
def test_usage_price_refuses_a_tolerance_its_amounts_cannot_hold(tmp_path: Path, tolerance: str) -> None:
    """It went into the SQL as a 1,000,000-digit literal, and DuckDB's conversion error out as a traceback."""
    (tmp_path / "rec.csv").write_text("model,at,reported_cost\no1,2025-01-01T00:00:00Z,1\n")
    proc = cli("usage", "price", str(tmp_path / "rec.csv"), "--tolerance", tolerance)
    one_line_error(proc, "--tolerance")
    assert len(proc.stderr) < 300


def test_usage_price_says_an_unreadable_input_cannot_be_read(tmp_path: Path) -> None:
    # /proc/self/mem cannot be read by anyone (EIO), root included.
    one_line_error(cli("usage", "price", "/proc/self/mem", "--format", "csv"), "cannot be read")


@pytest.mark.parametrize("body", [
    b'{"model":"o1","model":"gpt-4o","at":"2025-06-01T00:00:00Z"}\n',  # fails in the pricing query
    b'{"model":"o1","at":"2025-06-01T00:00:00Z"\n',  # fails in reading
])
def test_a_usage_error_names_the_body_not_the_services_temporary_file(service: Service, body: bytes) -> None:
    status, p = problem(service.port, "/v1/usage", body, JSONL)
    assert status == 422
    assert "/tmp" not in p["detail"] and "usage-http-" not in p["detail"], p["detail"]
    assert "\n" not in p["detail"]  # DuckDB's hints on reading options are for its own users


def test_usage_price_reports_a_pricing_query_failure_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "dup.jsonl").write_text('{"model":"o1","model":"gpt-4o","at":"2025-06-01T00:00:00Z"}\n')
    one_line_error(cli("usage", "price", str(tmp_path / "dup.jsonl")), "duplicate key")


# -- the documentation pages, and what error bodies repeat ---------------------------------------------


@pytest.mark.parametrize("path", ["/schema/nope", "/schema/rapidoc", "/schema/elements", "/schema/%ff"])
def test_a_documentation_page_that_does_not_exist_is_a_problem_document(service: Service, path: str) -> None:
    """Litestar answered these with its own HTML page."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{service.port}{path}", timeout=10)
        pytest.fail("a 404 was expected")
    except urllib.error.HTTPError as err:
        assert err.code == 404
        assert err.headers["content-type"] == "application/problem+json"
        assert json.loads(err.read())["code"] == "not_found"


@pytest.mark.parametrize(("path", "content_type"), [
    ("/v1/usage", "x" * 5_000), ("/v1/usage?format=" + "y" * 5_000, "application/json"),
])
def test_usage_does_not_repeat_a_huge_header_or_parameter(service: Service, path: str, content_type: str) -> None:
    status, p = problem(service.port, path, b"model,at\n", content_type)
    assert status == 400 and len(p["detail"]) < 500, len(p["detail"])


def test_a_parquet_body_of_millions_of_rows_in_a_few_kilobytes_is_a_413(service: Service, tmp_path: Path) -> None:
    """A compression bomb: 50,000,000 rows fit in 32 KB, minutes of pricing and gigabytes of priced rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 600_000
    table = pa.table({"model": pa.array(["alpha"] * rows).dictionary_encode(),
                      "at": pa.array(["2025-06-02T12:00:00Z"] * rows).dictionary_encode()})
    pq.write_table(table, tmp_path / "bomb.parquet", compression="zstd")
    body = (tmp_path / "bomb.parquet").read_bytes()
    assert len(body) < 100_000
    started = time.monotonic()
    status, p = problem(service.port, "/v1/usage", body, "application/vnd.apache.parquet")
    assert time.monotonic() - started < 5
    assert (status, p["code"]) == (413, "body_too_large") and "600,000 rows" in p["detail"], p


def test_usage_price_names_a_memory_limit_duckdb_does_not_take(tmp_path: Path) -> None:
    (tmp_path / "ok.csv").write_text("model,at\no1,2025-01-01T00:00:00Z\n")
    proc = subprocess.run([sys.executable, "-m", "service.cli", "usage", "price", str(tmp_path / "ok.csv")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "INFERENCE_COST_USAGE_MEMORY": "banana"})
    one_line_error(proc, "INFERENCE_COST_USAGE_MEMORY", "'banana'")


def test_serve_says_in_one_line_that_it_cannot_listen() -> None:
    """uvicorn logged its start-up, the error and its shutdown, and exited 3."""
    one_line_error(cli("serve", "--host", "256.1.1.1", "--port", "0"), "cannot listen on 256.1.1.1:0")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        one_line_error(cli("serve", "--port", str(port)), f"cannot listen on 127.0.0.1:{port}", "in use")


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/projections", {"model": "alpha", "from": "2025-06-01T00:00:00Z", "until": "2025-06-02T00:00:00Z",
                         "requests": 1, "zone": "z" * 1_000_000}),
    ("/v1/budgets", {"model": "alpha", "amount": "1", "from": "2025-06-01T00:00:00Z", "requests_per_day": "1",
                     "zone": "z" * 1_000_000}),
    ("/v1/projections", {"model": "alpha", "from": "2025-06-01T00:00:00Z", "until": "2025-06-02T00:00:00Z",
                         "requests": 1, "currency": "c" * 1_000_000}),
    ("/v1/selfhost", {"usage": {"input_tokens": 1}, "hours": "24", "gpu_hour_price": "2", "profile": "p" * 1_000_000}),
    ("/v1/selfhost", {"usage": {"input_tokens": 1}, "hours": "24", "profile": "llama-3.3-70b-h100-trtllm",
                      "offer": "o" * 1_000_000}),
])
def test_a_megabyte_name_is_not_repeated_back(service: Service, path: str, body: dict[str, Any]) -> None:
    """Each came back whole in ``detail``: a megabyte answer to a megabyte request, for nothing."""
    status, p = problem(service.port, path, body)
    assert status == 422 and len(p["detail"]) < 1_200, len(p["detail"])



def test_a_slow_projection_does_not_stall_the_worker(service: Service) -> None:
    """Ten years by the hour with days broken out and a shape is seconds of exact arithmetic: the
    worker keeps answering other requests meanwhile (the engine runs off the event loop)."""
    import threading

    weights = [str(1 + (h * 7) % 13) for h in range(168)]
    slow = {"model": "night-owl", "from": "2025-01-01T00:00:00Z", "until": "2034-12-31T00:00:00Z",
            "requests": 1_000_000, "days": True, "shape": {"weights": weights, "timezone": "Europe/Paris"}}
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(send(service.port, "/v1/projections",
                                                               json.dumps(slow).encode(), timeout=120)[0]))
    worker.start()
    try:
        time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{service.port}/healthz", timeout=60) as r:
            assert r.status == 200
        assert worker.is_alive(), "the projection finished first: make it slower for this test to mean anything"
    finally:
        worker.join(timeout=120)
    assert done and done[0] in (200, 503), done

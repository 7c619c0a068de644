"""Hostile input to the API, the engine, the CLI and the catalog loader: every case a clear 4xx problem
naming the field (or a one-line error), never a 500, a hang or a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from pricing import Catalog, CatalogError, InvalidWorkloadError, UnknownModelError, Workload
from service.api.app import create_app
from service.cli import main
from tests.support import ACME, PROBLEM, ZONED, post

POSTS = ("/v1/quotes", "/v1/quotes/batch", "/v1/compare")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with TestClient(create_app(Catalog.loads(ACME, ZONED, names=["acme.toml", "zoned.toml"]))) as c:
        yield c


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


# -- deep nesting ---------------------------------------------------------------------------------


def _deep_bodies(depth: int) -> list[bytes]:
    """``depth`` levels of nesting at the top, inside a field, in arrays or objects, unterminated."""
    arrays, objects = b"[" * depth, b'{"a":' * depth
    return [
        arrays + b"]" * depth,
        arrays,
        objects + b"1" + b"}" * depth,
        objects,
        b'{"model": ' + arrays + b"]" * depth + b"}",
        b'{"model": "alpha", "input_tokens": ' + arrays,
        b'{"workloads": [' + objects,
        b'{"workloads": ' + arrays + b"]" * depth + b"}",
        b'{"workload": {"input_tokens": 1}, "models": ' + arrays,
        b'{"workload": ' + objects + b"1" + b"}" * depth + b"}",
    ]


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("depth", [981, 5_000, 100_000])
def test_deep_nesting_is_a_400_on_every_post(client: TestClient[Any], path: str, depth: int) -> None:
    for body in _deep_bodies(depth):
        response = post(client, path, body)
        assert response.status_code in (400, 422), (body[:60], response.text[:300])
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] in ("malformed_json", "invalid_request")


@pytest.mark.parametrize("path", POSTS)
def test_100000_brackets_answer_400_too_deep(client: TestClient[Any], path: str) -> None:
    p = problem_of(post(client, path, b"[" * 100_000 + b"]" * 100_000), 400)
    assert p["code"] == "malformed_json"
    assert "nests" in p["detail"]


#: The only substitutions below that make a valid request: ``at: null`` is now, ``{}`` a zero workload.
VALID = {("/v1/quotes", b'{"model": "alpha", "at": null}'), ("/v1/compare", b'{"workload": {}}')}


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("value", [b"1", b'"x"', b"true", b"null", b"[]", b"{}", b"1.5", b"[[1]]", b'{"a": {}}'])
def test_each_json_type_where_another_is_expected_is_a_4xx(client: TestClient[Any], path: str, value: bytes) -> None:
    for body in (value, b'{"model": ' + value + b"}", b'{"workloads": [' + value + b"]}",
                 b'{"workload": ' + value + b"}", b'{"workload": {}, "models": [' + value + b"]}",
                 b'{"model": "alpha", "at": ' + value + b"}"):
        response = post(client, path, body)
        if (path, body) in VALID:
            assert response.status_code == 200
            continue
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.headers["content-type"] == PROBLEM


# -- numbers out of range -------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 400, "1e-400"])
def test_a_number_no_type_holds_is_a_422_naming_the_field(client: TestClient[Any], number: str) -> None:
    p = problem_of(post(client, "/v1/quotes", f'{{"model": "alpha", "input_tokens": {number}}}'.encode()), 422)
    assert p["field"] == "$.input_tokens"
    p = problem_of(post(client, "/v1/quotes/batch",
                        f'{{"workloads": [{{"model": "alpha"}}, {{"model": "alpha", "requests": {number}}}]}}'.encode()),
                   422)
    assert p["field"] == "$.workloads[1].requests"
    assert p["index"] == 1


def test_a_malformed_body_with_a_huge_number_is_still_malformed(client: TestClient[Any]) -> None:
    p = problem_of(post(client, "/v1/quotes", b'{"model": "alpha", "input_tokens": 1e400,'), 400)
    assert p["code"] == "malformed_json"


# -- instants at the ends of the calendar ---------------------------------------------------------


@pytest.mark.parametrize("at", ["9999-12-31T16:00:00Z", "9999-12-31T23:59:59.999999Z",
                                "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z"])
def test_an_instant_at_the_end_of_the_calendar_is_a_4xx_on_a_zoned_window(client: TestClient[Any], at: str) -> None:
    for path, body in (("/v1/quotes", {"model": "night-owl", "at": at}),
                       ("/v1/quotes/batch", {"workloads": [{"model": "night-owl", "at": at}]}),
                       ("/v1/compare", {"workload": {"at": at}, "models": ["night-owl"]}),
                       ("/v1/compare", {"workload": {"at": at}})):
        response = post(client, path, body)
        assert response.status_code in (200, 422), (path, at, response.text)
        if response.status_code == 422:
            assert "at" in response.json()["detail"]


def test_the_engine_says_a_far_future_instant_is_out_of_range() -> None:
    catalog = Catalog.loads(ZONED)
    at = msgspec.convert("9999-12-31T16:00:00Z", datetime)
    with pytest.raises(InvalidWorkloadError) as err:
        catalog.quote(Workload(model="night-owl", at=at))
    assert err.value.field == "at"


def test_the_cli_says_a_far_future_instant_is_out_of_range_in_one_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "zoned.toml").write_text(ZONED)
    status = main(["quote", "night-owl", "--at", "9999-12-31T16:00:00Z", "--catalog", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "too far" in err and "Traceback" not in err


# -- long names -----------------------------------------------------------------------------------


def test_a_huge_unknown_name_is_refused_without_fuzzy_matching_and_not_echoed(client: TestClient[Any]) -> None:
    name = "x" * 7_000_000
    p = problem_of(post(client, "/v1/quotes", {"model": name}), 404)
    assert p["code"] == "unknown_model"
    assert len(p["detail"]) < 500
    p = problem_of(post(client, "/v1/compare", {"workload": {}, "models": ["alpha", name]}), 404)
    assert p["field"] == "$.models[1]"
    assert len(p["detail"]) < 500


def test_the_engine_skips_close_matches_for_a_name_over_the_cap() -> None:
    catalog = Catalog.loads(ACME)
    with pytest.raises(UnknownModelError) as err:
        catalog.model("alpha" * 100)
    assert err.value.suggestions == ()
    with pytest.raises(UnknownModelError) as err:
        catalog.model("alpah")
    assert err.value.suggestions == ("alpha",)


def test_a_long_provider_filter_is_a_404_without_echoing_it(client: TestClient[Any]) -> None:
    p = problem_of(client.get("/v1/models", params={"provider": "p" * 60_000}), 404)
    assert p["code"] == "unknown_provider"
    assert len(p["detail"]) < 500


# -- CLI counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", ["9999999999.9999999999999999999", "1." + "0" * 60 + "1", "9" * 5_000,
                                   "1" * 31, "0.0000000000000000000000000001B"])
def test_a_count_the_cli_cannot_read_exactly_is_a_one_line_error(count: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "service.cli", "quote", "o1", "--input", count],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert len(proc.stderr) < 400


# -- broken catalog folders -----------------------------------------------------------------------


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "acme.toml").write_text(ACME)
    return folder


def _make_socket(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


BROKEN: dict[str, Any] = {
    "a folder": lambda p: p.mkdir(),
    "a dangling symlink": lambda p: p.symlink_to(p.parent / "nowhere"),
    "a symlink loop": lambda p: p.symlink_to(p),
    "a socket": _make_socket,
    "a FIFO": lambda p: os.mkfifo(p),
    # Root reads a chmod 000 file; /proc/self/mem is unreadable (EIO) to everyone.
    "an unreadable file": lambda p: p.symlink_to("/proc/self/mem"),
    "TOML nested 5,000 deep": lambda p: p.write_text("a = " + "[" * 5_000 + "]" * 5_000),
    "TOML tables nested 5,000 deep": lambda p: p.write_text("a = " + "{b = " * 5_000 + "1" + "}" * 5_000),
    "a period at year 1 in +14:00": lambda p: p.write_text(
        ACME.replace('"acme"', '"early"').replace("2025-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", 1)),
    "a period at year 9999 in -14:00": lambda p: p.write_text(
        ACME.replace('"acme"', '"late"').replace("2025-01-01T00:00:00Z", "9999-12-31T23:00:00-14:00", 1)),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_catalog_entry_is_a_catalog_error_naming_it(tmp_path: Path, kind: str) -> None:
    folder = _folder(tmp_path)
    BROKEN[kind](folder / "broken.toml")
    with pytest.raises(CatalogError) as err:
        Catalog.load(folder)
    assert "broken.toml" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kind", ["a FIFO", "a socket", "a symlink loop", "TOML nested 5,000 deep"])
def test_a_broken_catalog_stops_the_cli_and_the_service_in_one_line(tmp_path: Path, kind: str) -> None:
    folder = _folder(tmp_path)
    BROKEN[kind](folder / "broken.toml")
    for argv in (["catalog", "check", str(folder)], ["models", "--catalog", str(folder)],
                 ["serve", "--port", "0", "--catalog", str(folder)]):
        proc = subprocess.run([sys.executable, "-m", "service.cli", *argv],
                              capture_output=True, text=True, timeout=60)
        said = proc.stdout + proc.stderr  # catalog check reports on stdout
        assert proc.returncode != 0, argv
        assert "broken.toml" in said and "Traceback" not in said, said
        assert said.strip().count("\n") == 0, said


def test_a_catalog_path_that_is_itself_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "catalog.toml"
    os.mkfifo(fifo)
    with pytest.raises(CatalogError, match="FIFO"):
        Catalog.load(fifo)


# -- further: strings, dates, headers -------------------------------------------------------------


@pytest.mark.parametrize(("body", "status"), [
    (b'{"model": "\\ud800"}', 400),  # a lone surrogate is not text
    (b'{"model": "alpha\\u0000"}', 404),
    (b'{"model": "alpha\\u001b[31m"}', 404),
    (b'{"model": "alpha", "at": "2025-13-01T00:00:00Z"}', 422),
    (b'{"model": "alpha", "at": "2025-01-01T00:00:00+99:00"}', 422),
    (b'{"model": "alpha", "at": "' + b"9" * 100_000 + b'"}', 422),
    (b'{"model": "alpha", "input_tokens": 1.0}', 422),
    (b'{"model": "alpha", "batch": "true"}', 422),
    (b"\xff\xfe{}", 400),
    (b"\xef\xbb\xbf{}", 400),
])
def test_odd_strings_and_dates_are_4xx(client: TestClient[Any], body: bytes, status: int) -> None:
    p = problem_of(post(client, "/v1/quotes", body), status)
    assert "\x1b" not in p["detail"] and "\x00" not in p["detail"]  # control characters come back escaped


def test_a_huge_content_type_is_refused_without_echoing_it(client: TestClient[Any]) -> None:
    p = problem_of(client.post("/v1/quotes", content=b"{}", headers={"content-type": "x" * 5_000}), 400)
    assert p["code"] == "unsupported_media_type" and len(p["detail"]) < 400


@pytest.mark.parametrize(("method", "path", "status"), [
    ("TRACE", "/v1/quotes", 405), ("POST", "/healthz", 405), ("GET", "/v1/models/%00", 404),
    ("GET", "/v1/models/%ff%fe", 404), ("GET", "/v1/models?provider=%ff", 404), ("DELETE", "/v1/models/o1", 405),
])
def test_odd_methods_and_paths_are_problem_documents(client: TestClient[Any], method: str, path: str,
                                                     status: int) -> None:
    problem_of(client.request(method, path), status)

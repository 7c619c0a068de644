"""Bad input gets an RFC 9457 problem document naming the field: never a 5xx, never a wrong number."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from pricing import MAX_TOKENS
from service.api.settings import MAX_BODY_BYTES
from tests.support import AT, JSON, PROBLEM, post, service_client


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with service_client() as c:
        yield c


def problem_of(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    p: dict[str, Any] = r.json()
    assert p["status"] == status and p["code"] == code and p["type"] == "about:blank"
    assert p["title"] and p["detail"]
    return p


# -- 400, 413: the body as a whole ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/quotes", "/v1/quotes/batch", "/v1/compare"])
@pytest.mark.parametrize("body", [b'{"model": "alpha"', b"{model: alpha}", b"\xff\xfe", b"null null"])
def test_malformed_json_is_400(client: TestClient[Any], path: str, body: bytes) -> None:
    p = problem_of(client.post(path, content=body, headers=JSON), 400, "malformed_json")
    assert "not valid JSON" in p["detail"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_wrong_content_type_is_400(client: TestClient[Any], content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    p = problem_of(client.post("/v1/quotes", content=b'{"model":"alpha"}', headers=headers),
                   400, "unsupported_media_type")
    assert "Content-Type: application/json" in p["detail"]


def test_empty_body_is_400(client: TestClient[Any]) -> None:
    problem_of(client.post("/v1/quotes", content=b"", headers=JSON), 400, "empty_body")


def test_body_over_the_limit_is_413(client: TestClient[Any]) -> None:
    body = b'{"workloads": [' + b" " * MAX_BODY_BYTES + b"]}"
    p = problem_of(client.post("/v1/quotes/batch", content=body, headers=JSON), 413, "body_too_large")
    assert f"{MAX_BODY_BYTES:,}" in p["detail"]


# -- 422: one field -------------------------------------------------------------------------------

BAD_WORKLOADS = [
    # (what, field, value, problem field, words the detail must hold)
    ("negative", "input_tokens", -1, "$.input_tokens", ">= 0"),
    ("fractional", "output_tokens", 1.5, "$.output_tokens", "Expected `int`, got `float`"),
    ("whole float", "output_tokens", 2.0, "$.output_tokens", "Expected `int`, got `float`"),
    ("exponent", "output_tokens", 1e3, "$.output_tokens", "Expected `int`, got `float`"),
    ("string", "input_tokens", "5", "$.input_tokens", "Expected `int`, got `str`"),
    ("boolean", "cached_input_tokens", True, "$.cached_input_tokens", "Expected `int`, got `bool`"),
    ("null", "output_tokens", None, "$.output_tokens", "Expected `int`, got `null`"),
    ("beyond max", "output_tokens", MAX_TOKENS + 1, "$.output_tokens", f"<= {MAX_TOKENS:_}"),
    ("way beyond", "input_tokens", 10**40, "$.input_tokens", "<="),
    ("1h write beyond max", "cache_write_1h_tokens", MAX_TOKENS + 1, "$.cache_write_1h_tokens", "<="),
    ("zero requests", "requests", 0, "$.requests", ">= 1"),
    ("negative requests", "requests", -3, "$.requests", ">= 1"),
    ("naive at", "at", "2025-06-02T12:00:00", "$.at", "timezone aware"),
    ("date only", "at", "2025-06-02", "$.at", "RFC3339"),
    ("garbage at", "at", "yesterday", "$.at", "RFC3339"),
    ("offset out of range", "at", "2025-06-02T12:00:00+25:00", "$.at", "RFC3339"),
    ("numeric at", "at", 1700000000, "$.at", "Expected `datetime"),
    ("batch string", "batch", "yes", "$.batch", "Expected `bool`"),
    ("batch number", "batch", 1, "$.batch", "Expected `bool`"),
    ("model number", "model", 5, "$.model", "Expected `str`"),
    ("model empty", "model", "  ", "$.model", "non-empty"),
    ("unknown field", "inputs", 5, "$.inputs", "unknown field `inputs`"),
]


@pytest.mark.parametrize(("what", "name", "value", "field", "words"), BAD_WORKLOADS,
                         ids=[case[0] for case in BAD_WORKLOADS])
def test_bad_field_is_422(client: TestClient[Any], what: str, name: str, value: Any, field: str,
                          words: str) -> None:
    body = {"model": "alpha", "input_tokens": 10, "at": AT, name: value}
    p = problem_of(post(client, "/v1/quotes", body), 422, "invalid_request")
    assert p["field"] == field
    assert words in p["detail"] and p["detail"].startswith(field)


def test_cached_and_writes_above_input_is_422(client: TestClient[Any]) -> None:
    body = {"model": "alpha", "input_tokens": 100, "cached_input_tokens": 60, "cache_write_tokens": 30,
            "cache_write_1h_tokens": 20, "at": AT}
    p = problem_of(post(client, "/v1/quotes", body), 422, "invalid_request")
    assert p["field"] == "$.cached_input_tokens"
    assert "exceed input_tokens (100)" in p["detail"]


@pytest.mark.parametrize(("body", "field"), [
    ({"input_tokens": 5}, "$.model"),
    ([{"model": "alpha"}], "$"),
    ("alpha", "$"),
    (5, "$"),
])
def test_missing_model_or_not_an_object_is_422(client: TestClient[Any], body: Any, field: str) -> None:
    p = problem_of(post(client, "/v1/quotes", body), 422, "invalid_request")
    assert p["field"] == field


# -- 404 and 422 from the catalog -----------------------------------------------------------------


def test_unknown_model_is_404_with_close_matches(client: TestClient[Any]) -> None:
    p = problem_of(post(client, "/v1/quotes", {"model": "alpah", "at": AT}), 404, "unknown_model")
    assert p["field"] == "$.model"
    assert "alpha" in p["matches"]
    assert "alpah" in p["detail"]


def test_unknown_model_without_close_matches(client: TestClient[Any]) -> None:
    p = problem_of(post(client, "/v1/quotes", {"model": "zzzzzzzz"}), 404, "unknown_model")
    assert p["matches"] == []
    assert "GET /v1/models" in p["detail"]


def test_ambiguous_model_is_404_listing_the_candidates(client: TestClient[Any]) -> None:
    p = problem_of(post(client, "/v1/quotes", {"model": "shared", "at": AT}), 404, "ambiguous_model")
    assert p["matches"] == ["acme/beta", "zeta/shared"]
    assert p["field"] == "$.model"


def test_no_price_at_that_instant_is_422(client: TestClient[Any]) -> None:
    before = problem_of(post(client, "/v1/quotes", {"model": "alpha", "at": "2024-12-31T23:59:59Z"}),
                        422, "no_price")
    assert before["field"] == "$.at" and "before 2025-01-01" in before["detail"]
    retired = problem_of(post(client, "/v1/quotes", {"model": "beta", "at": "2026-01-01T00:00:00Z"}),
                         422, "no_price")
    assert retired["field"] == "$.at" and "after 2026-01-01" in retired["detail"]


def test_no_batch_price_is_422_on_batch(client: TestClient[Any]) -> None:
    p = problem_of(post(client, "/v1/quotes", {"model": "gamma", "batch": True, "at": AT}), 422, "no_price")
    assert p["field"] == "$.batch" and "batch" in p["detail"]


# -- batch: the index and the field ---------------------------------------------------------------


def test_batch_names_the_index_and_field_of_a_bad_workload(client: TestClient[Any]) -> None:
    good = {"model": "alpha", "output_tokens": 1, "at": AT}
    bad = {"model": "alpha", "output_tokens": -7, "at": AT}
    p = problem_of(post(client, "/v1/quotes/batch", {"workloads": [good, good, good, bad, good]}),
                   422, "invalid_request")
    assert (p["index"], p["field"]) == (3, "$.workloads[3].output_tokens")
    typed = problem_of(post(client, "/v1/quotes/batch", {"workloads": [good, {**good, "requests": "2"}]}),
                       422, "invalid_request")
    assert (typed["index"], typed["field"]) == (1, "$.workloads[1].requests")


def test_batch_unknown_model_and_no_price_name_the_index(client: TestClient[Any]) -> None:
    good = {"model": "alpha", "output_tokens": 1, "at": AT}
    p = problem_of(post(client, "/v1/quotes/batch", {"workloads": [good, good, {"model": "alpah"}]}),
                   404, "unknown_model")
    assert (p["index"], p["field"], p["matches"]) == (2, "$.workloads[2].model", ["alpha"])
    late = {"model": "beta", "at": "2027-01-01T00:00:00Z"}
    p = problem_of(post(client, "/v1/quotes/batch", {"workloads": [late, good]}), 422, "no_price")
    assert (p["index"], p["field"]) == (0, "$.workloads[0].at")


@pytest.mark.parametrize(("body", "field"), [
    ({}, "$.workloads"),
    ({"workloads": {"model": "alpha"}}, "$.workloads"),
    ({"workloads": [], "extra": 1}, "$.extra"),
    ({"workloads": ["alpha"]}, "$.workloads[0]"),
])
def test_batch_shape_errors(client: TestClient[Any], body: Any, field: str) -> None:
    p = problem_of(post(client, "/v1/quotes/batch", body), 422, "invalid_request")
    assert p["field"] == field


# -- compare ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    ({"workload": {"model": "alpha"}}, 422, "invalid_request", "$.workload.model"),
    ({"workload": {"output_tokens": -1}}, 422, "invalid_request", "$.workload.output_tokens"),
    ({}, 422, "invalid_request", "$.workload"),
    ({"workload": {}, "models": []}, 422, "invalid_request", "$.models"),
    ({"workload": {}, "models": "alpha"}, 422, "invalid_request", "$.models"),
    ({"workload": {}, "models": ["alpha", 5]}, 422, "invalid_request", "$.models[1]"),
    ({"workload": {"at": AT}, "models": ["alpha", "alpah"]}, 404, "unknown_model", "$.models[1]"),
    ({"workload": {"at": AT}, "models": ["alpha", "shared"]}, 404, "ambiguous_model", "$.models[1]"),
    ({"workload": {"at": AT}, "baseline": "omega"}, 404, "unknown_model", "$.baseline"),
    ({"workload": {"at": "2027-01-01T00:00:00Z"}, "models": ["alpha", "beta"]}, 422, "no_price", "$.models[1]"),
    ({"workload": {"at": "2027-01-01T00:00:00Z"}, "baseline": "beta"}, 422, "no_price", "$.baseline"),
    ({"workload": {"at": AT, "batch": True}, "models": ["gamma"]}, 422, "no_price", "$.models[0]"),
])
def test_compare_errors(client: TestClient[Any], body: Any, status: int, code: str, field: str) -> None:
    p = problem_of(post(client, "/v1/compare", body), status, code)
    assert p["field"] == field


# -- models ----------------------------------------------------------------------------------------


def test_unknown_model_path_is_404(client: TestClient[Any]) -> None:
    p = problem_of(client.get("/v1/models/alpah"), 404, "unknown_model")
    assert p["matches"] == ["alpha"]
    p = problem_of(client.get("/v1/models/shared"), 404, "ambiguous_model")
    assert p["matches"] == ["acme/beta", "zeta/shared"]


def test_unknown_provider_is_404(client: TestClient[Any]) -> None:
    p = problem_of(client.get("/v1/models", params={"provider": "acmee"}), 404, "unknown_provider")
    assert p["matches"] == ["acme"] and p["field"] == "provider"


# -- routing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("GET", "/v1/quotes", "POST"), ("PUT", "/v1/quotes/batch", "POST"), ("DELETE", "/v1/compare", "POST"),
    ("POST", "/v1/models", "GET"), ("POST", "/healthz", "GET"),
])
def test_wrong_method_is_405(client: TestClient[Any], method: str, path: str, allowed: str) -> None:
    r = client.request(method, path, content=b"{}", headers=JSON)
    p = problem_of(r, 405, "method_not_allowed")
    assert allowed in r.headers["allow"] and allowed in p["detail"]


@pytest.mark.parametrize("path", ["/index.html", "/v2/quotes", "/v1/quote", "/v1/modelz", "/healthz/x"])  # "/" is the page
def test_unknown_path_is_404(client: TestClient[Any], path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] in {"not_found", "unknown_model"}


def test_a_bug_is_a_problem_document_too() -> None:
    """An engine failure the service does not expect is a logged 500 problem, not a traceback."""

    class Broken:
        digest = "sha256:x"

        def models(self, provider: str | None = None) -> tuple[()]:
            return ()

        def quote(self, workload: Any) -> Any:
            raise RuntimeError("boom")

    from service.api.app import create_app

    with TestClient(create_app(Broken())) as c:  # type: ignore[arg-type]
        r = c.post("/v1/quotes", content=b'{"model":"alpha"}', headers=JSON)
    assert r.status_code == 500
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "internal_error" and "boom" not in r.text

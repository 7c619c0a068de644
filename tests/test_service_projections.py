"""POST /v1/projections, /v1/budgets and /v1/plans: the engine's answers as JSON, and problems for bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from pricing import Catalog, Usage
from pricing.projection import project
from tests.support import post, service_client

MARCH = {"from": "2025-03-01T00:00:00Z", "until": "2025-04-01T00:00:00Z"}
USAGE = {"input_tokens": 1000, "output_tokens": 500}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with service_client(Catalog.default()) as c:
        yield c


def test_a_projection_is_the_engines(client: TestClient[Any]) -> None:
    r = post(client, "/v1/projections", {"model": "deepseek-chat", "usage": USAGE, "requests": 3_000_000, **MARCH})
    assert r.status_code == 200, r.text
    expected = project(Catalog.default(), "deepseek-chat", Usage(input_tokens=1000, output_tokens=500),
                       datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC), requests=3_000_000)
    assert r.json() == msgspec.json.decode(msgspec.json.encode(expected))
    assert r.json()["total"] == "2050" and r.json()["prices"][0]["requests"] == "1000000"


def test_several_models_are_ranked_and_converted(client: TestClient[Any]) -> None:
    r = post(client, "/v1/projections", {"models": ["deepseek-reasoner", "deepseek-chat"], "usage": USAGE,
                                         "requests_per_day": "100000", "currency": "VND",
                                         "fx": {"USD/VND": "25000"}, **MARCH})
    assert r.status_code == 200, r.text
    ranked = r.json()["projections"]
    assert [p["model"] for p in ranked] == ["deepseek-chat", "deepseek-reasoner"]
    assert ranked[0]["currency"] == "VND" and ranked[0]["fx"] == {"USD/VND": "25000"}
    # 100,000 a day for 31 days at 0.000683... a request (a third off-peak), times 25,000.
    assert ranked[0]["total"] == "52958333.3333333333" and ranked[0]["exact"] is False


def test_a_budget_and_a_plan(client: TestClient[Any]) -> None:
    r = post(client, "/v1/budgets", {"model": "deepseek-chat", "usage": USAGE, "amount": "1000",
                                     "from": "2025-03-01T00:00:00Z", "requests_per_day": "100000"})
    assert r.status_code == 200, r.text
    assert r.json()["exhausted_at"] == "2025-03-15T12:55:59Z"
    r = post(client, "/v1/plans", {"model": "deepseek-chat", "usage": USAGE, "requests": 100_000,
                                   "from": "2025-03-03T12:00:00Z", "until": "2025-03-04T12:00:00Z",
                                   "max_per_hour": "10000"})
    assert r.status_code == 200, r.text
    assert (r.json()["total"], r.json()["now_total"], r.json()["saving_percent"]) == ("49.2", "59.45", "17.24")


BAD = [
    ("/v1/projections", {"until": "2025-03-01T00:00:00Z"}, "$.until", "empty"),
    ("/v1/projections", {"until": "2025-02-01T00:00:00Z"}, "$.until", "reversed"),
    ("/v1/projections", {"until": "2036-03-01T00:00:00Z"}, "$.until", "10 years"),
    ("/v1/projections", {"shape": {"weights": ["1"] * 100}}, "$.shape.weights", "168"),
    ("/v1/projections", {"shape": {"weights": ["0"] * 168}}, "$.shape.weights", "all zero"),
    ("/v1/projections", {"requests": None, "requests_per_day": "-5"}, "$.requests_per_day", "negative"),
    ("/v1/projections", {"currency": "XYZ"}, "$.currency", "ISO 4217"),
    ("/v1/projections", {"currency": "EUR"}, "$.fx", "USD/EUR"),
    ("/v1/projections", {"currency": "VND", "fx": {"USD/VND": "-1"}}, "$.fx.USD/VND", "positive"),
    ("/v1/projections", {"model": "deepseek-chatt"}, "$.model", "unknown model"),
    ("/v1/projections", {"from": "2020-01-01T00:00:00Z"}, "$.from", "no price"),
    ("/v1/projections", {"usage": {"input_tokens": -1}}, "$.usage.input_tokens", ">= 0"),
    ("/v1/plans", {"max_per_hour": "-1"}, "$.max_per_hour", "positive"),
    ("/v1/plans", {"requests": 100_000, "max_per_hour": "1"}, "$.requests", "need"),
    ("/v1/budgets", {"amount": "-3"}, "$.amount", "non-negative"),
    ("/v1/budgets", {"cycle": "weekly"}, "$.cycle", "weekly"),
    # Non-finite, over-long and enormous decimals are refused before any arithmetic (no 500, no hang).
    *[(path, {"requests": None, "requests_per_day": None, rate: bad}, f"$.{rate}", "finite")
      for path in ("/v1/projections", "/v1/budgets") for rate in ("requests_per_day", "requests_per_hour")
      for bad in ("NaN", "Infinity", "-Infinity")],
    ("/v1/projections", {"requests": None, "requests_per_hour": "1e99999999"}, "$.requests_per_hour", "below"),
    ("/v1/projections", {"requests": None, "requests_per_day": "1e-99999999"}, "$.requests_per_day", "after the point"),
    ("/v1/projections", {"currency": "EUR", "fx": {"USD/EUR": "1.000000000000000000000000000000000000000000000000000000000000000000000000000000001"}}, "$.fx.USD/EUR", "after the point"),
    ("/v1/plans", {"currency": "EUR", "fx": {"USD/EUR": "1.000000000000000000000000000000000000000000000000000000000000000000000000000000001"}}, "$.fx.USD/EUR", "after the point"),
    ("/v1/projections", {"currency": "EUR", "fx": {"USD/EUR": "1e99999999"}}, "$.fx.USD/EUR", "below"),
    ("/v1/projections", {"currency": "EUR", "fx": {"USD/EUR": "NaN"}}, "$.fx.USD/EUR", "finite"),
    ("/v1/projections", {"shape": {"weights": ["1e99999999"] * 168}}, "$.shape.weights[0]", "below"),
    ("/v1/plans", {"max_per_hour": "1e99999999"}, "$.max_per_hour", "below"),
    ("/v1/plans", {"max_per_hour": "Infinity"}, "$.max_per_hour", "finite"),
    ("/v1/budgets", {"amount": "1e99999999"}, "$.amount", "below"),
    ("/v1/budgets", {"spent": "1e-99999999"}, "$.spent", "after the point"),
    ("/v1/budgets", {"amount": "NaN"}, "$.amount", "finite"),
]


@pytest.mark.parametrize(("path", "change", "field", "words"), BAD)
def test_bad_input_is_a_problem_naming_the_field(client: TestClient[Any], path: str, change: dict[str, Any],
                                                 field: str, words: str) -> None:
    base: dict[str, Any] = {
        "/v1/projections": {"model": "deepseek-chat", "usage": USAGE, "requests": 10, **MARCH},
        "/v1/plans": {"model": "deepseek-chat", "usage": USAGE, "requests": 100, **MARCH, "max_per_hour": "10"},
        "/v1/budgets": {"model": "deepseek-chat", "usage": USAGE, "amount": "10", "from": MARCH["from"],
                        "requests_per_day": "10"},
    }[path]
    body = {k: v for k, v in (base | change).items() if v is not None}
    r = post(client, path, body)
    assert r.status_code in (404, 422), r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field and words in r.json()["detail"], r.json()


def test_a_baseline_without_models_is_refused(client: TestClient[Any]) -> None:
    r = post(client, "/v1/projections", {"model": "deepseek-chat", "baseline": "o1", "usage": USAGE,
                                         "requests": 10, **MARCH})
    assert r.status_code == 422 and r.json()["field"] == "$.baseline", r.text

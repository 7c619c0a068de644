"""Generated JSON at every endpoint: never a 5xx, and every 200 is exactly the engine's own answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import msgspec
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from pricing import MAX_REQUESTS, MAX_TOKENS, Catalog, Usage, Workload
from tests.strategies import instants, usages, workloads
from tests.support import JSON, PROBLEM, service_client, test_catalog

CATALOG = test_catalog()
#: Names with a price at every instant of 2025.
PRICED = ["alpha", "a1", "ACME/alpha", "beta", "acme/shared", "zeta/shared", "gamma"]
NAMES = ["alpha", "a1", "ACME/alpha", "beta", "acme/shared", "zeta/shared", "gamma", "shared", "alpah",
         "", "omega", "acme/", "/alpha"]
FIELDS = ["model", "input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens",
          "output_tokens", "requests", "at", "batch"]

# The function-scoped client fixture is reused across examples on purpose: the app is stateless.
_SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with service_client(CATALOG) as c:
        yield c


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Values near the edges of what each field accepts, valid and not.
edge_values = st.one_of(
    st.sampled_from([0, 1, -1, MAX_TOKENS, MAX_TOKENS + 1, MAX_REQUESTS, MAX_REQUESTS + 1, 10**40, 1.5, 2.0,
                     "5", "1k", True, False, None, [], {}, "2025-06-02T12:00:00Z", "2025-06-02T12:00:00",
                     "2025-06-02T23:30:00+08:00", "2025-13-02T12:00:00Z", "now", "2024-01-01T00:00:00Z"]),
    st.sampled_from(NAMES),
    json_values,
)


def _as_json(value: Any) -> Any:
    """``value`` as the JSON the API would send for it, decoded."""
    return msgspec.json.decode(msgspec.json.encode(value))


#: Mostly instants every test model has a price at (2025), sometimes any.
in_2025 = instants(datetime(2025, 1, 2), datetime(2025, 12, 30))
priced_instants = st.one_of(st.none(), in_2025, instants())
names = st.one_of(st.sampled_from(PRICED), st.sampled_from(NAMES))


@st.composite
def workload_bodies(draw: st.DrawFn, bend: bool = True) -> Any:
    """Valid workloads, some of them bent (``bend``): a field replaced, dropped or added."""
    if not bend:
        valid = draw(workloads(st.just("alpha"), at=in_2025, batch=st.just(False)))
        return {**_as_json(valid), "model": draw(st.sampled_from(PRICED))}
    valid = draw(workloads(st.just("alpha"), at=priced_instants))
    # Left-out fields take the engine's defaults (which may then make the workload invalid).
    body: dict[str, Any] = {k: v for k, v in _as_json(valid).items() if draw(st.booleans()) or k == "model"}
    body["model"] = draw(names)
    if draw(st.booleans()):
        for _ in range(draw(st.integers(1, 2))):
            body[draw(st.sampled_from([*FIELDS, "extra", "Model"]))] = draw(edge_values)
        if draw(st.integers(0, 9)) == 0:
            body.pop("model", None)
    return body


any_body = st.one_of(workload_bodies(), json_values)


def expect_problem_or_ok(r: Any) -> bool:
    """Not a 5xx; a problem document unless 200. True when 200."""
    event(f"status {r.status_code}")
    assert r.status_code < 500, r.text
    if r.status_code == 200:
        assert r.headers["content-type"] == "application/json"
        return True
    assert r.headers["content-type"] == PROBLEM, r.text
    p = r.json()
    assert p["status"] == r.status_code and p["detail"] and p["code"]
    return False


def engine_quote(catalog: Catalog, body: Any, at: str) -> Any:
    """The engine's quote of the workload the API accepted, at the instant the API priced it."""
    workload = msgspec.json.decode(msgspec.json.encode(body), type=Workload)
    instant = datetime.fromisoformat(at)
    return _as_json(catalog.quote(msgspec.structs.replace(workload, at=workload.at or instant)))


@_SETTINGS
@given(body=any_body)
def test_quote(client: TestClient[Any], body: Any) -> None:
    r = client.post("/v1/quotes", content=msgspec.json.encode(body), headers=JSON)
    if expect_problem_or_ok(r):
        q = r.json()
        assert q == engine_quote(CATALOG, body, q["at"])
        assert Decimal(q["total"]) == sum((Decimal(line["amount"]) for line in q["lines"]), Decimal(0))


@_SETTINGS
@given(bodies=st.one_of(st.lists(workload_bodies(bend=False), max_size=8), st.lists(any_body, max_size=5)),
       wrap=st.booleans())
def test_batch(client: TestClient[Any], bodies: list[Any], wrap: bool) -> None:
    payload = {"workloads": bodies} if wrap else bodies
    r = client.post("/v1/quotes/batch", content=msgspec.json.encode(payload), headers=JSON)
    if expect_problem_or_ok(r):
        result = r.json()
        assert len(result["quotes"]) == len(bodies)
        totals: dict[str, Decimal] = {}
        for body, q in zip(bodies, result["quotes"], strict=True):
            assert q == engine_quote(CATALOG, body, q["at"])
            totals[q["currency"]] = totals.get(q["currency"], Decimal(0)) + Decimal(q["total"])
        assert {k: Decimal(v) for k, v in result["totals"].items()} == totals
    elif r.status_code in (404, 422) and wrap and r.json().get("index") is not None:
        assert 0 <= r.json()["index"] < len(bodies)


@st.composite
def compare_bodies(draw: st.DrawFn) -> Any:
    body: dict[str, Any] = {"workload": _as_json(draw(usages(at=priced_instants)))}
    if draw(st.booleans()):
        body["models"] = draw(st.lists(names, min_size=1, max_size=4))
    if draw(st.booleans()):
        body["baseline"] = draw(names)
    if draw(st.integers(0, 3)) == 0:
        body[draw(st.sampled_from(["workload", "models", "baseline", "extra"]))] = draw(edge_values)
    return body


@_SETTINGS
@given(body=st.one_of(compare_bodies(), json_values))
def test_compare(client: TestClient[Any], body: Any) -> None:
    r = client.post("/v1/compare", content=msgspec.json.encode(body), headers=JSON)
    if expect_problem_or_ok(r):
        quotes = r.json()["quotes"]
        usage = msgspec.convert(body["workload"], Usage)
        if quotes:
            at = datetime.fromisoformat(quotes[0]["at"])
            usage = msgspec.structs.replace(usage, at=usage.at or at)
        expected = CATALOG.compare(usage, body.get("models"), body.get("baseline"))
        assert quotes == _as_json(expected)


@_SETTINGS
@given(name=st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=30)))
def test_model_lookup(client: TestClient[Any], name: str) -> None:
    r = client.get("/v1/models/" + quote(name, safe="/"))
    assert r.status_code < 500, r.text


@_SETTINGS
@given(provider=st.one_of(st.sampled_from(["acme", "zeta", "Acme", "acme "]), st.text(max_size=12)))
def test_models_by_provider(client: TestClient[Any], provider: str) -> None:
    r = client.get("/v1/models", params={"provider": provider})
    if expect_problem_or_ok(r):
        assert all(m["provider"] == provider for m in r.json()["models"])


@_SETTINGS
@given(body=st.binary(max_size=64), path=st.sampled_from(["/v1/quotes", "/v1/quotes/batch", "/v1/compare"]))
def test_arbitrary_bytes(client: TestClient[Any], body: bytes, path: str) -> None:
    r = client.post(path, content=body, headers=JSON)
    assert r.status_code in (200, 400, 404, 422), r.text
    expect_problem_or_ok(r)

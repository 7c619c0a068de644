"""The HTTP API's successful answers, through Litestar's test client, on a catalog the tests control."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from pricing import Catalog, Workload
from service.api.settings import MAX_BATCH
from tests.support import AT, NIGHT, post, service_client, test_catalog


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return test_catalog()


@pytest.fixture(scope="module")
def client(catalog: Catalog) -> Iterator[TestClient[Any]]:
    with service_client(catalog) as c:
        yield c


def engine_json(catalog: Catalog, **fields: Any) -> Any:
    """What the engine itself says for this workload, as the JSON the API should send."""
    if isinstance(fields.get("at"), str):
        fields["at"] = datetime.fromisoformat(fields["at"].replace("Z", "+00:00"))
    return msgspec.json.decode(msgspec.json.encode(catalog.quote(Workload(**fields))))


# -- POST /v1/quotes ------------------------------------------------------------------------------


def test_quote_itemises_every_kind_of_token(client: TestClient[Any], catalog: Catalog) -> None:
    body = {"model": "alpha", "input_tokens": 100_000, "cached_input_tokens": 20_000,
            "cache_write_tokens": 10_000, "cache_write_1h_tokens": 5_000, "output_tokens": 50_000,
            "requests": 2, "at": AT}
    r = post(client, "/v1/quotes", body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    q = r.json()
    # Worked by hand from the test catalog: (100k - 20k - 10k - 5k) x 2 x 1/M, 40k x 0.5/M, ...
    assert {line["kind"]: (line["tokens"], line["rate"], line["amount"]) for line in q["lines"]} == {
        "input": (130_000, "1", "0.13"),
        "cached_input": (40_000, "0.5", "0.02"),
        "cache_write": (20_000, "1.25", "0.025"),
        "cache_write_1h": (10_000, "2", "0.02"),
        "output": (100_000, "4", "0.4"),
    }
    assert q["total"] == "0.595"
    assert (q["model"], q["provider"], q["currency"], q["at"]) == ("alpha", "acme", "USD", AT)
    assert q["source"] == "https://example.com/acme/pricing"
    assert q["catalog_digest"] == catalog.digest
    assert q == engine_json(catalog, **body)


def test_money_is_always_a_json_string(client: TestClient[Any]) -> None:
    q = post(client, "/v1/quotes", {"model": "alpha", "input_tokens": 7, "output_tokens": 3, "at": AT}).json()
    assert isinstance(q["total"], str)
    for line in q["lines"]:
        assert isinstance(line["rate"], str) and isinstance(line["amount"], str)
        Decimal(line["amount"])  # parses exactly
    assert Decimal(q["total"]) == Decimal(7) * 1 / 1_000_000 + Decimal(3) * 4 / 1_000_000


@pytest.mark.parametrize("name", ["alpha", "a1", "ALPHA", "acme/alpha", "acme/a1", " alpha "])
def test_any_name_that_resolves(client: TestClient[Any], name: str) -> None:
    q = post(client, "/v1/quotes", {"model": name, "output_tokens": 1_000_000, "at": AT}).json()
    assert (q["provider"], q["model"], q["total"]) == ("acme", "alpha", "4")


def test_only_model_is_required_and_at_defaults_to_now(client: TestClient[Any]) -> None:
    before = datetime.now(UTC)
    r = post(client, "/v1/quotes", {"model": "gamma"})
    after = datetime.now(UTC)
    assert r.status_code == 200, r.text
    q = r.json()
    assert before <= datetime.fromisoformat(q["at"]) <= after
    assert q["total"] == "0" and q["requests"] == 1 and q["batch"] is False


def test_window_tier_and_batch_rates(client: TestClient[Any]) -> None:
    night = post(client, "/v1/quotes", {"model": "alpha", "output_tokens": 1_000_000, "at": NIGHT}).json()
    assert (night["window"], night["total"]) == ("night", "2")
    tier = post(client, "/v1/quotes", {"model": "alpha", "input_tokens": 300_000, "output_tokens": 1_000,
                                       "at": AT}).json()
    assert (tier["tier"], tier["total"]) == (">200000", "0.608")
    batch = post(client, "/v1/quotes", {"model": "alpha", "output_tokens": 1_000_000, "batch": True,
                                        "at": AT}).json()
    assert (batch["batch"], batch["total"]) == (True, "2")


def test_an_offset_is_kept(client: TestClient[Any], catalog: Catalog) -> None:
    # 2025-06-03T07:00+08:00 is 23:00 UTC: inside the night window.
    q = post(client, "/v1/quotes", {"model": "alpha", "output_tokens": 1_000_000,
                                    "at": "2025-06-03T07:00:00+08:00"}).json()
    assert q["at"] == "2025-06-03T07:00:00+08:00"
    assert q["window"] == "night" and q["total"] == "2"


def test_charset_in_the_content_type_is_fine(client: TestClient[Any]) -> None:
    r = client.post("/v1/quotes", content=b'{"model":"alpha"}',
                    headers={"content-type": "application/json; charset=utf-8"})
    assert r.status_code == 200, r.text


# -- POST /v1/quotes/batch ------------------------------------------------------------------------


def test_batch_keeps_order_and_totals_per_currency(client: TestClient[Any], catalog: Catalog) -> None:
    workloads = [
        {"model": "gamma", "output_tokens": 1_000_000, "at": AT},
        {"model": "zeta/shared", "input_tokens": 1_000_000, "at": AT},
        {"model": "alpha", "output_tokens": 500_000, "requests": 3, "at": AT},
        {"model": "zeta/shared", "output_tokens": 1, "at": AT},
    ]
    r = post(client, "/v1/quotes/batch", {"workloads": workloads})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [q["model"] for q in body["quotes"]] == ["gamma", "shared", "alpha", "shared"]
    assert body["quotes"] == [engine_json(catalog, **w) for w in workloads]
    # 0.3 + 6 in USD; 2 + 0.000005 in EUR: never added across currencies.
    assert body["totals"] == {"USD": "6.3", "EUR": "2.000005"}


def test_empty_batch(client: TestClient[Any]) -> None:
    r = post(client, "/v1/quotes/batch", {"workloads": []})
    assert r.status_code == 200
    assert r.json() == {"quotes": [], "totals": {}}


def test_batch_of_the_documented_limit(client: TestClient[Any]) -> None:
    one = {"model": "gamma", "input_tokens": 1, "output_tokens": 1, "at": AT}
    r = post(client, "/v1/quotes/batch", {"workloads": [one] * MAX_BATCH})
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert len(body["quotes"]) == MAX_BATCH >= 10_000
    # 10,000 x (0.1 + 0.3) / 1M, exactly.
    assert Decimal(body["totals"]["USD"]) == Decimal("0.004")
    over = post(client, "/v1/quotes/batch", {"workloads": [one] * (MAX_BATCH + 1)})
    assert over.status_code == 422
    assert over.json()["field"] == "$.workloads"


def test_batch_without_at_prices_every_workload_at_one_instant(client: TestClient[Any]) -> None:
    body = post(client, "/v1/quotes/batch", {"workloads": [{"model": "gamma"}] * 5}).json()
    assert len({q["at"] for q in body["quotes"]}) == 1


# -- POST /v1/compare -----------------------------------------------------------------------------


def test_compare_ranks_every_model_priced_then(client: TestClient[Any], catalog: Catalog) -> None:
    r = post(client, "/v1/compare", {"workload": {"output_tokens": 1_000_000, "at": AT}, "baseline": "alpha"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["baseline"] == "acme/alpha"
    got = [(q["provider"], q["model"], q["currency"], q["total"], q["savings_percent"]) for q in body["quotes"]]
    # Currencies are never compared: EUR sorts apart, without a saving against a USD baseline.
    assert got == [
        ("zeta", "shared", "EUR", "5", None),
        ("acme", "gamma", "USD", "0.3", "92.50"),
        ("acme", "alpha", "USD", "4", "0.00"),
        ("acme", "beta", "USD", "6", "-50.00"),
    ]
    for q in body["quotes"]:
        expected = engine_json(catalog, model=f"{q['provider']}/{q['model']}", output_tokens=1_000_000, at=AT)
        assert {k: v for k, v in q.items() if k != "savings_percent"} == expected


def test_compare_named_models_and_retired_ones(client: TestClient[Any]) -> None:
    # beta's price ended on 2026-01-01: listing every model then leaves it out.
    later = {"output_tokens": 1_000, "at": "2026-06-01T00:00:00Z"}
    names = [(q["provider"], q["model"]) for q in post(client, "/v1/compare", {"workload": later}).json()["quotes"]]
    assert ("acme", "beta") not in names and ("acme", "gamma") in names
    chosen = post(client, "/v1/compare", {"workload": {"output_tokens": 1_000, "at": AT},
                                          "models": ["a1", "gamma"]}).json()
    assert [q["model"] for q in chosen["quotes"]] == ["gamma", "alpha"]
    assert all(q["savings_percent"] is None for q in chosen["quotes"]) and chosen["baseline"] is None


def test_compare_the_seed_claim(catalog: Catalog) -> None:
    """The seed article's 96.4%: R1's 2.19 against o1's 60 per million output tokens."""
    with service_client(Catalog.default()) as c:
        r = post(c, "/v1/compare", {"workload": {"output_tokens": 1_000_000, "at": "2025-01-31T12:00:00Z"},
                                    "models": ["deepseek/deepseek-reasoner"], "baseline": "o1"})
    assert r.status_code == 200, r.text
    by_model = {q["model"]: q for q in r.json()["quotes"]}
    assert by_model["deepseek-reasoner"]["total"] == "2.19"
    assert by_model["o1"]["total"] == "60"
    assert by_model["deepseek-reasoner"]["savings_percent"] == "96.35"


# -- GET /v1/models, /healthz ---------------------------------------------------------------------


def test_models_lists_history_windows_tiers_and_batch(client: TestClient[Any], catalog: Catalog) -> None:
    r = client.get("/v1/models")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 4 and body["catalog_digest"] == catalog.digest
    assert [f"{m['provider']}/{m['id']}" for m in body["models"]] == [
        "acme/alpha", "acme/beta", "acme/gamma", "zeta/shared"]
    alpha = body["models"][0]
    assert alpha["aliases"] == ["a1"]
    period = alpha["periods"][0]
    assert (period["from"], period["input"], period["output"], period["currency"]) == (
        "2025-01-01T00:00:00Z", "1", "4", "USD")
    assert period["windows"][0]["name"] == "night" and period["windows"][0]["start"] == "22:00:00"
    assert period["tiers"] == [{"input": "2", "output": "8", "cached_input": None, "cache_write": None,
                                "cache_write_1h": None, "threshold": 200000, "boundary": ">"}]
    assert period["batch"]["input"] == "0.5"
    assert body["models"][1]["periods"][0]["until"] == "2026-01-01T00:00:00Z"


def test_models_by_provider(client: TestClient[Any]) -> None:
    body = client.get("/v1/models", params={"provider": "zeta"}).json()
    assert [m["id"] for m in body["models"]] == ["shared"] and body["count"] == 1


@pytest.mark.parametrize(("name", "key"), [("alpha", "acme/alpha"), ("a1", "acme/alpha"),
                                           ("acme/alpha", "acme/alpha"), ("acme/shared", "acme/beta"),
                                           ("zeta/shared", "zeta/shared"), ("Gamma", "acme/gamma")])
def test_one_model_by_any_name(client: TestClient[Any], name: str, key: str) -> None:
    r = client.get(f"/v1/models/{name}")
    assert r.status_code == 200, r.text
    m = r.json()
    assert f"{m['provider']}/{m['id']}" == key
    assert m["periods"]


def test_healthz(client: TestClient[Any], catalog: Catalog) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "catalog_digest": catalog.digest, "models": 4}

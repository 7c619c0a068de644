"""Routes, shutdowns and currencies through the API and the CLI: 200s that say what was priced, and
422 problems that name the field to fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from pricing import Catalog
from service.cli import main
from tests.support import post, service_client
from tests.test_engine_routes_currency import CATALOG

BEFORE = "2025-05-31T23:59:59.999999Z"
AFTER = "2025-06-01T00:00:00Z"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with service_client(Catalog.loads(CATALOG, names=["acme.toml"])) as c:
        yield c


def problem(r: Any, code: str, field: str) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    body: dict[str, Any] = r.json()
    assert (body["code"], body["field"]) == (code, field), body
    return body


def test_a_routed_quote_says_so(client: TestClient[Any]) -> None:
    body = post(client, "/v1/quotes", {"model": "old", "output_tokens": 1_000_000, "at": AFTER}).json()
    assert (body["model"], body["routed_from"], body["total"]) == ("new", "old", "2")
    before = post(client, "/v1/quotes", {"model": "old", "output_tokens": 1_000_000, "at": BEFORE}).json()
    assert (before["model"], before["routed_from"], before["total"]) == ("old", None, "8")


def test_a_cny_quote(client: TestClient[Any]) -> None:
    body = post(client, "/v1/quotes", {"model": "old", "output_tokens": 1_000_000, "at": BEFORE,
                                       "currency": "CNY"}).json()
    assert (body["currency"], body["total"], body["source"]) == ("CNY", "56", "https://acme.example/zh/pricing")


def test_a_currency_without_a_price_list_names_currency(client: TestClient[Any]) -> None:
    p = problem(post(client, "/v1/quotes", {"model": "old", "at": BEFORE, "currency": "EUR"}), "no_price", "$.currency")
    assert "no price list in EUR; it is priced in USD, CNY" in p["detail"]
    p = problem(post(client, "/v1/quotes/batch", {"workloads": [
        {"model": "old", "at": BEFORE, "currency": "CNY"}, {"model": "new", "at": BEFORE, "currency": "CNY"}]}),
        "no_price", "$.workloads[1].currency")
    assert p["index"] == 1


def test_a_currency_that_is_not_a_code_names_currency(client: TestClient[Any]) -> None:
    p = problem(post(client, "/v1/quotes", {"model": "old", "currency": "cny"}), "invalid_request", "$.currency")
    assert "ISO 4217" in p["detail"]
    problem(post(client, "/v1/quotes", {"model": "old", "currency": 978}), "invalid_request", "$.currency")


def test_compare_in_a_currency_blames_the_model(client: TestClient[Any]) -> None:
    workload = {"output_tokens": 1000, "at": BEFORE, "currency": "CNY"}
    p = problem(post(client, "/v1/compare", {"workload": workload, "models": ["old", "new"]}),
                "no_price", "$.models[1]")
    assert "acme/new has no price list in CNY" in p["detail"]
    ranked = post(client, "/v1/compare", {"workload": workload}).json()
    assert [(q["model"], q["currency"]) for q in ranked["quotes"]] == [("old", "CNY")]


def test_a_shut_down_model_names_at(client: TestClient[Any]) -> None:
    p = problem(post(client, "/v1/quotes", {"model": "ended", "at": "2025-03-01T00:00:00Z"}), "no_price", "$.at")
    assert "acme/ended was shut down on 2025-03-01" in p["detail"]
    p = problem(post(client, "/v1/compare", {"workload": {"at": AFTER}, "models": ["new", "ended"]}),
                "no_price", "$.models[1]")


def test_a_routed_name_in_compare_is_blamed_by_its_own_name(client: TestClient[Any]) -> None:
    p = problem(post(client, "/v1/compare", {"workload": {"at": AFTER}, "models": ["new", "chain"]}),
                "no_price", "$.models[1]")
    assert "route to the final model" in p["detail"]


# -- the CLI --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("routes") / "acme.toml"
    path.write_text(CATALOG)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_quote_in_cny(capsys: pytest.CaptureFixture[str], catalog_file: Path) -> None:
    status, out, err = run(capsys, "quote", "old", "--output", "1M", "--at", BEFORE, "--currency", "CNY",
                           "--catalog", str(catalog_file))
    assert (status, err) == (0, "")
    assert "CNY per 1M" in out and "https://acme.example/zh/pricing" in out
    totals = [line.split() for line in out.splitlines() if line.startswith("total")]
    assert totals == [["total", "56"]]


def test_cli_quote_in_a_currency_not_listed(capsys: pytest.CaptureFixture[str], catalog_file: Path) -> None:
    status, out, err = run(capsys, "quote", "old", "--at", BEFORE, "--currency", "EUR", "--catalog", str(catalog_file))
    assert (status, out) == (2, "")
    assert len(err.strip().splitlines()) == 1
    assert "no price list in EUR; it is priced in USD, CNY" in err


def test_cli_quote_names_the_flag_of_a_bad_currency(capsys: pytest.CaptureFixture[str], catalog_file: Path) -> None:
    status, _, err = run(capsys, "quote", "old", "--currency", "yuan", "--catalog", str(catalog_file))
    assert status == 2 and err.count("\n") == 1
    assert "--currency: must be an ISO 4217 code" in err


def test_cli_quote_says_a_name_was_routed(capsys: pytest.CaptureFixture[str], catalog_file: Path) -> None:
    status, out, _ = run(capsys, "quote", "old", "--output", "1M", "--at", AFTER, "--catalog", str(catalog_file))
    assert status == 0
    assert out.splitlines()[:2] == ["acme/new at 2025-06-01T00:00:00Z (1 request)",
                                    "acme/old is billed as acme/new at that instant"]
    status, out, _ = run(capsys, "compare", "--models", "old,new", "--at", AFTER, "--catalog", str(catalog_file))
    assert status == 0
    assert "acme/old (billed as new)" in out

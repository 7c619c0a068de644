"""Usage priced in any listed currency (``--currency``): every engine prices each row in that price
list exactly as ``Catalog.quote(Workload(currency=...))`` does, and a model without the list gets
``no_price_in_currency`` (the engine's ``NoCurrencyPriceError``) in its place."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from pricing import NoCurrencyPriceError, Workload
from pricing.usage_tables import compile_tables
from service.usage import UsageInputError, UsageJob, price_usage
from tests.support import service_client
from tests.test_usage_engines import case_rows, price_file
from tests.usage_rows import CATALOG, MODELS, usage_row, write_parquet

FIXTURES = Path(__file__).parent / "fixtures" / "usage"
#: Models with a second price list, and the instants where their CNY list begins, ends and changes.
LISTED = [m for m in MODELS if len({p.currency for p in m.periods}) > 1]


def _cny_edges() -> list[tuple[str, datetime]]:
    out = []
    for model in LISTED:
        for p in model.periods:
            for at in (p.starts, p.until):
                if at is not None:
                    out += [(model.id, at), (model.id, at - timedelta(microseconds=1)),
                            (model.id, at + timedelta(hours=9, minutes=30))]
    return out


@st.composite
def cny_row(draw: st.DrawFn) -> dict[str, Any]:
    """A row of a model with a CNY list (at its list's edges and windows), or of any model."""
    row = draw(usage_row())
    if draw(st.booleans()):
        model, at = draw(st.sampled_from(_cny_edges()))
        row["model"] = model
        row["at"] = (at + timedelta(days=draw(st.integers(0, 40)))).astimezone(UTC)
    return row


def test_the_fixture_sets_out_what_the_engine_raises(tmp_path: Path) -> None:
    summary = price_usage(UsageJob(source=FIXTURES / "canonical.csv", currency="CNY", out=tmp_path / "o.csv"),
                          CATALOG)
    assert summary.currency == "CNY"
    assert summary.errors == {"no_price_in_currency": 3, "unknown_model": 1}
    assert [t.currency for t in summary.totals] == ["CNY"]
    # a4: deepseek-chat on 2025-04-23T17:00Z, 5000 in / 800 out: the CNY card, as Catalog.quote says.
    quote = CATALOG.quote(Workload(model="deepseek-chat", at=datetime(2025, 4, 23, 17, tzinfo=UTC),
                                   input_tokens=5000, output_tokens=800, currency="CNY"))
    assert quote.currency == "CNY"
    assert summary.totals[0].total == format(quote.total.quantize(__import__("decimal").Decimal("1e-12")), "f")
    with pytest.raises(NoCurrencyPriceError):
        CATALOG.quote(Workload(model="gpt-4o-2024-08-06", at=datetime(2025, 3, 1, tzinfo=UTC), currency="CNY"))
    lines = (tmp_path / "o.csv").read_text().splitlines()
    assert lines[1].endswith(",no_price_in_currency,") and ",CNY," in lines[4]


@settings(max_examples=15)
@given(st.lists(cny_row(), min_size=1, max_size=40))
def test_duckdb_prices_every_row_in_cny_as_the_python_engine(rows: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        python = price_file([dict(r) for r in rows], "python", Path(folder), currency="CNY")
        duck = price_file([dict(r) for r in rows], "duckdb", Path(folder), currency="CNY")
    assert duck == python
    assert {r["currency"] for r in duck} <= {"CNY", None}


def test_every_case_and_usd_asked_explicitly_price_as_the_default(tmp_path: Path) -> None:
    rows = case_rows()
    default = price_file([dict(r) for r in rows], "duckdb", tmp_path)
    # Asking for USD is the default list for every model whose first list is USD (all shipped ones).
    assert price_file([dict(r) for r in rows], "duckdb", tmp_path, currency="USD") == default
    assert price_file([dict(r) for r in rows], "python", tmp_path, currency="USD") == default
    cny = price_file([dict(r) for r in rows], "duckdb", tmp_path, currency="CNY")
    assert cny == price_file([dict(r) for r in rows], "python", tmp_path, currency="CNY")
    # Invalid and unknown rows keep their reason (checked before the price list); gpt-4o in 2020 has
    # no price at all, but the missing list is what the engine names first, as here.
    expected = [r["error"] for r in default[5:12]]
    expected[2] = "no_price_in_currency"
    assert [r["error"] for r in cny[5:12]] == expected
    assert (cny[0]["currency"], cny[0]["window"]) == ("CNY", "off-peak")
    assert cny[3]["error"] == "no_price_in_currency" and cny[3]["total"] is None


def test_spark_prices_cny_as_the_python_engine(spark: Any, tmp_path: Path) -> None:
    rows = [dict(r, model=m, at=at) for r, (m, at) in zip(case_rows() * 4, _cny_edges(), strict=False)]
    source = write_parquet([dict(r) for r in rows], tmp_path / "in.parquet")
    out = tmp_path / "spark.parquet"
    price_usage(UsageJob(source=source, engine="spark", out=out, spark_session=spark, currency="CNY"), CATALOG)
    from tests.usage_rows import read_rows

    assert read_rows(out) == price_file([dict(r) for r in rows], "python", tmp_path, currency="CNY")
    assert any(r["currency"] == "CNY" for r in read_rows(out))


def test_the_tables_mark_a_model_without_the_list() -> None:
    tables = compile_tables(CATALOG, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC), "CNY")
    periods = tables.table("price_periods")
    currency = periods.columns.index("currency")
    model_key = periods.columns.index("model_key")
    by_model: dict[str, set[object]] = {}
    for row in periods.rows:
        by_model.setdefault(str(row[model_key]), set()).add(row[currency])
    assert by_model["deepseek/deepseek-chat"] == {"CNY"}
    assert by_model["openai/gpt-4o"] == {None}
    assert tables.currency == "CNY"


@pytest.mark.parametrize(("currency", "message"), [
    ("cny", "ISO 4217 code in capitals"),
    ("EUR", "no model of the catalog has a price list in 'EUR': give one of CNY, USD"),
])
def test_a_currency_no_model_lists_is_refused(currency: str, message: str) -> None:
    with pytest.raises(UsageInputError, match=message):
        price_usage(UsageJob(source=FIXTURES / "canonical.csv", currency=currency), CATALOG)
    run = subprocess.run([sys.executable, "-m", "service.cli", "usage", "price", str(FIXTURES / "canonical.csv"),
                          "--currency", currency], capture_output=True, text=True, check=False)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_cli_prints_the_currency_and_the_http_route_takes_it() -> None:
    run = subprocess.run([sys.executable, "-m", "service.cli", "usage", "price", str(FIXTURES / "canonical.csv"),
                          "--currency", "CNY"], capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr
    assert "in CNY" in run.stdout and "no_price_in_currency: 3" in run.stdout and "total CNY " in run.stdout
    body = (FIXTURES / "canonical.csv").read_bytes()
    with service_client(CATALOG) as client:
        ok: Any = client.post("/v1/usage?currency=CNY", content=body, headers={"Content-Type": "text/csv"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["currency"] == "CNY" and ok.json()["errors"]["no_price_in_currency"] == 3
        for bad in ("EUR", "usd", "DOLLARS"):
            r = client.post(f"/v1/usage?currency={bad}", content=body, headers={"Content-Type": "text/csv"})
            assert r.status_code == 400, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["field"] == "currency" and "currency" in r.json()["detail"]
        _assert_documented(client)


def _assert_documented(client: TestClient[Any]) -> None:
    spec = client.get("/schema/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/v1/usage"]["post"]["parameters"]}
    assert "no_price_in_currency" in params["currency"]["description"]

"""Anthropic's cost report read with its usage report: what was billed per line kind, shared over a
bucket's rows by their tokens with the bucket's sum kept exact, then reconciled kind by kind.
litellm's spend log has only a total: it is reconciled on the total alone."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.reported import SHARE_PLACES, apportion, from_minor_units
from service.usage import UsageInputError, UsageJob, price_usage
from service.usage.importers import ANTHROPIC_TOKEN_KINDS, import_anthropic
from tests.support import service_client
from tests.usage_rows import CATALOG

FIXTURES = Path(__file__).parent / "fixtures" / "usage"
BOTH = FIXTURES / "anthropic_usage_and_cost.json"
KINDS = list(ANTHROPIC_TOKEN_KINDS.values())


@given(st.decimals(-10**6, 10**6, places=10), st.lists(st.integers(0, 10**9), min_size=1, max_size=8))
def test_shares_add_up_to_the_amount_exactly(amount: Decimal, weights: list[int]) -> None:
    shares = apportion(amount, weights)
    assert sum(shares, Decimal(0)) == amount
    whole = sum(weights)
    if whole:
        for share, weight in zip(shares, weights, strict=True):
            # Each is its proportional share, cut at SHARE_PLACES; the last with a weight takes the rest.
            assert abs(share - amount * weight / whole) <= Decimal(len(weights)) * Decimal(1).scaleb(-SHARE_PLACES)
            if weight == 0:
                assert share == 0
    else:
        assert shares[0] == amount


def test_minor_units() -> None:
    assert from_minor_units("123.45", "USD") == Decimal("1.2345")
    assert from_minor_units(" 0.4 ", "USD") == Decimal("0.004")
    with pytest.raises(ValueError, match="EUR"):
        from_minor_units("1", "EUR")
    with pytest.raises(ValueError, match="not a decimal"):
        from_minor_units("NaN", "USD")


def test_each_bucket_keeps_its_billed_amounts_to_the_digit(tmp_path: Path) -> None:
    rows = import_anthropic(BOTH, "both").to_pylist()
    cost = json.loads(BOTH.read_text())[1]["data"][0]["results"]
    for kind_type, kind in ANTHROPIC_TOKEN_KINDS.items():
        for window in ("0-200k", "200k-1M"):
            billed = [Decimal(r["amount"]) / 100 for r in cost
                      if r["token_type"] == kind_type and r["context_window"] == window and r["service_tier"] == "standard"]
            shares = [Decimal(r[f"reported_{kind}_cost"]) for r in rows
                      if r["context_window"] == window and r["service_tier"] == "standard"]
            assert sum(shares, Decimal(0)) == sum(billed, Decimal(0))
    for row in rows:
        assert Decimal(row["reported_cost"]) == sum(Decimal(row[f"reported_{k}_cost"]) for k in KINDS)
        assert row["reported_currency"] == "USD"


def test_reconciled_kind_by_kind_the_web_search_cost_left_out(tmp_path: Path) -> None:
    out = tmp_path / "priced.csv"
    summary = price_usage(UsageJob(source=BOTH, format="anthropic", group_by=("bucket",), out=out), CATALOG)
    rec = summary.reconciliation
    assert rec is not None
    assert [(k.kind, k.compared, k.over_tolerance) for k in rec.by_kind] == [
        ("input", 8, 0), ("cached_input", 8, 0), ("cache_write", 8, 0), ("cache_write_1h", 8, 0), ("output", 8, 6)]
    # The fixture bills Sonnet's output at 380 cents where 250,000 tokens at $15/M are $3.75.
    groups = {g.keys["bucket"]: g for g in summary.groups}
    first = groups["bucket 1 result 1"]
    assert first.variance_by_kind is not None and first.variance_by_kind["output"] == "-0.050000000000000000"
    assert first.reported_cost == "9.860000000000000000"   # the $1.00 of web search is not usage
    assert all(v == "0.000000000000000000" for k, v in first.variance_by_kind.items() if k != "output")
    assert groups["bucket 1 result 2"].variance == "0.000000000000000000"
    priced = pacsv.read_csv(out).to_pylist()
    assert len(priced) == 8 and "output_variance" in priced[0]


def _page(which: int) -> Any:
    return copy.deepcopy(json.loads(BOTH.read_text())[which])


def _write(tmp_path: Path, docs: list[Any]) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(docs))
    return path


def test_mismatched_exports_are_refused_with_what_to_do(tmp_path: Path) -> None:
    usage, cost = _page(0), _page(1)
    ungrouped = copy.deepcopy(cost)
    for r in ungrouped["data"][0]["results"]:
        r.update(model=None, token_type=None, cost_type=None, context_window=None, service_tier=None)
    with pytest.raises(UsageInputError, match="group_by\\[\\]=description"):
        import_anthropic(_write(tmp_path, [usage, ungrouped]), "x")
    by_key = copy.deepcopy(usage)
    extra = copy.deepcopy(by_key["data"][0]["results"][0])
    extra["api_key_id"] = "apikey_03"
    by_key["data"][0]["results"].append(extra)
    with pytest.raises(UsageInputError, match="not api_key_id"):
        import_anthropic(_write(tmp_path, [by_key, cost]), "x")
    fewer = copy.deepcopy(usage)
    fewer["data"][0]["results"].pop()
    with pytest.raises(UsageInputError, match=r"bills claude-3-5-haiku-20241022 .* no such usage"):
        import_anthropic(_write(tmp_path, [fewer, cost]), "x")
    odd = copy.deepcopy(cost)
    odd["data"][0]["results"][0]["amount"] = "lots"
    with pytest.raises(UsageInputError, match="column 'amount'"):
        import_anthropic(_write(tmp_path, [usage, odd]), "x")
    # The usage report alone is not reconciled; no reported columns appear.
    alone = import_anthropic(_write(tmp_path, [usage]), "x")
    assert "reported_cost" not in alone.column_names


def test_litellm_total_only_and_http() -> None:
    summary = price_usage(UsageJob(source=FIXTURES / "litellm_spend_logs.json", format="litellm"), CATALOG)
    assert summary.reconciliation is not None and summary.reconciliation.by_kind == []
    assert summary.totals[0].variance_by_kind is None
    with service_client(CATALOG) as client:
        r = client.post("/v1/usage?format=anthropic", content=BOTH.read_bytes(),
                        headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text
        by_kind = r.json()["reconciliation"]["by_kind"]
        assert [k["kind"] for k in by_kind] == KINDS and by_kind[-1]["over_tolerance"] == 6

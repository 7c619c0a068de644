"""Reconciliation by line kind: ``reported_<kind>_cost`` columns against each row's amount of that
kind, per row (``<kind>_variance``), per group and currency, and the rows beyond tolerance by kind."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.usage import UsageInputError, UsageJob, price_usage
from service.usage.reading import LINE_KINDS
from tests.support import service_client
from tests.usage_rows import CATALOG, SCHEMA, read_rows, usage_rows, write_parquet

CSV = """id,model,at,input_tokens,cached_input_tokens,output_tokens,team,reported_cost,reported_input_cost,reported_output_cost,billed_cache_reads,reported_currency
k1,gpt-4o-2024-08-06,2025-03-01T10:00:00Z,1000,0,100,a,0.0035,0.0025,0.001,,USD
k2,gpt-4o-2024-08-06,2025-03-01T10:00:00Z,2000,1000,100,b,0.005,0.0025,0.0015,0.00125,USD
k3,nope,2025-03-01T10:00:00Z,2000,1000,100,b,0.005,0.0025,0.0015,0.00125,USD
k4,gpt-4o-2024-08-06,2025-03-01T10:00:00Z,1000,0,100,b,9,9,9,9,EUR
"""
MAPPED = {"reported_cached_input_cost": "billed_cache_reads"}


def _file(tmp_path: Path, text: str = CSV) -> Path:
    path = tmp_path / "kinds.csv"
    path.write_text(text)
    return path


def test_per_row_group_and_outliers_by_kind(tmp_path: Path) -> None:
    out = tmp_path / "priced.csv"
    summary = price_usage(UsageJob(source=_file(tmp_path), out=out, group_by=("team",), columns=MAPPED), CATALOG)
    rows = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(strings_can_be_null=True,
                                                                     column_types={c: pa.string() for c in (
                                                                         "input_variance", "cached_input_variance",
                                                                         "output_variance", "variance")})).to_pylist()
    header = list(rows[0])
    assert header[-4:] == ["variance", "input_variance", "cached_input_variance", "output_variance"]
    assert "cache_write_variance" not in header  # a kind the input does not report has no column
    # k2: 1000 uncached at 2.50/M, 1000 cached at 1.25/M, 100 out at 10/M; billed 0.0015 for output.
    assert [Decimal(rows[1][c]) for c in ("input_variance", "cached_input_variance", "output_variance")] == [
        Decimal(0), Decimal(0), Decimal("-0.0005")]
    assert rows[0]["cached_input_variance"] is None          # k1 has no billed amount of that kind
    assert rows[2]["input_variance"] is None                 # k3 is not priced
    assert rows[3]["input_variance"] is None                 # k4 was billed in EUR: not compared
    rec = summary.reconciliation
    assert rec is not None
    assert [(k.kind, k.column, k.compared, k.over_tolerance) for k in rec.by_kind] == [
        ("input", "reported_input_cost", 2, 0),
        ("cached_input", "reported_cached_input_cost", 1, 0),
        ("output", "reported_output_cost", 2, 1)]
    assert [(o.row, o.id, o.amount, o.reported) for o in rec.by_kind[2].outliers] == [
        (2, "k2", "0.001000000000", "0.001500000000000000")]
    totals = summary.totals[0]
    assert totals.variance_by_kind == {"input": "0.000000000000000000",
                                       "cached_input": "0.000000000000000000",
                                       "output": "-0.000500000000000000"}
    assert totals.reported_by_kind is not None and Decimal(totals.reported_by_kind["input"]) == Decimal("0.0050")
    groups = {g.keys["team"]: g for g in summary.groups}
    assert groups["a"].variance_by_kind == {"input": "0.000000000000000000", "cached_input": None,
                                            "output": "0.000000000000000000"}
    assert groups["b"].variance_by_kind is not None and groups["b"].variance_by_kind["output"] == "-0.000500000000000000"


@st.composite
def _billed(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Decimal | None]]]:
    rows = draw(usage_rows(max_size=25))
    deltas = [{k: draw(st.one_of(st.none(), st.decimals(-10, 10, places=draw(st.integers(0, 18)))))
               for k in LINE_KINDS} for _ in rows]
    return rows, deltas


@settings(max_examples=12)
@given(_billed())
def test_each_kind_variance_is_what_the_bill_is_off_by_on_every_engine(case: Any) -> None:
    """Billed = our amount + delta per kind: every engine's <kind>_variance is -delta exactly."""
    rows, deltas = case
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        plain = write_parquet([dict(r) for r in rows], folder / "plain.parquet")
        price_usage(UsageJob(source=plain, engine="python", out=folder / "ours.parquet"), CATALOG)
        ours = read_rows(folder / "ours.parquet")
        billed = [dict(r) for r in rows]
        for row, own, delta in zip(billed, ours, deltas, strict=True):
            for kind in LINE_KINDS:
                amount = own[f"{kind}_amount"]
                d = delta[kind]
                row[f"reported_{kind}_cost"] = None if d is None else str((amount or Decimal(0)) + d)
            row["id"] = None
        schema = SCHEMA
        for kind in LINE_KINDS:
            schema = schema.append(pa.field(f"reported_{kind}_cost", pa.string()))
        for i, row in enumerate(billed):
            row["id"] = f"r{i}"
        pq.write_table(pa.Table.from_pylist(billed, schema=schema), folder / "billed.parquet")
        got = {}
        for engine in ("duckdb", "python"):
            out = folder / f"{engine}.parquet"
            summary = price_usage(UsageJob(source=folder / "billed.parquet", engine=engine, out=out,
                                           tolerance=Decimal("0.5")), CATALOG)
            got[engine] = (read_rows(out), summary)
    assert got["duckdb"][0] == got["python"][0]
    assert got["duckdb"][1] == msgspec_replace(got["python"][1], engine="duckdb")
    priced, summary = got["duckdb"]
    for row, delta in zip(priced, deltas, strict=True):
        for kind in LINE_KINDS:
            d = delta[kind]
            expected = None if d is None or row["error"] is not None else -d
            assert row[f"{kind}_variance"] == expected
    rec = summary.reconciliation
    assert rec is not None and [k.kind for k in rec.by_kind] == list(LINE_KINDS)
    for k in rec.by_kind:
        off = [-delta[k.kind] for row, delta in zip(priced, deltas, strict=True)
               if row["error"] is None and delta[k.kind] is not None]
        assert k.compared == len(off)
        assert k.over_tolerance == sum(1 for v in off if abs(v) > Decimal("0.5"))


def msgspec_replace(summary: Any, **changes: Any) -> Any:
    import msgspec

    return msgspec.structs.replace(summary, **changes)


def test_spark_reconciles_by_kind_as_duckdb(spark: Any, tmp_path: Path) -> None:
    source = _file(tmp_path)
    duck = price_usage(UsageJob(source=source, out=tmp_path / "d.csv", group_by=("team",), columns=MAPPED), CATALOG)
    on_spark = price_usage(UsageJob(source=source, engine="spark", spark_session=spark, out=tmp_path / "s.csv",
                                    group_by=("team",), columns=MAPPED), CATALOG)
    assert msgspec_replace(on_spark, engine="duckdb") == duck
    assert (tmp_path / "s.csv").read_text() == (tmp_path / "d.csv").read_text()


def test_a_bad_billed_amount_names_row_and_column(tmp_path: Path) -> None:
    bad = _file(tmp_path, CSV.replace("0.0025,0.0015,0.00125,USD\nk3", "0.0025,lots,0.00125,USD\nk3", 1))
    with pytest.raises(UsageInputError, match="row 2: column 'reported_output_cost': is not a decimal amount"):
        price_usage(UsageJob(source=bad), CATALOG)
    run = subprocess.run([sys.executable, "-m", "service.cli", "usage", "price", str(bad)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 2 and "reported_output_cost" in run.stderr and "Traceback" not in run.stderr
    clash = _file(tmp_path, CSV.replace(",team,", ",output_variance,", 1))
    with pytest.raises(UsageInputError, match="clashes with an output column"):
        price_usage(UsageJob(source=clash), CATALOG)


def test_cli_text_and_http_summary_by_kind(tmp_path: Path) -> None:
    source = _file(tmp_path)
    run = subprocess.run([sys.executable, "-m", "service.cli", "usage", "price", str(source),
                          "--column", "reported_cached_input_cost=billed_cache_reads"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr
    assert ("reconciled output: 2 rows against reported_output_cost: variance USD -0.000500000000000000; "
            "1 beyond tolerance 0.000001") in run.stdout
    assert "  row 2 id k2: priced 0.001000000000, reported 0.001500000000000000" in run.stdout
    with service_client(CATALOG) as client:
        r = client.post("/v1/usage", content=CSV.encode(), headers={"Content-Type": "text/csv"})
        assert r.status_code == 200, r.text
        kinds = [k["kind"] for k in r.json()["reconciliation"]["by_kind"]]
        assert kinds == ["input", "output"]  # the cache-read column is not mapped over HTTP
        assert r.json()["totals"][0]["variance_by_kind"]["output"] == "-0.000500000000000000"
        spec = client.get("/schema/openapi.json").json()
        schemas = spec["components"]["schemas"]
        assert "reported_<kind>_cost" in schemas["KindReconciliation"]["properties"]["column"]["description"]
        assert "per line kind" in schemas["Totals"]["properties"]["variance_by_kind"]["description"].lower()

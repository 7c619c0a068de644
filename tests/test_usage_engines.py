"""The duckdb engine prices every row exactly as the Python engine does, and its plan holds no float."""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings

from pricing import AmbiguousModelError, Catalog, CatalogError
from pricing.usage_query import pricing_query
from pricing.usage_tables import compile_tables
from service.usage import UsageJob, price_usage
from service.usage.engines import create_price_arrays
from tests.usage_rows import CATALOG, read_rows, usage_rows, write_parquet


def price_file(rows: list[dict[str, object]], engine: str, folder: Path, **options: object) -> list[dict[str, object]]:
    source = write_parquet(rows, folder / "in.parquet")
    out = folder / f"out-{engine}.parquet"
    price_usage(UsageJob(source=source, engine=engine, out=out, **options), CATALOG)  # type: ignore[arg-type]
    return read_rows(out)


@settings(max_examples=15)
@given(usage_rows())
def test_duckdb_prices_every_row_as_the_python_engine(rows: list[dict[str, object]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        python = price_file([dict(r) for r in rows], "python", Path(folder))
        duck = price_file([dict(r) for r in rows], "duckdb", Path(folder))
    assert duck == python
    assert len(duck) == len(rows)


def case_rows() -> list[dict[str, object]]:
    """Hand-picked rows meeting every case once: a window, a tier, batch, each error."""
    models = CATALOG.models()
    tiered = next(m for m in models for p in m.periods if p.tiers and p.until is None)
    tier_period = next(p for p in tiered.periods if p.tiers and p.until is None)
    no_batch = next(m for m in models if m.periods[-1].batch is None and m.periods[-1].until is None)
    ambiguous = next(n for n in CATALOG.names() if _ambiguous(n))
    at = datetime(2025, 4, 1, 17, 0, tzinfo=UTC)
    threshold = tier_period.tiers[0].threshold
    base = {"id": None, "cached_input_tokens": 0, "cache_write_tokens": 0, "cache_write_1h_tokens": 0,
            "output_tokens": 10, "requests": 1, "batch": False}
    return [
        {**base, "model": "deepseek-chat", "at": at, "input_tokens": 1000},                      # window
        {**base, "model": tiered.id, "at": tier_period.starts, "input_tokens": threshold + 1},   # tier
        {**base, "model": tiered.id, "at": tier_period.starts, "input_tokens": threshold},       # boundary
        {**base, "model": "gpt-4o", "at": at, "input_tokens": 1000, "batch": True},              # batch
        {**base, "model": no_batch.id, "at": no_batch.periods[-1].starts, "input_tokens": 5, "batch": True},
        {**base, "model": "no-such-model", "at": at, "input_tokens": 1},
        {**base, "model": ambiguous, "at": at, "input_tokens": 1},
        {**base, "model": "gpt-4o", "at": datetime(2020, 1, 1, tzinfo=UTC), "input_tokens": 1},
        {**base, "model": "gpt-4o", "at": at, "input_tokens": 1, "cached_input_tokens": 2},
        {**base, "model": "gpt-4o", "at": at, "input_tokens": -1},
        {**base, "model": "gpt-4o", "at": at, "input_tokens": 1, "requests": 0},
        {**base, "model": "gpt-4o", "at": None, "input_tokens": 1},
        {**base, "model": "GPT-4o", "at": at, "input_tokens": 10**10, "output_tokens": 10**10, "requests": 10**12},
    ]


def test_routes_shutdowns_and_holidays_price_the_same_on_duckdb_and_python(tmp_path: Path) -> None:
    """The catalog's lifecycle, one row each: a routed name (billed as its target, with the target's
    window), a shut-down name, a weekday peak window on a holiday and on a working day."""
    base = {"id": None, "cached_input_tokens": 0, "cache_write_tokens": 0, "cache_write_1h_tokens": 0,
            "input_tokens": 1000, "output_tokens": 1_000_000, "requests": 1, "batch": False}
    routed = next(m for m in CATALOG.models() if m.routes)
    shut = next(m for m in CATALOG.models() if m.shutdown is not None and not m.routes)
    assert shut.shutdown is not None
    rows = [
        {**base, "model": f"{routed.provider}/{routed.id}", "at": routed.routes[0].starts},
        {**base, "model": f"{routed.provider}/{routed.id}", "at": routed.routes[0].starts - timedelta(microseconds=1)},
        {**base, "model": f"{shut.provider}/{shut.id}", "at": shut.shutdown},
        {**base, "model": "deepseek-flash", "at": datetime(2026, 10, 1, 2, tzinfo=UTC)},   # National Day
        {**base, "model": "deepseek-flash", "at": datetime(2026, 10, 8, 2, tzinfo=UTC)},   # a working Thursday
    ]
    python = price_file([dict(r) for r in rows], "python", tmp_path)
    duck = price_file([dict(r) for r in rows], "duckdb", tmp_path)
    assert duck == python
    target = CATALOG.model(f"{routed.provider}/{routed.routes[0].to}")
    assert (duck[0]["model_id"], duck[0]["error"]) == (target.id, None)
    assert duck[1]["model_id"] == routed.id
    assert (duck[2]["error"], duck[2]["total"]) == ("no_price", None)
    assert (duck[3]["window"], duck[4]["window"]) == (None, "peak-am")
    assert duck[4]["total"] == 2 * duck[3]["total"]


def _ambiguous(name: str) -> bool:
    try:
        CATALOG.model(name)
    except AmbiguousModelError:
        return True
    return False


def test_every_case_prices_the_same_on_duckdb_and_python(tmp_path: Path) -> None:
    rows = case_rows()
    python = price_file([dict(r) for r in rows], "python", tmp_path)
    duck = price_file([dict(r) for r in rows], "duckdb", tmp_path)
    assert duck == python
    assert duck[0]["window"] == "off-peak"
    assert duck[1]["tier"] is not None and duck[2]["tier"] != duck[1]["tier"]
    assert duck[3]["total"] is not None and duck[3]["error"] is None
    assert [r["error"] for r in duck[4:12]] == [
        "no_batch_price", "unknown_model", "ambiguous_model", "no_price", "invalid:cached_input_tokens",
        "invalid:input_tokens", "invalid:requests", "invalid:at"]
    assert all(r["total"] is None for r in duck[4:12])
    # The widest valid row: 10**22 tokens a line, exact in DECIMAL(38, 12).
    assert duck[12]["total"] == Decimal(10**22) * (Decimal("2.5") + Decimal(10)) / 1_000_000


def _tables() -> tuple[duckdb.DuckDBPyConnection, str]:
    tables = compile_tables(CATALOG, datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    con = duckdb.connect()
    create_price_arrays(con, tables)
    con.execute("CREATE TABLE usage_input (q_row_no BIGINT, q_model VARCHAR, q_at_us BIGINT, "
                "q_input_tokens BIGINT, q_cached_input_tokens BIGINT, q_cache_write_tokens BIGINT, "
                "q_cache_write_1h_tokens BIGINT, q_output_tokens BIGINT, q_requests BIGINT, q_batch BOOLEAN)")
    con.execute("INSERT INTO usage_input VALUES (0, 'gpt-4o', 1740000000000000, 10, 1, 0, 0, 5, 1, false)")
    return con, pricing_query(tables, "duckdb")


def test_no_double_or_float_in_the_duckdb_plan_or_result() -> None:
    con, query = _tables()
    types = [row[1] for row in con.execute(f"DESCRIBE {query}").fetchall()]
    assert not [t for t in types if re.search("DOUBLE|FLOAT|REAL", t)], types
    assert [t for t in types if t.startswith("DECIMAL(38,12)")]  # the amounts
    plan = "\n".join(str(row[1]) for row in con.execute(f"EXPLAIN {query}").fetchall())
    assert not re.search(r"DOUBLE|FLOAT|REAL", plan, re.IGNORECASE), plan
    # Prices are looked up by position (no join), so DuckDB keeps the input's order while it writes
    # in parallel: the plan of a table made from the query is the order-keeping "Batch" one.
    assert "JOIN" not in plan.upper()
    made = "\n".join(str(row[1]) for row in con.execute(f"EXPLAIN CREATE TABLE t AS {query}").fetchall())
    assert "Batch Create Table As" in made, made
    # No division of money: the only division is the UTC day number of an instant (integer //).
    assert " / " not in query and re.findall(r"//", query) == ["//"]


def test_spark_text_is_a_transpilation_of_the_same_query() -> None:
    tables = compile_tables(CATALOG, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
    spark = pricing_query(tables, "spark")
    assert "DIV" in spark and "DECIMAL(38, 12)" in spark and "`window`" in spark
    with pytest.raises(ValueError, match="dialect"):
        pricing_query(tables, "postgres")


def test_a_catalog_too_fine_for_38_digits_is_refused(make_catalog) -> None:  # type: ignore[no-untyped-def]
    fine = make_catalog("""
        provider = "acme"
        [[models]]
        id = "m"
        [[models.periods]]
        from = 2025-01-01T00:00:00Z
        source = "https://example.com"
        checked = 2025-01-01
        input = 999999999999.12345678901234567890
        output = 1
    """)
    with pytest.raises(CatalogError, match="--engine python"):
        compile_tables(fine, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
    assert isinstance(fine, Catalog)

"""The duckdb engine's fast paths give what the Python engine gives: the 64-bit products on either
side of their bound, the rows put back in input order (and the sorted fallback should that order
ever be lost), the ENUM-held text in the summary's groups, a summary-only run that never sorts."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pricing.usage_query import SAFE_REQUESTS, fast_tokens
from pricing.usage_tables import compile_tables
from pricing.workload import MAX_TOKENS
from service.usage import UsageJob, engines, price_usage
from service.usage.reading import open_input, raw_relation_sql
from service.usage.run import output_select, write_rows
from tests.usage_rows import CATALOG, read_rows, write_parquet

_BASE: dict[str, Any] = {"id": None, "input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0,
                         "cache_write_1h_tokens": 0, "output_tokens": 0, "requests": 1, "batch": False}


def _priced(rows: list[dict[str, Any]], engine: str, folder: Path, **options: Any) -> list[dict[str, Any]]:
    source = write_parquet([dict(r) for r in rows], folder / f"in-{engine}.parquet")
    out = folder / f"out-{engine}.parquet"
    price_usage(UsageJob(source=source, engine=engine, out=out, **options), CATALOG)
    return read_rows(out)


def _dearest() -> tuple[str, datetime]:
    """A model and instant priced at the catalog's largest rate (as a base rate, not batch or a
    window): where the 64-bit bound is tight."""
    tables = compile_tables(CATALOG, datetime(2023, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    rates, periods = tables.table("price_rates"), tables.table("price_periods")
    first = rates.columns.index("r_input")
    _, plan = max((v, row[0]) for row in rates.rows for v in row[first:first + 5] if row[1] == 0)
    key, starts = next((row[1], row[5]) for row in periods.rows if row[periods.columns.index("base_plan")] == plan)
    assert isinstance(key, str) and isinstance(starts, int)
    return key, datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=starts, hours=1)


def test_the_64_bit_bound_is_the_widest_that_fits_18_digits() -> None:
    tables = compile_tables(CATALOG, datetime(2024, 1, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    rates = tables.table("price_rates")
    first = rates.columns.index("r_input")
    largest = max(int(v.scaleb(tables.scale)) for row in rates.rows for v in row[first:first + 5])
    budget = fast_tokens(tables)
    assert budget * largest < 10**18 <= (budget + 1) * largest
    assert SAFE_REQUESTS * MAX_TOKENS <= 2**63 - 1 < (SAFE_REQUESTS + 1) * MAX_TOKENS


def test_the_widest_row_decides_whether_amounts_are_18_or_38_digits(tmp_path: Path) -> None:
    """(input + output) x requests of the widest row, at the catalog's largest rate, within 18 digits:
    every amount and total of the file fits DECIMAL(18, 12) (64-bit, in the query and in Parquet);
    one token more and the file's amounts are DECIMAL(38, 12). Both price as the Python engine."""
    import pyarrow.parquet as pq

    model, at = _dearest()
    budget = fast_tokens(compile_tables(CATALOG, at, at))
    assert compile_tables(CATALOG, at, at, widest_tokens=budget).amount_precision == 18
    assert compile_tables(CATALOG, at, at, widest_tokens=budget + 1).amount_precision == 38
    assert compile_tables(CATALOG, at, at).amount_precision == 38
    row = {**_BASE, "model": model, "at": at}
    for extra, precision in ((0, 18), (1, 38)):
        # Split over input, output and requests: the sum of the lines is what must fit.
        rows = [{**row, "input_tokens": budget // 4, "cached_input_tokens": budget // 8,
                 "output_tokens": (budget - 2 * (budget // 4)) // 2 + extra, "requests": 2},
                {**row, "output_tokens": 5}]
        if (rows[0]["input_tokens"] + rows[0]["output_tokens"]) * 2 != budget + 2 * extra:
            rows[0]["input_tokens"] += 1  # budget odd: the widest row at the bound exactly
        assert (rows[0]["input_tokens"] + rows[0]["output_tokens"]) * 2 == budget + 2 * extra
        folder = tmp_path / str(precision)
        folder.mkdir()
        python = _priced(rows, "python", folder)
        duck = _priced(rows, "duckdb", folder)
        assert duck == python and duck[0]["error"] is None
        for engine in ("python", "duckdb"):
            schema = pq.read_schema(folder / f"out-{engine}.parquet")
            assert str(schema.field("total").type) == f"decimal128({precision}, 12)", engine


def test_rows_either_side_of_the_64_bit_bound_price_as_the_python_engine(tmp_path: Path) -> None:
    model, at = _dearest()
    tables = compile_tables(CATALOG, at, at)
    budget = fast_tokens(tables)
    assert budget < MAX_TOKENS  # the dearest rate makes a valid row leave the fast path
    row = {**_BASE, "model": model, "at": at}
    rows = [
        {**row, "output_tokens": budget},                               # the last line that fits
        {**row, "output_tokens": budget + 1},                           # the first that does not
        {**row, "input_tokens": budget, "cached_input_tokens": budget // 3},
        {**row, "input_tokens": budget + 1, "cache_write_tokens": 5},
        {**row, "output_tokens": budget // 7, "requests": 7},
        {**row, "output_tokens": budget // 7 + 1, "requests": 7},
        {**row, "input_tokens": 1, "requests": SAFE_REQUESTS},          # requests at the BIGINT bound
        {**row, "input_tokens": 1, "requests": SAFE_REQUESTS + 1},
        {**row, "input_tokens": MAX_TOKENS, "output_tokens": MAX_TOKENS, "requests": 10**12},  # widest valid
    ]
    python = _priced(rows, "python", tmp_path)
    duck = _priced(rows, "duckdb", tmp_path)
    assert duck == python
    assert all(r["error"] is None and r["total"] is not None for r in duck)
    # The fitting line is within a cent-millionth of the 18-digit limit: the bound is tight.
    assert Decimal(999_999) < duck[0]["output_amount"] < Decimal(10**6)


def _connection(rows: list[dict[str, Any]], folder: Path) -> tuple[duckdb.DuckDBPyConnection, Any, Any]:
    source = write_parquet(rows, folder / "in.parquet")
    con = duckdb.connect()
    info = open_input(con, "in.parquet", raw_relation_sql(source, "parquet"), {})
    assert info.first_us is not None and info.last_us is not None
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    tables = compile_tables(CATALOG, epoch + timedelta(microseconds=info.first_us),
                            epoch + timedelta(microseconds=info.last_us))
    return con, info, tables


def _rows(count: int) -> list[dict[str, Any]]:
    at = datetime(2025, 4, 1, tzinfo=UTC)
    models = ["gpt-4o", "deepseek-chat", "claude-sonnet-4", "no-such-model"]
    return [{**_BASE, "model": models[i % 4], "at": at + timedelta(minutes=37 * i), "input_tokens": 100 + i,
             "output_tokens": 3 * i} for i in range(count)]


def test_rows_come_back_in_input_order_and_a_lost_order_is_caught(tmp_path: Path) -> None:
    rows = _rows(300)
    con, info, tables = _connection(rows, tmp_path)
    priced = engines.run_duckdb(con, tables, info.columns, "priced", ["id"])
    write_rows(con, priced.in_order, info, tmp_path / "ordered.parquet", "parquet", by_row_no=priced.by_row_no)
    ordered = read_rows(tmp_path / "ordered.parquet")
    assert [r["id"] for r in ordered] == [f"r{i}" for i in range(len(rows))]
    # Shuffle the priced table under the view: the row-by-row check refuses to pair wrong rows...
    con.execute("CREATE OR REPLACE TEMP TABLE priced AS SELECT * FROM priced ORDER BY q_row_no DESC")
    with pytest.raises(duckdb.Error, match=engines.ORDER_LOST):
        con.execute(f"SELECT count(error) FROM {priced.in_order}").fetchall()
    with pytest.raises(duckdb.Error, match=engines.ORDER_LOST):
        write_rows(con, priced.in_order, info, tmp_path / "refused.parquet", "parquet")
    # ...and write_rows then writes the same rows sorted.
    write_rows(con, priced.in_order, info, tmp_path / "sorted.parquet", "parquet", by_row_no=priced.by_row_no)
    assert read_rows(tmp_path / "sorted.parquet") == ordered


@pytest.mark.parametrize("group_by", [("provider", "model_id"), ("window", "tier", "day"), ("model",)])
def test_summaries_group_in_the_same_order_on_duckdb_and_python(group_by: tuple[str, ...]) -> None:
    """Provider, model, window and tier are ENUMs in DuckDB: their groups still sort as text."""
    long_prompt = {**_BASE, "model": "gemini-2.5-pro", "at": datetime(2025, 7, 1, tzinfo=UTC),
                   "input_tokens": 250_000, "output_tokens": 10}
    rows = [*_rows(120), long_prompt]
    summaries = []
    with tempfile.TemporaryDirectory() as folder:
        source = write_parquet([dict(r) for r in rows], Path(folder) / "in.parquet")
        for engine in ("python", "duckdb"):
            summaries.append(price_usage(UsageJob(source=source, engine=engine, group_by=group_by), CATALOG))
    python, duck = summaries
    assert duck.groups == python.groups and duck.totals == python.totals and duck.errors == python.errors
    assert len(duck.groups) > 2


def test_usage_outside_every_window_prices_with_no_window_table_rows(tmp_path: Path) -> None:
    """Instants before any window exists: the window column has no values to make an ENUM of."""
    rows = [{**_BASE, "model": "gpt-4o", "at": datetime(2024, 6, 1, tzinfo=UTC), "input_tokens": 10},
            {**_BASE, "model": "gpt-4o", "at": datetime(2020, 1, 1, tzinfo=UTC), "input_tokens": 10}]
    _, _, tables = _connection([dict(r) for r in rows], tmp_path)
    assert not tables.table("price_spans").rows
    assert _priced(rows, "duckdb", tmp_path) == _priced(rows, "python", tmp_path)


def test_rows_written_straight_are_checked_in_place_and_a_failed_check_prices_through_a_table(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows(300)
    con, info, tables = _connection(rows, tmp_path)
    select = output_select(info, money_as_text=False)
    engines.copy_duckdb(con, tables, info.columns, select, tmp_path / "straight.parquet")
    assert engines.written_in_order(con, tmp_path / "straight.parquet", ["at"])
    # The same rows written in another order, or one row short, fail the check.
    con.execute(f"COPY (SELECT * FROM read_parquet('{tmp_path / 'straight.parquet'}') ORDER BY id DESC) "
                f"TO '{tmp_path / 'shuffled.parquet'}' (FORMAT parquet)")
    assert not engines.written_in_order(con, tmp_path / "shuffled.parquet", ["at"])
    con.execute(f"COPY (SELECT * FROM read_parquet('{tmp_path / 'straight.parquet'}') LIMIT 299) "
                f"TO '{tmp_path / 'short.parquet'}' (FORMAT parquet)")
    assert not engines.written_in_order(con, tmp_path / "short.parquet", ["at"])
    # A run whose check fails writes the same file through the table (and its sort if need be).
    straight = _priced(rows, "duckdb", tmp_path)
    monkeypatch.setattr(engines, "written_in_order", lambda *_: False)
    folder = tmp_path / "fallback"
    folder.mkdir()
    assert _priced(rows, "duckdb", folder) == straight == _priced(rows, "python", folder)
    assert not list(folder.glob(".*partial"))  # the refused file is not left behind

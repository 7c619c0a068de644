"""The three engines. Each prices ``usage_input`` into a Parquet file of priced rows in input order.

- ``duckdb`` runs ``pricing.usage_query`` in the embedded database (the default), into a
  temporary table, with a view of the rows in input order (``run_duckdb``).
- ``spark`` runs the same query, transpiled, on a Spark session: ``local[*]`` or a cluster URL.
- ``python`` prices row by row with ``Catalog.quote``, in chunks: the reference the others must equal.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pricing import (
    Catalog,
    InvalidWorkloadError,
    NoBatchPriceError,
    NoCurrencyPriceError,
    NoPriceError,
    UnknownModelError,
    Workload,
)
from pricing.errors import AmbiguousModelError
from pricing.usage_query import AMOUNT_COLUMNS, PRICED_COLUMNS, pricing_query
from pricing.usage_tables import PriceTables, Table, at_scale
from service.usage.errors import UsageInputError
from service.usage.reading import REPORTED_KIND_COLUMNS, quote_ident

Progress = Callable[[int], None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PYTHON_CHUNK = 50_000
_ZERO = Decimal(0)


def arrow_type(sql_type: str) -> pa.DataType:
    if sql_type == "BIGINT":
        return pa.int64()
    if sql_type == "VARCHAR":
        return pa.string()
    if sql_type == "BOOLEAN":
        return pa.bool_()
    precision, scale = sql_type.removeprefix("DECIMAL(").removesuffix(")").split(",")
    return pa.decimal128(int(precision), int(scale))


def arrow_table(table: Table) -> pa.Table:
    columns = list(zip(*table.rows, strict=True)) if table.rows else [() for _ in table.columns]
    return pa.table({name: pa.array(list(values), type=arrow_type(kind))
                     for name, kind, values in zip(table.columns, table.types, columns, strict=True)})


def _kept(con: duckdb.DuckDBPyConnection, columns: Sequence[str]) -> list[str]:
    extra = [c for c in ("q_reported_cost", "q_reported_currency",
                         *(f"q_{column}" for column in REPORTED_KIND_COLUMNS.values()))
             if con.execute(f"SELECT count(*) FROM (DESCRIBE usage_input) WHERE column_name = '{c}'").fetchall() != [(0,)]]
    return [*columns, *extra]


# -- duckdb --------------------------------------------------------------------------------------


#: What the check that priced rows line up with their input rows says if it ever fails.
ORDER_LOST = "priced rows out of input order"


class DuckdbPriced(NamedTuple):
    """Where ``run_duckdb`` left the priced rows."""

    #: The temporary table: sorted by ``q_row_no``, the ``q_`` columns, the priced columns and the
    #: carried input columns (what a summary reads).
    table: str
    #: A view of every row with every input column, in input order (checked row by row).
    in_order: str
    #: The same rows joined on ``q_row_no``, for writing sorted should the check ever fail.
    by_row_no: str


def run_duckdb(con: duckdb.DuckDBPyConnection, tables: PriceTables, columns: Sequence[str], out: str,
               carried: Sequence[str] | None = None, *, ordered: bool = True) -> DuckdbPriced:
    """Price ``usage_input`` into the temporary table ``out`` of ``con``, carrying only the
    ``carried`` input columns (default: all ``columns``); see ``DuckdbPriced`` for the views.
    ``ordered=False`` skips the sort, for a run that only sums (``in_order`` then fails its check).

    Why this shape: DuckDB's hash joins do not keep input order, so the priced rows are sorted
    once, narrow (the input's other columns are not dragged through the joins and the sort); the
    view then puts them beside the input's own rows by position (``POSITIONAL JOIN``), which is
    cheaper than sorting wide rows, and checks on every row that the row numbers agree. A
    temporary table is held uncompressed (about twice as fast to fill as a stored one) and
    spills to the connection's temp directory beyond its memory limit, so memory stays bounded.
    """
    model_keys = _enum_type(row[table.columns.index("model_key")] for table in tables.tables
                            if "model_key" in table.columns for row in table.rows)
    for table in tables.tables:
        _register_with_enums(con, table, model_keys)
    kept = list(columns if carried is None else carried)
    query = pricing_query(tables, "duckdb", _kept(con, kept))
    digest = _enum_type((tables.catalog_digest,))
    try:
        con.execute(f"CREATE TEMP TABLE {out} AS SELECT * REPLACE (CAST(catalog_digest AS {digest}) AS catalog_digest) "
                    f"FROM ({query}){' ORDER BY q_row_no' if ordered else ''}")
    except duckdb.Error as exc:
        raise UsageInputError("usage", f"could not be priced exactly: {_first_line(exc)}") from None
    own = [quote_ident(c) for c in columns if c not in kept]
    priced = [quote_ident(str(row[0])) for row in con.execute(f"DESCRIBE {out}").fetchall()]
    checked = [f"CASE WHEN u.q_row_no = p.q_row_no THEN p.error ELSE CAST(error('{ORDER_LOST}') AS VARCHAR) END AS error"
               if c == '"error"' else f"p.{c}" for c in priced]
    own_sql = "".join(f"{c}, " for c in own)
    in_order, by_row_no = f"{out}_in_order", f"{out}_by_row_no"
    con.execute(f"CREATE TEMP VIEW {in_order} AS SELECT {own_sql}{', '.join(checked)} "
                f"FROM (SELECT {own_sql}q_row_no FROM usage_input) AS u POSITIONAL JOIN {out} AS p")
    con.execute(f"CREATE TEMP VIEW {by_row_no} AS SELECT {own_sql}{', '.join(f'p.{c}' for c in priced)} "
                f"FROM (SELECT {own_sql}q_row_no FROM usage_input) AS u JOIN {out} AS p USING (q_row_no)")
    return DuckdbPriced(out, in_order, by_row_no)


#: Price-table columns copied onto every priced row. In DuckDB they are ENUMs (the catalog digest
#: too): a join then gathers a small code rather than a string, and the Parquet writer writes the
#: codes under one dictionary instead of hashing every string (the written column is still text).
#: The values are sorted, so an ENUM orders as its text does (the summary's groups keep their order).
ENUM_COLUMNS = {"price_periods": ("provider", "model_id", "currency", "period_from"),
                "price_spans": ("window",), "price_rates": ("tier",)}


def _enum_type(values: Iterable[object]) -> str:
    distinct = sorted({str(v) for v in values if v is not None})
    if not distinct:
        return "VARCHAR"
    return "ENUM(" + ", ".join("'" + v.replace("'", "''") + "'" for v in distinct) + ")"


def _register_with_enums(con: duckdb.DuckDBPyConnection, table: Table, model_keys: str) -> None:
    enums = ENUM_COLUMNS.get(table.name, ())
    staged = f"q_arrow_{table.name}"
    con.register(staged, arrow_table(table))
    types = {c: _enum_type(row[table.columns.index(c)] for row in table.rows) for c in enums}
    if "model_key" in table.columns:
        # One ENUM on both sides: the names-to-periods join compares small codes, not strings.
        types["model_key"] = model_keys
    casts = ", ".join(f"CAST({quote_ident(c)} AS {kind}) AS {quote_ident(c)}" for c, kind in types.items())
    replace = f" REPLACE ({casts})" if casts else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table.name} AS SELECT *{replace} FROM {staged}")
    con.unregister(staged)


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


# -- spark ---------------------------------------------------------------------------------------

#: The settings that make Spark exact: decimal overflow raises (ANSI), products keep their scale.
SPARK_EXACT_CONF = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.session.timeZone": "UTC",
}


def spark_session(master: str | None = None) -> Any:
    """A Spark session set up for exact pricing (``local[*]`` without a master URL)."""
    try:
        from pyspark.sql import SparkSession  # heavy: only when the spark engine runs
    except ImportError:
        raise UsageInputError("--engine spark", "needs pyspark and Java 17+: pip install "
                              "'inference-cost[spark]' (or use --engine duckdb)") from None

    builder = SparkSession.builder.appName("inference-cost usage").master(master or "local[*]")
    builder = builder.config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
    builder = builder.config("spark.sql.shuffle.partitions", "4")
    for key, value in SPARK_EXACT_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    for key, value in SPARK_EXACT_CONF.items():
        session.conf.set(key, value)
    return session


def run_spark(con: duckdb.DuckDBPyConnection, tables: PriceTables, columns: Sequence[str], out: Path,
              session: Any) -> None:
    work = Path(tempfile.mkdtemp(prefix="usage-spark-"))
    try:
        source = work / "input.parquet"
        con.execute(f"COPY (SELECT * FROM usage_input) TO {_lit(source)} (FORMAT parquet)")
        session.read.parquet(str(source)).createOrReplaceTempView("usage_input")
        for table in tables.tables:
            session.createDataFrame(arrow_table(table)).createOrReplaceTempView(table.name)
        query = pricing_query(tables, "spark", _kept(con, columns))
        priced = work / "priced"
        try:
            session.sql(query).write.parquet(str(priced))
        except Exception as exc:  # py4j and pyspark errors share no public base class
            raise UsageInputError("usage", f"could not be priced exactly on Spark: {_first_line(exc)}") from None
        # Spark writes timestamps without their time zone flag (and may widen other types): give
        # every kept column back the type it had in the input.
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE usage_input)").fetchall())
        kept = _kept(con, columns)
        select = ", ".join(["q_row_no", "q_at_us", *(f"CAST({quote_ident(c)} AS {types[c]}) AS {quote_ident(c)}"
                                                    for c in kept), *map(quote_ident, PRICED_COLUMNS)])
        con.execute(f"COPY (SELECT {select} FROM read_parquet({_lit(priced / '*.parquet')}) ORDER BY q_row_no) "
                    f"TO {_lit(out)} (FORMAT parquet)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


# -- python --------------------------------------------------------------------------------------


def price_row(catalog: Catalog, scale: int, row: dict[str, Any], currency: str | None = None) -> tuple[Any, ...]:
    """(provider, model_id, currency, five amounts, total, period_from, window, tier, error) of one row,
    in the price list of ``currency`` (None: the model's first-listed one)."""
    at_us = row["q_at_us"]
    def count(name: str, default: int) -> int:
        value = row[name]
        return default if value is None else int(value)

    try:
        workload = Workload(
            model=row["q_model"] if row["q_model"] is not None else "",
            input_tokens=count("q_input_tokens", 0),
            cached_input_tokens=count("q_cached_input_tokens", 0),
            cache_write_tokens=count("q_cache_write_tokens", 0),
            cache_write_1h_tokens=count("q_cache_write_1h_tokens", 0),
            output_tokens=count("q_output_tokens", 0),
            requests=count("q_requests", 1),
            batch=bool(row["q_batch"]) if row["q_batch"] is not None else False,
            at=None if at_us is None else _EPOCH + timedelta(microseconds=at_us),
            currency=currency,
        )
    except InvalidWorkloadError as exc:
        return _failed(f"invalid:{exc.field}")
    if at_us is None:
        return _failed("invalid:at")
    try:
        quote = catalog.quote(workload)
    except AmbiguousModelError:
        return _failed("ambiguous_model")
    except UnknownModelError:
        return _failed("unknown_model")
    except NoBatchPriceError:
        return _failed("no_batch_price")
    except NoCurrencyPriceError:
        return _failed("no_price_in_currency")
    except NoPriceError:
        return _failed("no_price")
    amounts = {line.kind: line.amount for line in quote.lines}
    values = [at_scale(amounts.get(kind, _ZERO), scale)
              for kind in ("input", "cached_input", "cache_write", "cache_write_1h", "output")]
    return (quote.provider, quote.model, quote.currency, *values, at_scale(quote.total, scale),
            quote.period_from.isoformat(), quote.window, quote.tier, None)


def _failed(reason: str) -> tuple[Any, ...]:
    return (None,) * 12 + (reason,)


def run_python(con: duckdb.DuckDBPyConnection, catalog: Catalog, tables: PriceTables, columns: Sequence[str],
               out: Path, progress: Progress | None = None) -> None:
    kept = _kept(con, columns)
    canonical = ["q_model", "q_input_tokens", "q_cached_input_tokens", "q_cache_write_tokens",
                 "q_cache_write_1h_tokens", "q_output_tokens", "q_requests", "q_batch"]
    select = ", ".join(["q_row_no", "q_at_us", *map(quote_ident, kept), *canonical])
    reader = con.sql(f"SELECT {select} FROM usage_input ORDER BY q_row_no").to_arrow_reader(PYTHON_CHUNK)
    money = pa.decimal128(tables.amount_precision, tables.scale)
    priced_fields = [("provider", pa.string()), ("model_id", pa.string()), ("currency", pa.string()),
                     *((name, money) for name in AMOUNT_COLUMNS), ("period_from", pa.string()),
                     ("window", pa.string()), ("tier", pa.string()), ("catalog_digest", pa.string()),
                     ("error", pa.string())]
    base = reader.schema
    schema = pa.schema([base.field(i) for i in range(2 + len(kept))] + [pa.field(n, t) for n, t in priced_fields])
    done = 0
    with pq.ParquetWriter(str(out), schema) as writer:
        for batch in _batches(reader):
            rows = batch.to_pylist()
            priced = [price_row(catalog, tables.scale, row, tables.currency) for row in rows]
            cols = list(zip(*priced, strict=True)) if priced else [() for _ in range(13)]
            arrays = [batch.column(i) for i in range(2 + len(kept))]
            for (_, kind), values in zip(priced_fields[:12], cols[:12], strict=True):
                arrays.append(pa.array(list(values), type=kind))
            arrays.append(pa.array([catalog.digest] * len(rows), type=pa.string()))
            arrays.append(pa.array(list(cols[12]), type=pa.string()))
            writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
            done += len(rows)
            if progress is not None:
                progress(done)


def _batches(reader: Any) -> Iterator[pa.RecordBatch]:
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return


def stderr_progress(total: int) -> Progress | None:
    """A one-line progress counter on stderr when it is a terminal; None (quiet) in pipes."""
    if not sys.stderr.isatty():
        return None

    def show(done: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\rpriced {done:,} of {total:,} rows", end=end, file=sys.stderr, flush=True)

    return show

"""The three engines. Each prices ``usage_input`` into a Parquet file of priced rows in input order.

- ``duckdb`` runs ``pricing.usage_query`` in the embedded database (the default).
- ``spark`` runs the same query, transpiled, on a Spark session: ``local[*]`` or a cluster URL.
- ``python`` prices row by row with ``Catalog.quote``, in chunks: the reference the others must equal.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pricing import (
    Catalog,
    InvalidWorkloadError,
    NoBatchPriceError,
    NoPriceError,
    UnknownModelError,
    Workload,
)
from pricing.errors import AmbiguousModelError
from pricing.usage_query import AMOUNT_COLUMNS, PRICED_COLUMNS, pricing_query
from pricing.usage_tables import PriceTables, Table, at_scale
from service.usage.errors import UsageInputError
from service.usage.reading import quote_ident

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
    extra = [c for c in ("q_reported_cost", "q_reported_currency")
             if con.execute(f"SELECT count(*) FROM (DESCRIBE usage_input) WHERE column_name = '{c}'").fetchall() != [(0,)]]
    return [*columns, *extra]


# -- duckdb --------------------------------------------------------------------------------------


def run_duckdb(con: duckdb.DuckDBPyConnection, tables: PriceTables, columns: Sequence[str], out: str) -> None:
    """Price into the table ``out`` of ``con``'s database (file-backed: it spills, memory stays bounded)."""
    for table in tables.tables:
        con.register(table.name, arrow_table(table))
    query = pricing_query(tables, "duckdb", _kept(con, columns))
    try:
        con.execute(f"CREATE TABLE {out} AS SELECT * FROM ({query}) ORDER BY q_row_no")
    except duckdb.Error as exc:
        raise UsageInputError("usage", f"could not be priced exactly: {_first_line(exc)}") from None


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


def price_row(catalog: Catalog, scale: int, row: dict[str, Any]) -> tuple[Any, ...]:
    """(provider, model_id, currency, five amounts, total, period_from, window, tier, error) of one row."""
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
            priced = [price_row(catalog, tables.scale, row) for row in rows]
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

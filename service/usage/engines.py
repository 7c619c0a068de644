"""The three engines. Each prices ``usage_input`` into a Parquet file of priced rows in input order.

- ``duckdb`` runs ``pricing.usage_query`` in the embedded database (the default): straight into
  a Parquet output (``copy_duckdb``), or into a temporary table with a view of the rows in input
  order (``run_duckdb``).
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
from pricing.usage_query import AMOUNT_COLUMNS, PRICED_COLUMNS, arrays_parameters, pricing_query, spark_arrays
from pricing.usage_tables import PriceTables, at_scale
from service.usage.errors import UsageInputError
from service.usage.reading import REPORTED_KIND_COLUMNS, quote_ident

Progress = Callable[[int], None]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PYTHON_CHUNK = 50_000
_ZERO = Decimal(0)


def reported_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The ``q_`` columns of what was billed that ``usage_input`` has (see ``service.usage.reading``)."""
    present = {str(row[0]) for row in con.execute("DESCRIBE usage_input").fetchall()}
    return [c for c in ("q_reported_cost", "q_reported_currency",
                        *(f"q_{column}" for column in REPORTED_KIND_COLUMNS.values())) if c in present]


def _kept(con: duckdb.DuckDBPyConnection, columns: Sequence[str]) -> list[str]:
    return [*columns, *reported_columns(con)]


# -- duckdb --------------------------------------------------------------------------------------


#: What the check that priced rows line up with their input rows says if it ever fails.
ORDER_LOST = "priced rows out of input order"


class DuckdbPriced(NamedTuple):
    """Where ``run_duckdb`` left the priced rows."""

    #: The temporary table, in input order: the ``q_`` columns, the priced columns and the
    #: carried input columns (what a summary reads).
    table: str
    #: A view of every row with every input column, in input order (checked row by row).
    in_order: str
    #: The same rows joined on ``q_row_no``, for writing sorted should the check ever fail.
    by_row_no: str


def run_duckdb(con: duckdb.DuckDBPyConnection, tables: PriceTables, columns: Sequence[str], out: str,
               carried: Sequence[str] | None = None) -> DuckdbPriced:
    """Price ``usage_input`` into the temporary table ``out`` of ``con``, carrying only the
    ``carried`` input columns (default: all ``columns``); see ``DuckdbPriced`` for the views.

    Why this shape: the query looks prices up by position in arrays, not by joins, so DuckDB keeps
    the input's order while it fills the table in parallel (a hash join would not, and the rows
    would need a sort). The priced rows are narrow (the input's other columns are not carried);
    the view puts them beside the input's own rows by position (``POSITIONAL JOIN``) and checks on
    every row that the row numbers agree. A temporary table is held uncompressed (about twice as
    fast to fill as a stored one) and spills to the connection's temp directory beyond its memory
    limit, so memory stays bounded.
    """
    kept = list(columns if carried is None else carried)
    _execute_priced(con, tables, kept, lambda query: f"CREATE TEMP TABLE {out} AS {query}")
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


def copy_duckdb(con: duckdb.DuckDBPyConnection, tables: PriceTables, columns: Sequence[str], select: str,
                out: Path) -> None:
    """Price ``usage_input`` straight into the Parquet file ``out`` in one pass, ``select`` giving the
    output's columns over the priced rows.

    One parallel, streaming pass: the query keeps the input's order (see ``run_duckdb``), so nothing
    is held or sorted; ``written_in_order`` checks that it did.
    """
    _execute_priced(con, tables, columns,
                    lambda query: f"COPY (SELECT {select} FROM ({query})) TO {_lit(out)} (FORMAT parquet)")


def _execute_priced(con: duckdb.DuckDBPyConnection, tables: PriceTables, passthrough: Sequence[str],
                    statement: Callable[[str], str]) -> None:
    """Run ``statement(pricing query)``, with ``price_arrays`` made for it; a failure is bad input."""
    query = pricing_query(tables, "duckdb", _kept(con, passthrough))
    try:
        create_price_arrays(con, tables)
        con.execute(statement(query))
    except duckdb.Error as exc:
        raise UsageInputError("usage", f"could not be priced exactly: {_first_line(exc)}") from None


def written_in_order(con: duckdb.DuckDBPyConnection, out: Path, checked: Sequence[str]) -> bool:
    """Whether the rows written to ``out`` are ``usage_input``'s rows in place: as many, and the
    ``checked`` input columns equal row by row."""
    written = f"read_parquet({_lit(out)})"
    both = ", ".join(map(quote_ident, checked)) or "NULL AS q_none"
    differ = " OR ".join(f"u.{quote_ident(c)} IS DISTINCT FROM o.{quote_ident(c)}" for c in checked) or "FALSE"
    (more, wrong), = con.execute(
        f"SELECT (SELECT count(*) FROM {written}) - (SELECT count(*) FROM usage_input), count(*) FILTER (WHERE {differ}) "
        f"FROM (SELECT {both} FROM usage_input) AS u POSITIONAL JOIN (SELECT {both} FROM {written}) AS o").fetchall()
    return bool(more == 0 and wrong == 0)


def written_view(con: duckdb.DuckDBPyConnection, out: Path, q_columns: Sequence[str], view: str) -> str:
    """A view of the rows written to ``out`` (in input order) with their ``q_row_no``, and the
    input's ``q_columns`` beside them if any (what a summary reads)."""
    written = f"read_parquet({_lit(out)}, file_row_number = true)"
    if q_columns:
        inner = ", ".join(map(quote_ident, q_columns))
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT u.*, o.* EXCLUDE (file_row_number) "
                    f"FROM (SELECT q_row_no, {inner} FROM usage_input) AS u POSITIONAL JOIN {written} AS o")
    else:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT file_row_number AS q_row_no, "
                    f"* EXCLUDE (file_row_number) FROM {written}")
    return view


def create_price_arrays(con: duckdb.DuckDBPyConnection, tables: PriceTables) -> None:
    """The relation ``price_arrays`` the query reads, its arrays bound as parameters."""
    arrays, values = arrays_parameters(tables)
    con.execute(f"CREATE OR REPLACE TEMP TABLE price_arrays AS {arrays}", values)


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


# -- spark ---------------------------------------------------------------------------------------

#: The settings that make Spark exact: decimal overflow raises (ANSI), products keep their scale.
SPARK_EXACT_CONF = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
    "spark.sql.session.timeZone": "UTC",
}


#: JVM options for the driver and the executors. HotSpot does not compile a method of more than
#: 8,000 bytes of bytecode (``DontCompileHugeMethods``); the code Spark generates for the pricing
#: query's one stage is such a method, and interpreted it runs 1.3-3x slower (the query on 1M rows,
#: no write: 21-26 s against 7-16 s, benchmarks/README.md). Spark's own fallback for huge methods
#: (a lower ``spark.sql.codegen.hugeMethodLimit``) is slower still (81 s).
SPARK_JAVA_OPTIONS = "-XX:-DontCompileHugeMethods"


def spark_session(master: str | None = None) -> Any:
    """A Spark session set up for exact pricing (``local[*]`` without a master URL). Its driver and
    executors run with ``SPARK_JAVA_OPTIONS`` (these replace ``extraJavaOptions`` from
    ``spark-defaults.conf``; to keep your own, build the session and pass it as ``spark_session``)."""
    try:
        from pyspark.sql import SparkSession  # heavy: only when the spark engine runs
    except ImportError:
        raise UsageInputError("--engine spark", "needs pyspark and Java 17+: pip install "
                              "'inference-cost[spark]' (or use --engine duckdb)") from None

    builder = SparkSession.builder.appName("inference-cost usage").master(master or "local[*]")
    builder = builder.config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
    builder = builder.config("spark.sql.shuffle.partitions", "4")
    for role in ("driver", "executor"):
        builder = builder.config(f"spark.{role}.extraJavaOptions", SPARK_JAVA_OPTIONS)
    for key, value in SPARK_EXACT_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    for key, value in SPARK_EXACT_CONF.items():
        session.conf.set(key, value)
    return session


def spark_price_arrays(session: Any, tables: PriceTables) -> None:
    """The relation ``price_arrays`` the query reads, on Spark: one row, from Arrow."""
    def kind(sql_type: str) -> pa.DataType:
        simple = {"BIGINT": pa.int64(), "INTEGER": pa.int32(), "BOOLEAN": pa.bool_(), "TEXT": pa.string(),
                  "VARCHAR": pa.string()}
        if sql_type in simple:
            return simple[sql_type]
        precision, scale = sql_type.removeprefix("DECIMAL(").removesuffix(")").split(",")
        return pa.decimal128(int(precision), int(scale))

    arrays, structs = spark_arrays(tables)
    columns = {a.column: pa.array([a.values], type=pa.list_(kind(a.sql_type))) for a in arrays}
    for z in structs:
        struct = pa.struct([(name, kind(sql_type)) for name, sql_type in z.fields])
        columns[z.column] = pa.array([z.entries], type=pa.list_(struct))
    table = pa.table(columns)
    session.createDataFrame(table).createOrReplaceTempView("price_arrays")


def run_spark(con: duckdb.DuckDBPyConnection, tables: PriceTables, columns: Sequence[str], out: Path,
              session: Any) -> None:
    work = Path(tempfile.mkdtemp(prefix="usage-spark-"))
    try:
        source = work / "input.parquet"
        con.execute(f"COPY (SELECT * FROM usage_input) TO {_lit(source)} (FORMAT parquet)")
        session.read.parquet(str(source)).createOrReplaceTempView("usage_input")
        spark_price_arrays(session, tables)
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

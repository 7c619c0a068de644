"""``price_usage``: one usage run from input to priced rows and summary (the Python API)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pricing import Catalog, CatalogError
from pricing.usage_query import AMOUNT_COLUMNS
from pricing.usage_tables import compile_tables, epoch_us, plain
from service.usage import engines, importers
from service.usage.errors import UnpricedRowsError, UsageInputError
from service.usage.reading import InputInfo, open_input, quote_ident, raw_relation_sql
from service.usage.summary import Outlier, Reconciliation, Totals, UsageSummary
from service.usage.width import check_width, refuse_width

ENGINES = ("duckdb", "spark", "python")
#: Canonical formats DuckDB reads directly, then the importers' formats.
FORMATS = ("csv", "jsonl", "parquet", *importers.IMPORTERS)
OUTPUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
#: Derived grouping keys (from the instant each row was priced at, UTC).
TIME_KEYS = {"hour": "%Y-%m-%dT%H", "day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}
_OUTLIERS = 20
#: DuckDB's memory for one run (the rest spills to the work folder); ``INFERENCE_COST_USAGE_MEMORY``.
MEMORY_LIMIT = os.environ.get("INFERENCE_COST_USAGE_MEMORY", "2GB")
#: How far past the catalog's first price (or the first row) a usage file's instants may reach.
MAX_PRICED_YEARS = 30
MAX_PRICED_SPAN = timedelta(days=365 * MAX_PRICED_YEARS + MAX_PRICED_YEARS // 4)


@dataclass(frozen=True)
class UsageJob:
    """What to price and how (every option of ``inference-cost usage price``)."""

    source: Path
    format: str | None = None
    engine: str = "duckdb"
    out: Path | None = None
    group_by: tuple[str, ...] = ()
    as_of: datetime | None = None
    #: Canonical field -> the input's column name (``--column at=timestamp``).
    columns: Mapping[str, str] = field(default_factory=dict)
    tolerance: Decimal = Decimal("0.000001")
    spark_master: str | None = None
    #: An existing Spark session to use (tests share one); made from spark_master otherwise.
    spark_session: Any = None
    #: Label of the input in error messages (the file name by default).
    label: str | None = None
    #: Fail (``UnpricedRowsError``, nothing written) if any row cannot be priced.
    strict: bool = False


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    found = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}.get(suffix)
    if found is None:
        raise UsageInputError(str(path), "cannot tell its format from the extension: give --format "
                              f"({', '.join(FORMATS)})")
    return found


def output_format(path: Path) -> str:
    found = OUTPUT_FORMATS.get(path.suffix.lower())
    if found is None:
        raise UsageInputError(str(path), f"--out must end in one of {', '.join(OUTPUT_FORMATS)}")
    return found


def price_usage(job: UsageJob, catalog: Catalog, progress: Callable[[int, int], None] | None = None) -> UsageSummary:
    """Price ``job.source`` with ``job.engine``; write priced rows to ``job.out`` (if given).

    ``progress(done, total)`` is called as the python engine goes. Raises ``UsageInputError`` for
    bad input (``UnpricedRowsError`` under ``strict``).
    """
    if job.engine not in ENGINES:
        raise UsageInputError("--engine", f"must be one of {', '.join(ENGINES)}, got {job.engine!r}")
    label = job.label or str(job.source)
    fmt = job.format or detect_format(job.source)
    if fmt not in FORMATS:
        raise UsageInputError(label, f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not job.source.is_file():
        raise UsageInputError(label, "no such file")
    out_fmt = output_format(job.out) if job.out is not None else None
    work = Path(tempfile.mkdtemp(prefix="usage-"))
    # A database file in the work folder: the priced rows are a table there, which DuckDB spills
    # to disk beyond its memory limit, so an input larger than memory streams through.
    try:
        con = duckdb.connect(str(work / "usage.duckdb"),
                             config={"temp_directory": str(work / "spill"), "memory_limit": MEMORY_LIMIT})
    except duckdb.Error as exc:
        shutil.rmtree(work, ignore_errors=True)
        # The one setting of the connection a user gives; DuckDB names what is wrong with it.
        raise UsageInputError("INFERENCE_COST_USAGE_MEMORY", f"{MEMORY_LIMIT!r} is not a memory limit DuckDB "
                              f"takes, e.g. 2GB ({str(exc).splitlines()[0]})") from None
    try:
        if fmt in importers.IMPORTERS:
            table = _imported(fmt, job.source, label)
            refuse_width(table.num_columns, label)
            con.register("usage_imported", table)
            raw = "SELECT *, CAST(row_number() OVER () - 1 AS BIGINT) AS q_row_no FROM usage_imported"
        else:
            check_width(job.source, fmt, label)
            raw = raw_relation_sql(job.source, fmt)
        info = open_input(con, label, raw, job.columns, job.as_of)
        for key in job.group_by:
            if key not in TIME_KEYS and key not in (*info.columns, "provider", "model_id", "currency",
                                                    "window", "tier", "period_from"):
                raise UsageInputError(label, f"--group-by {key}: no such column (the input's columns, "
                                      "provider, model_id, currency, window, tier, or hour/day/month/year)")
        first = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=info.first_us or 0)
        last = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=info.last_us or 0)
        _check_range(con, catalog, label, first, last, job.columns.get("at", "at"))
        try:
            tables = compile_tables(catalog, first, last)
        except CatalogError as exc:
            raise UsageInputError("--catalog", str(exc)) from None
        priced = work / "priced.parquet"
        view = f"read_parquet('{_escape(priced)}')"
        if job.engine == "duckdb":
            view = "priced"
            engines.run_duckdb(con, tables, info.columns, view)
        elif job.engine == "spark":
            session = job.spark_session or engines.spark_session(job.spark_master)
            engines.run_spark(con, tables, info.columns, priced, session)
        else:
            tick = None if progress is None else (lambda done: progress(done, info.rows))
            engines.run_python(con, catalog, tables, info.columns, priced, tick)
        if job.strict:
            _refuse_unpriced(con, view, info, label)
        if job.out is not None and out_fmt is not None:
            write_rows(con, view, info, job.out, out_fmt)
        return summarize(con, view, info, job, catalog.digest)
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)


def _imported(fmt: str, source: Path, label: str) -> Any:
    """The importer's Arrow table of ``source``; whatever the export holds, bad input is a ``UsageInputError``."""
    try:
        return importers.IMPORTERS[fmt](source, label)
    except UnicodeDecodeError as exc:
        raise UsageInputError(label, f"is not UTF-8 text (byte {exc.start:,} is not)") from None
    except RecursionError:
        raise UsageInputError(label, "nests arrays or objects too deeply to read") from None
    except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
        # The importers read each export's documented shape; a value of another type inside it (a
        # number where an object belongs) ends here, said as what it is, rather than as a bug.
        shown = f"{type(exc).__name__}: {exc}"
        shown = shown if len(shown) <= 200 else shown[:200] + "..."
        raise UsageInputError(label, f"is not a {fmt} export in its documented shape ({shown})") from None


def _check_range(con: duckdb.DuckDBPyConnection, catalog: Catalog, label: str, first: datetime,
                 last: datetime, column: str) -> None:
    """Refuse rows reaching over ``MAX_PRICED_YEARS`` past the catalog's first price, naming the row.

    The price tables hold each day's window spans from the first price on (or the first row) to the
    last row: a few seconds for a century; a row in the year 9000 would take many minutes and gigabytes.
    """
    earliest = min((p.starts for m in catalog.models() for p in m.periods), default=first)
    begins = max(first, earliest)
    if last - begins <= MAX_PRICED_SPAN:
        return
    row = con.execute(f"SELECT q_row_no FROM usage_input WHERE q_at_us = {epoch_us(last)} "
                      "ORDER BY q_row_no LIMIT 1").fetchall()
    raise UsageInputError(label, f"is {last.isoformat()}, over {MAX_PRICED_YEARS} years after "
                          f"{begins.date().isoformat()} (the first price or row): check the row, or price "
                          "with --as-of", row=int(row[0][0]) + 1 if row else None, column=column)


def _refuse_unpriced(con: duckdb.DuckDBPyConnection, view: str, info: InputInfo, label: str) -> None:
    ident = f"CAST({quote_ident(info.id_column)} AS VARCHAR)" if info.id_column else "NULL"
    first = con.execute(f"SELECT q_row_no, {ident}, error, count(*) OVER () FROM {view} "
                        "WHERE error IS NOT NULL ORDER BY q_row_no LIMIT 1").fetchall()
    if first:
        row, ident_value, reason, count = first[0]
        detail = f" (id {ident_value})" if ident_value is not None else ""
        raise UnpricedRowsError(label, f"{count} rows cannot be priced, the first{detail}: {reason} "
                                "(--strict: nothing written)", row=int(row) + 1)


def _escape(path: Path) -> str:
    return str(path).replace("'", "''")


def output_select(info: InputInfo, *, money_as_text: bool) -> str:
    """The output's columns: every input column, the priced columns, and ``variance`` if reconciling."""
    cols = [quote_ident(c) for c in info.columns]
    for name in ("provider", "model_id", "currency", *AMOUNT_COLUMNS, "period_from", "window", "tier",
                 "catalog_digest", "error"):
        ident = quote_ident(name)
        cols.append(f"CAST({ident} AS VARCHAR) AS {ident}" if money_as_text and name in AMOUNT_COLUMNS else ident)
    if info.reported:
        variance = _variance_sql(info)
        cols.append(f"CAST({variance} AS VARCHAR) AS variance" if money_as_text else f"{variance} AS variance")
    return ", ".join(cols)


def _variance_sql(info: InputInfo) -> str:
    same = "AND q_reported_currency = currency" if info.reported_currency else ""
    return f"CASE WHEN error IS NULL AND q_reported_cost IS NOT NULL {same} THEN total - q_reported_cost END"


def write_rows(con: duckdb.DuckDBPyConnection, view: str, info: InputInfo, out: Path, fmt: str) -> None:
    """Priced rows to ``out``: CSV and JSON Lines with money as plain decimal strings, Parquet as DECIMAL."""
    out.parent.mkdir(parents=True, exist_ok=True)
    select = output_select(info, money_as_text=fmt == "jsonl")
    options = {"csv": "FORMAT csv, HEADER true", "jsonl": "FORMAT json", "parquet": "FORMAT parquet"}[fmt]
    con.execute(f"COPY (SELECT {select} FROM {view} ORDER BY q_row_no) TO '{_escape(out)}' ({options})")


def summarize(con: duckdb.DuckDBPyConnection, view: str, info: InputInfo, job: UsageJob, digest: str) -> UsageSummary:
    """Totals per currency (and per group), errors by reason, reconciliation: exact, in SQL DECIMALs."""
    errors = dict(con.execute(f"SELECT error, count(*) FROM {view} WHERE error IS NOT NULL GROUP BY error "
                              "ORDER BY error").fetchall())
    unpriced = sum(errors.values())
    totals = _totals(con, view, info, ())
    groups = _totals(con, view, info, job.group_by) if job.group_by else []
    reconciliation = None
    if info.reported:
        variance = _variance_sql(info)
        tolerance = _decimal_literal(job.tolerance)
        compared = con.execute(f"SELECT count(*) FROM {view} WHERE ({variance}) IS NOT NULL").fetchall()[0]
        over_sql = f"FROM {view} WHERE abs({variance}) > {tolerance}"
        over = con.execute(f"SELECT count(*) {over_sql}").fetchall()[0]
        ident = f"CAST({quote_ident(info.id_column)} AS VARCHAR)" if info.id_column else "NULL"
        outliers = [Outlier(row=int(r) + 1, id=i, total=plain(t), reported_cost=plain(rc), variance=plain(v))
                    for r, i, t, rc, v in con.execute(
                        f"SELECT q_row_no, {ident}, total, q_reported_cost, {variance} {over_sql} "
                        f"ORDER BY q_row_no LIMIT {_OUTLIERS}").fetchall()]
        reconciliation = Reconciliation(tolerance=plain(job.tolerance), compared=int(compared[0]) if compared else 0,
                                        over_tolerance=int(over[0]) if over else 0, outliers=outliers)
    return UsageSummary(rows=info.rows, priced=info.rows - unpriced, unpriced=unpriced, errors=errors,
                        totals=totals, groups=groups, group_by=list(job.group_by), reconciliation=reconciliation,
                        engine=job.engine, catalog_digest=digest,
                        as_of=None if job.as_of is None else job.as_of.isoformat())


def _maybe(value: Decimal | None) -> str | None:
    return None if value is None else plain(value)


def _decimal_literal(value: Decimal) -> str:
    text = format(value, "f")
    return f"CAST('{text}' AS DECIMAL(38,18))"


def _totals(con: duckdb.DuckDBPyConnection, view: str, info: InputInfo, keys: Sequence[str]) -> list[Totals]:
    key_sql = []
    for key in keys:
        if key in TIME_KEYS:
            key_sql.append(f"strftime(make_timestamp(q_at_us), '{TIME_KEYS[key]}')")
        else:
            key_sql.append(f"CAST({quote_ident(key)} AS VARCHAR)")
    sums = ", ".join(f"sum({quote_ident(c)})" for c in AMOUNT_COLUMNS)
    reported = ("sum(q_reported_cost), sum(" + _variance_sql(info) + ")") if info.reported else "NULL, NULL"
    selected = ", ".join([*key_sql, "currency"])
    group = ", ".join(str(i + 1) for i in range(len(key_sql) + 1))
    rows = con.execute(
        f"SELECT {selected}, count(*), {sums}, {reported} FROM {view} WHERE error IS NULL "
        f"GROUP BY {group} ORDER BY {group}").fetchall()
    out = []
    n = len(key_sql)
    for row in rows:
        values = dict(zip(keys, row[:n], strict=True))
        a = row[n + 2:n + 8]
        out.append(Totals(keys=values, currency=row[n], rows=int(row[n + 1]),
                          input_amount=plain(a[0]), cached_input_amount=plain(a[1]),
                          cache_write_amount=plain(a[2]), cache_write_1h_amount=plain(a[3]),
                          output_amount=plain(a[4]), total=plain(a[5]),
                          reported_cost=_maybe(row[n + 8]), variance=_maybe(row[n + 9])))
    return out

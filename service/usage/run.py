"""``price_usage``: one usage run from input to priced rows and summary (the Python API)."""

from __future__ import annotations

import dataclasses
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
import msgspec

from pricing import Catalog, CatalogError
from pricing.usage_query import AMOUNT_COLUMNS
from pricing.usage_tables import PriceTables, compile_tables, epoch_us, plain
from service.usage import engines, importers
from service.usage.errors import UnpricedRowsError, UsageInputError
from service.usage.options import check_currency, check_reprice_on
from service.usage.reading import (
    KIND_VARIANCE_COLUMNS,
    REPORTED_KIND_COLUMNS,
    InputInfo,
    open_input,
    quote_ident,
    raw_relation_sql,
)
from service.usage.summary import (
    KindOutlier,
    KindReconciliation,
    Outlier,
    Reconciliation,
    RepriceComparison,
    Repriced,
    Totals,
    UsageSummary,
)
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
    #: Price in this price list (ISO 4217, e.g. "CNY"); None: each model's first-listed currency.
    #: A row whose model has no list in it gets the error ``no_price_in_currency``.
    currency: str | None = None
    #: Models to price the same usage on as well (same counts, instants, batch flags): the summary's
    #: ``repriced``, one entry per model. Each costs one more pass of the engine over the input.
    reprice_on: tuple[str, ...] = ()


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
    check_currency(job.currency, catalog)
    check_reprice_on(job.reprice_on, catalog)
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
            tables = compile_tables(catalog, first, last, job.currency, info.widest_tokens)
        except CatalogError as exc:
            raise UsageInputError("--catalog", str(exc)) from None
        if job.engine == "duckdb" and out_fmt == "parquet" and job.out is not None:
            straight = _price_straight(con, job, catalog, tables, info, label, work, job.out)
            if straight is not None:
                return straight
        priced = work / "priced.parquet"
        view = rows = f"read_parquet('{_escape(priced)}')"
        by_row_no = None
        if job.engine == "duckdb":
            # The summary reads the priced table; only the id and grouped input columns ride along.
            carried = [c for c in info.columns if c == info.id_column or c in job.group_by]
            view, rows, by_row_no = engines.run_duckdb(con, tables, info.columns, "priced", carried)
        elif job.engine == "spark":
            session = job.spark_session or engines.spark_session(job.spark_master)
            engines.run_spark(con, tables, info.columns, priced, session)
        else:
            tick = None if progress is None else (lambda done: progress(done, info.rows))
            engines.run_python(con, catalog, tables, info.columns, priced, tick)
        if job.strict:
            _refuse_unpriced(con, view, info, label)
        if job.out is not None and out_fmt is not None:
            write_rows(con, rows, info, job.out, out_fmt, by_row_no=by_row_no)
        return _summary(con, job, catalog, tables, info, view, work)
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)


def _summary(con: duckdb.DuckDBPyConnection, job: UsageJob, catalog: Catalog, tables: PriceTables, info: InputInfo,
             view: str, work: Path) -> UsageSummary:
    summary = summarize(con, view, info, job, catalog.digest)
    if not job.reprice_on:
        return summary
    repriced = [reprice(con, job, catalog, tables, info, view, index, work) for index in range(len(job.reprice_on))]
    return msgspec.structs.replace(summary, repriced=repriced)


def _price_straight(con: duckdb.DuckDBPyConnection, job: UsageJob, catalog: Catalog, tables: PriceTables,
                    info: InputInfo, label: str, work: Path, out: Path) -> UsageSummary | None:
    """The duckdb engine with Parquet out: priced into the output in one pass, summarized from it.

    The rows are written beside ``out`` under a hidden name and renamed to it once the summary is
    made (``--strict`` refusing, or any error, leaves nothing). None if the written rows failed
    their order check (``engines.written_in_order``): the caller then prices through a table.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    # The row's instant (as read: a timestamp, or text), compared row by row: the cheapest column
    # that tells rows apart (the counts too cost four times as much, for little more certainty).
    checked = [c for c in (job.columns.get("at", "at"),) if c in info.columns]
    # The summary reads the written rows; these q_ columns only the input has.
    needed = ["q_at_us"] if any(k in TIME_KEYS for k in job.group_by) else []
    needed += [c for c in engines.reported_columns(con) if info.reported or info.reported_kinds]
    try:
        engines.copy_duckdb(con, tables, info.columns, output_select(info, money_as_text=False), partial)
        if not engines.written_in_order(con, partial, checked):
            return None
        view = engines.written_view(con, partial, needed, "priced_written")
        if job.strict:
            _refuse_unpriced(con, view, info, label)
        summary = _summary(con, job, catalog, tables, info, view, work)
        con.execute(f"DROP VIEW {view}")
        os.replace(partial, out)
        return summary
    finally:
        partial.unlink(missing_ok=True)


def reprice(con: duckdb.DuckDBPyConnection, job: UsageJob, catalog: Catalog, tables: PriceTables, info: InputInfo,
            original: str, index: int, work: Path) -> Repriced:
    """The usage priced again with every row's model swapped for ``job.reprice_on[index]``, on the
    job's engine (keeping only the input columns the groups need), summarized against ``original``."""
    name = job.reprice_on[index]
    model = catalog.model(name)
    key = f"{model.provider}/{model.id}".replace("'", "''")
    kept = [c for c in info.columns if c in job.group_by]
    con.execute("CREATE OR REPLACE TEMP VIEW usage_input AS "
                f"SELECT * REPLACE (CAST('{key}' AS VARCHAR) AS q_model) FROM usage_canonical")
    try:
        path = work / f"repriced_{index}.parquet"
        view = f"read_parquet('{_escape(path)}')"
        if job.engine == "duckdb":
            view = engines.run_duckdb(con, tables, kept, f"repriced_{index}").table
        elif job.engine == "spark":
            engines.run_spark(con, tables, kept, path, job.spark_session or engines.spark_session(job.spark_master))
        else:
            engines.run_python(con, catalog, tables, kept, path)
    finally:
        con.execute("CREATE OR REPLACE TEMP VIEW usage_input AS SELECT * FROM usage_canonical")
    return _repriced(con, original, view, info, job, name, model.provider, model.id)


def _repriced(con: duckdb.DuckDBPyConnection, original: str, view: str, info: InputInfo, job: UsageJob,
              name: str, provider: str, model_id: str) -> Repriced:
    """The summary of ``view`` (the usage priced on another model) and its comparison with ``original``."""
    plain_info = dataclasses.replace(info, reported=False, reported_currency=False, reported_kinds=())
    errors = dict(con.execute(f"SELECT error, count(*) FROM {view} WHERE error IS NOT NULL GROUP BY error "
                              "ORDER BY error").fetchall())
    unpriced = sum(errors.values())
    compared = [RepriceComparison(currency=c, rows=int(n), original=plain(a), repriced=plain(b), difference=plain(d))
                for c, n, a, b, d in con.execute(
                    f"SELECT o.currency, count(*), sum(o.total), sum(r.total), sum(r.total) - sum(o.total) "
                    f"FROM {original} AS o JOIN {view} AS r ON o.q_row_no = r.q_row_no "
                    "WHERE o.error IS NULL AND r.error IS NULL AND o.currency = r.currency "
                    "GROUP BY o.currency ORDER BY o.currency").fetchall()]
    return Repriced(model=name, provider=provider, model_id=model_id, priced=info.rows - unpriced,
                    unpriced=unpriced, errors=errors, totals=_totals(con, view, plain_info, ()),
                    groups=_totals(con, view, plain_info, job.group_by) if job.group_by else [],
                    compared=compared)


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
    """The output's columns: every input column, the priced columns, and ``variance`` if reconciling
    (then ``<kind>_variance`` for each line kind the input reports)."""
    cols = [quote_ident(c) for c in info.columns]
    for name in ("provider", "model_id", "currency", *AMOUNT_COLUMNS, "period_from", "window", "tier",
                 "catalog_digest", "error"):
        ident = quote_ident(name)
        cols.append(f"CAST({ident} AS VARCHAR) AS {ident}" if money_as_text and name in AMOUNT_COLUMNS else ident)
    variances = [("variance", _variance_sql(info))] if info.reported else []
    variances += [(KIND_VARIANCE_COLUMNS[k], _kind_variance_sql(info, k)) for k in info.reported_kinds]
    for name, variance in variances:
        cols.append(f"CAST({variance} AS VARCHAR) AS {name}" if money_as_text else f"{variance} AS {name}")
    return ", ".join(cols)


def _variance_sql(info: InputInfo) -> str:
    same = "AND q_reported_currency = currency" if info.reported_currency else ""
    return f"CASE WHEN error IS NULL AND q_reported_cost IS NOT NULL {same} THEN total - q_reported_cost END"


def _kind_variance_sql(info: InputInfo, kind: str) -> str:
    """``<kind>_amount - reported_<kind>_cost`` of a priced row that has both, in the same currency."""
    same = "AND q_reported_currency = currency" if info.reported_currency else ""
    reported = f"q_{REPORTED_KIND_COLUMNS[kind]}"
    return f"CASE WHEN error IS NULL AND {reported} IS NOT NULL {same} THEN {kind}_amount - {reported} END"


def write_rows(con: duckdb.DuckDBPyConnection, view: str, info: InputInfo, out: Path, fmt: str,
               by_row_no: str | None = None) -> None:
    """Priced rows to ``out``: CSV and JSON Lines with money as plain decimal strings, Parquet as DECIMAL.

    ``view`` gives the rows in input order (every engine writes them so: no sort here). Should the
    duckdb engine's row-by-row check of that order fail, ``by_row_no`` is written sorted instead.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    select = output_select(info, money_as_text=fmt == "jsonl")
    options = {"csv": "FORMAT csv, HEADER true", "jsonl": "FORMAT json", "parquet": "FORMAT parquet"}[fmt]
    try:
        con.execute(f"COPY (SELECT {select} FROM {view}) TO '{_escape(out)}' ({options})")
    except duckdb.Error as exc:
        if by_row_no is None or engines.ORDER_LOST not in str(exc):
            raise
        con.execute(f"COPY (SELECT {select} FROM {by_row_no} ORDER BY q_row_no) TO '{_escape(out)}' ({options})")


def summarize(con: duckdb.DuckDBPyConnection, view: str, info: InputInfo, job: UsageJob, digest: str) -> UsageSummary:
    """Totals per currency (and per group), errors by reason, reconciliation: exact, in SQL DECIMALs."""
    errors = dict(con.execute(f"SELECT error, count(*) FROM {view} WHERE error IS NOT NULL GROUP BY error "
                              "ORDER BY error").fetchall())
    unpriced = sum(errors.values())
    totals = _totals(con, view, info, ())
    groups = _totals(con, view, info, job.group_by) if job.group_by else []
    reconciliation = _reconcile(con, view, info, job.tolerance) if info.reported or info.reported_kinds else None
    return UsageSummary(rows=info.rows, priced=info.rows - unpriced, unpriced=unpriced, errors=errors,
                        totals=totals, groups=groups, group_by=list(job.group_by), reconciliation=reconciliation,
                        engine=job.engine, catalog_digest=digest, currency=job.currency,
                        as_of=None if job.as_of is None else job.as_of.isoformat())


def _reconcile(con: duckdb.DuckDBPyConnection, view: str, info: InputInfo, tolerance: Decimal) -> Reconciliation:
    """Rows compared, rows beyond ``tolerance`` and the first of them: for the total, and per line kind."""
    limit = _decimal_literal(tolerance)
    ident = f"CAST({quote_ident(info.id_column)} AS VARCHAR)" if info.id_column else "NULL"

    def compare(variance: str, amount: str, reported: str) -> tuple[int, int, list[tuple[Any, ...]]]:
        compared, over = con.execute(f"SELECT count({variance}), count(*) FILTER (WHERE abs({variance}) > {limit}) "
                                     f"FROM {view}").fetchall()[0]
        first = con.execute(f"SELECT q_row_no, {ident}, {amount}, {reported}, {variance} FROM {view} "
                            f"WHERE abs({variance}) > {limit} ORDER BY q_row_no LIMIT {_OUTLIERS}").fetchall()
        return int(compared), int(over), first

    compared = over = 0
    outliers: list[Outlier] = []
    if info.reported:
        compared, over, first = compare(_variance_sql(info), "total", "q_reported_cost")
        outliers = [Outlier(row=int(r) + 1, id=i, total=plain(t), reported_cost=plain(rc), variance=plain(v))
                    for r, i, t, rc, v in first]
    by_kind = []
    for kind in info.reported_kinds:
        column = REPORTED_KIND_COLUMNS[kind]
        n, beyond, first = compare(_kind_variance_sql(info, kind), f"{kind}_amount", f"q_{column}")
        by_kind.append(KindReconciliation(
            kind=kind, column=column, compared=n, over_tolerance=beyond,
            outliers=[KindOutlier(row=int(r) + 1, id=i, amount=plain(a), reported=plain(rc), variance=plain(v))
                      for r, i, a, rc, v in first]))
    return Reconciliation(tolerance=plain(tolerance), compared=compared, over_tolerance=over, outliers=outliers,
                          by_kind=by_kind)


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
    # What was billed is summed over the rows compared (billed in the row's currency), as the variance is.
    same = "AND q_reported_currency = currency" if info.reported_currency else ""
    reported = (f"sum(CASE WHEN q_reported_cost IS NOT NULL {same} THEN q_reported_cost END), "
                f"sum({_variance_sql(info)})") if info.reported else "NULL, NULL"
    for kind in info.reported_kinds:
        column = f"q_{REPORTED_KIND_COLUMNS[kind]}"
        reported += (f", sum(CASE WHEN {column} IS NOT NULL {same} THEN {column} END), "
                     f"sum({_kind_variance_sql(info, kind)})")
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
        kinds = row[n + 10:]
        by_kind = None if not info.reported_kinds else {
            kind: _maybe(kinds[2 * i]) for i, kind in enumerate(info.reported_kinds)}
        variance_by_kind = None if not info.reported_kinds else {
            kind: _maybe(kinds[2 * i + 1]) for i, kind in enumerate(info.reported_kinds)}
        out.append(Totals(keys=values, currency=row[n], rows=int(row[n + 1]),
                          input_amount=plain(a[0]), cached_input_amount=plain(a[1]),
                          cache_write_amount=plain(a[2]), cache_write_1h_amount=plain(a[3]),
                          output_amount=plain(a[4]), total=plain(a[5]),
                          reported_cost=_maybe(row[n + 8]), variance=_maybe(row[n + 9]),
                          reported_by_kind=by_kind, variance_by_kind=variance_by_kind))
    return out

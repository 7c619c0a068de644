"""Read usage into DuckDB as the canonical relation ``usage_input`` the pricing query expects.

Every format ends up here: canonical CSV, JSON Lines and Parquet are read by DuckDB itself; the
importers (``service.usage.importers``) turn provider and gateway exports into an Arrow table of
canonical rows first. Columns are checked before anything is priced: a count that is not a whole
number, an instant that does not parse, a missing required column end the run with an error naming
the file, the row and the column.

The canonical row: ``model``, ``at`` (a timestamp with an offset; one without is UTC), the counts
per request (``input_tokens`` is the whole prompt, ``cached_input_tokens``, ``cache_write_tokens``
and ``cache_write_1h_tokens`` are parts of it, ``output_tokens`` includes reasoning), ``requests``
(default 1), ``batch`` (default false); optional ``id``, ``reported_cost``, ``reported_currency``.
Optional too: what was billed per line kind, ``reported_input_cost``, ``reported_cached_input_cost``,
``reported_cache_write_cost``, ``reported_cache_write_1h_cost``, ``reported_output_cost`` (read as
``reported_cost`` is), each reconciled against the row's amount of that kind.
Empty counts take their defaults (0, ``requests`` 1). Every other column passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pricing.bounds import EARLIEST, LATEST
from pricing.usage_query import PRICED_COLUMNS
from pricing.usage_tables import epoch_us
from service.usage.errors import UsageInputError

COUNT_COLUMNS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens",
                 "output_tokens", "requests")
#: What the provider billed per line kind, when the export says (``reported_input_cost`` ...): each
#: is reconciled against the row's amount of that kind (``input_amount`` ...).
LINE_KINDS = ("input", "cached_input", "cache_write", "cache_write_1h", "output")
REPORTED_KIND_COLUMNS = {kind: f"reported_{kind}_cost" for kind in LINE_KINDS}
#: The per-kind variance columns of the priced rows (``input_variance`` ...).
KIND_VARIANCE_COLUMNS = {kind: f"{kind}_variance" for kind in LINE_KINDS}
CANONICAL_COLUMNS = ("model", "at", *COUNT_COLUMNS, "batch", "id", "reported_cost", "reported_currency",
                     *REPORTED_KIND_COLUMNS.values())
REQUIRED_COLUMNS = ("model", "at")
#: reported_cost is read to this many places (a gateway's float spend has ~17 significant digits).
REPORTED_SCALE = 18
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "HUGEINT", "UHUGEINT"}
_WHOLE = r"\s*[+-]?[0-9]+\s*"
_CLAMP = 10**18


@dataclass(frozen=True)
class InputInfo:
    """What was read: the input's own columns (kept in the output), row count and instant range."""

    columns: tuple[str, ...]
    rows: int
    first_us: int | None
    last_us: int | None
    #: Whether ``reported_cost`` / ``reported_currency`` were given (reconciliation).
    reported: bool
    reported_currency: bool
    id_column: str | None
    #: The line kinds whose billed amount the input gives (``reported_<kind>_cost``), in LINE_KINDS order.
    reported_kinds: tuple[str, ...] = ()
    #: The most tokens of any row, (input + output) x requests, each factor clamped to [0, 10**18]:
    #: it decides whether amounts fit 18 digits (``pricing.usage_tables.compile_tables``).
    widest_tokens: int = 0


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def raw_relation_sql(path: Path, fmt: str) -> str:
    """The DuckDB table function reading a canonical-shape file, with a 0-based ``q_row_no``."""
    lit = _literal(str(path))
    if fmt == "parquet":
        return f"SELECT * EXCLUDE (file_row_number), file_row_number AS q_row_no FROM read_parquet({lit}, file_row_number = true)"
    if fmt == "csv":
        source = f"read_csv({lit}, header = true, all_varchar = true)"
    elif fmt == "jsonl":
        source = f"read_json({lit}, format = 'newline_delimited')"
    else:
        raise ValueError(fmt)
    return f"SELECT *, CAST(row_number() OVER () - 1 AS BIGINT) AS q_row_no FROM {source}"


def open_input(con: duckdb.DuckDBPyConnection, label: str, raw_sql: str, columns: Mapping[str, str],
               as_of: datetime | None = None) -> InputInfo:
    """Create the view ``usage_input`` over ``raw_sql`` (a query with ``q_row_no``), checked.

    ``columns`` maps a canonical name to the input's column holding it (default: the same name).
    """
    con.execute("SET TimeZone = 'UTC'")
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW usage_raw AS {raw_sql}")
        described = con.execute("DESCRIBE SELECT * FROM usage_raw").fetchall()
    except duckdb.Error as exc:
        raise UsageInputError(label, f"cannot be read as its format says ({_first_line(exc)})") from None
    types = {str(row[0]): str(row[1]) for row in described}
    own = tuple(name for name in types if name != "q_row_no")
    for name in own:
        if (name in PRICED_COLUMNS or name == "variance" or name in KIND_VARIANCE_COLUMNS.values()
                or name.startswith("q_")):
            raise UsageInputError(label, "clashes with an output column (or the reserved q_ prefix): rename it "
                                  "in the file", column=name)
    for canonical, source in columns.items():
        if canonical not in CANONICAL_COLUMNS:
            raise UsageInputError(label, f"--column {canonical}=...: {canonical!r} is not a usage field "
                                  f"(one of {', '.join(CANONICAL_COLUMNS)})")
        if source not in types:
            raise UsageInputError(label, f"--column {canonical}={source}: the input has no column {source!r}")
    mapped = {c: columns.get(c, c) for c in CANONICAL_COLUMNS}
    present = {c: s for c, s in mapped.items() if s in types}
    for required in REQUIRED_COLUMNS:
        if required not in present:
            raise UsageInputError(label, f"is missing (map another column to it with --column "
                                  f"{required}=NAME)", column=mapped[required])
    id_column = present.get("id")
    id_sql = f"CAST({quote_ident(id_column)} AS VARCHAR)" if id_column else "NULL"

    def fail_at(query: str, column: str, message: str) -> None:
        found = con.execute(f"SELECT q_row_no, {id_sql} FROM usage_raw WHERE {query} ORDER BY q_row_no LIMIT 1").fetchall()
        if found:
            row, ident = found[0]
            detail = f" (id {ident})" if ident is not None else ""
            raise UsageInputError(label, f"{message}{detail}", row=int(row) + 1, column=column)

    parts: list[str] = []
    for canonical in (*COUNT_COLUMNS, "batch"):
        found = present.get(canonical)
        if found is None:
            parts.append(f"CAST(NULL AS {'BOOLEAN' if canonical == 'batch' else 'BIGINT'}) AS q_{canonical}")
            continue
        source = found
        ident, kind = quote_ident(source), types[source]
        if canonical == "batch":
            if kind == "BOOLEAN":
                parts.append(f"{ident} AS q_batch")
                continue
            if kind not in ("VARCHAR", *_INTEGER_TYPES):
                raise UsageInputError(label, f"is {kind}: batch must be true or false", column=source)
            text = f"NULLIF(LOWER(TRIM(CAST({ident} AS VARCHAR))), '')"
            fail_at(f"{text} IS NOT NULL AND {text} NOT IN ('true', 'false', '1', '0')", source,
                    "is not true or false")
            parts.append(f"CASE {text} WHEN 'true' THEN TRUE WHEN '1' THEN TRUE WHEN 'false' THEN FALSE "
                         f"WHEN '0' THEN FALSE END AS q_batch")
            continue
        if kind in _INTEGER_TYPES:
            fail_at(f"{ident} > 9223372036854775807 OR {ident} < -9223372036854775808", source,
                    "is too large to be a token count")
            parts.append(f"CAST({ident} AS BIGINT) AS q_{canonical}")
        elif kind == "VARCHAR":
            text = f"NULLIF(TRIM({ident}), '')"
            fail_at(f"{text} IS NOT NULL AND (NOT regexp_full_match({text}, '{_WHOLE}') "
                    f"OR TRY_CAST({text} AS BIGINT) IS NULL)", source, "is not a whole number")
            parts.append(f"CAST({text} AS BIGINT) AS q_{canonical}")
        else:
            raise UsageInputError(label, f"is {kind}: token and request counts must be whole numbers",
                                  column=source)
    model = quote_ident(present["model"])
    parts.append(f"CAST({model} AS VARCHAR) AS q_model")
    at_source = present["at"]
    at, at_kind = quote_ident(at_source), types[at_source]
    if as_of is not None:
        if not EARLIEST <= as_of <= LATEST:
            raise UsageInputError("--as-of", f"{as_of.isoformat()} is too far from today to price: use an "
                                  "instant between the years 0002 and 9998")
        parts.append(f"CAST({epoch_us(as_of)} AS BIGINT) AS q_at_us")
    elif at_kind in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"):
        at_us = f"epoch_us(CAST({at} AS TIMESTAMPTZ))"
    elif at_kind == "VARCHAR":
        text = f"NULLIF(TRIM({at}), '')"
        fail_at(f"{text} IS NOT NULL AND TRY_CAST({text} AS TIMESTAMPTZ) IS NULL", at_source,
                "is not a timestamp (RFC 3339, e.g. 2025-01-31T12:00:00Z)")
        at_us = f"epoch_us(CAST({text} AS TIMESTAMPTZ))"
    else:
        raise UsageInputError(label, f"is {at_kind}: at must be a timestamp", column=at_source)
    if as_of is None:
        # DuckDB reads instants up to the year 294,276; the engine prices (and Python holds) far fewer.
        fail_at(f"{at_us} NOT BETWEEN {epoch_us(EARLIEST)} AND {epoch_us(LATEST)}", at_source,
                "is too far from today to price: use an instant between the years 0002 and 9998")
        parts.append(f"{at_us} AS q_at_us")

    def amount(canonical: str) -> None:
        source = present[canonical]
        # A float export is read from its shortest text (what the gateway showed), exactly.
        text = f"NULLIF(TRIM(CAST({quote_ident(source)} AS VARCHAR)), '')"
        fail_at(f"{text} IS NOT NULL AND TRY_CAST({text} AS DECIMAL(38,{REPORTED_SCALE})) IS NULL", source,
                "is not a decimal amount")
        parts.append(f"CAST({text} AS DECIMAL(38,{REPORTED_SCALE})) AS q_{canonical}")

    reported = "reported_cost" in present
    if reported:
        amount("reported_cost")
    reported_kinds = tuple(kind for kind, column in REPORTED_KIND_COLUMNS.items() if column in present)
    for kind in reported_kinds:
        amount(REPORTED_KIND_COLUMNS[kind])
    reported_currency = "reported_currency" in present
    if reported_currency:
        parts.append(f"UPPER(TRIM(CAST({quote_ident(present['reported_currency'])} AS VARCHAR))) "
                     "AS q_reported_currency")
    # ``usage_canonical`` is the input as read; ``usage_input`` (what the engines price) is the same,
    # until a repricing swaps the model of every row (``service.usage.run``).
    con.execute(f"CREATE OR REPLACE TEMP VIEW usage_canonical AS SELECT usage_raw.*, {', '.join(parts)} FROM usage_raw")
    con.execute("CREATE OR REPLACE TEMP VIEW usage_input AS SELECT * FROM usage_canonical")
    try:
        def clamp(column: str, default: int) -> str:
            return f"LEAST(GREATEST(COALESCE({column}, {default}), 0), {_CLAMP})"

        widest = (f"max(CAST({clamp('q_input_tokens', 0)} + {clamp('q_output_tokens', 0)} AS HUGEINT) "
                  f"* {clamp('q_requests', 1)})")
        rows, first, last, most = con.execute(
            f"SELECT count(*), min(q_at_us), max(q_at_us), {widest} FROM usage_input").fetchall()[0]
    except duckdb.Error as exc:
        raise UsageInputError(label, f"cannot be read ({_first_line(exc)})") from None
    return InputInfo(columns=own, rows=int(rows), first_us=first, last_us=last, widest_tokens=int(most or 0),
                     reported=reported,
                     reported_currency=reported_currency, id_column=id_column, reported_kinds=reported_kinds)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def register_arrow(con: duckdb.DuckDBPyConnection, name: str, table: Any) -> None:
    con.register(name, table)

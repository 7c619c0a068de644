"""The one definition of the usage pricing query, for every SQL engine.

The query is written once (in DuckDB's dialect) and transpiled with sqlglot for Spark SQL: there
are no hand-kept copies. It reads a relation ``usage_input`` (see ``INPUT_COLUMNS``) and the
one-row relation ``price_arrays`` (``arrays_parameters``, ``spark_arrays``: the price tables of
``pricing.usage_tables`` as the sorted arrays and arrays of structs of ``pricing.usage_lookups``),
and gives one priced row per input row (``q_row_no``, ``q_at_us``, the kept input columns, then
``PRICED_COLUMNS``). It is projections
only, no join and no sort, so DuckDB gives the rows in input order (a plan the tests check); Spark
gives them in any order, and the caller orders by ``q_row_no``. Two things differ by dialect, both
chosen here: DuckDB holds the price tables' text as ENUMs (small codes to copy and write) and
finds a row's name in an ENUM of the names by hashing, where Spark searches the sorted names.

Exactness: amounts are token counts (exact integers) times per-token rates (exact, from the
tables); the query has no division on money, no DOUBLE and no FLOAT, and every value is cast to
an explicit DECIMAL(p, s) wide enough for any valid row (``PriceTables.amount_precision``). When
the usage's widest row fits 18 digits at the largest rate (``compile_tables(widest_tokens=...)``),
every line is a BIGINT count times an integer rate in units of the amount's last place, summed in
BIGINT, and read as DECIMAL(18, s) by one exact multiplication by 10**-s. Otherwise amounts are
DECIMAL(38, s), and a row whose every line fits 18 digits (``fast_tokens``) multiplies a BIGINT
count as DECIMAL(18, 0), which DuckDB does in 64 bits, any other row in DECIMAL(38): the same
exact value either way. An invalid row is never multiplied: its counts are replaced by zeros
before the casts, and its rates are NULL (so are its amounts), so a row outside the engine's limits gets
its ``error`` rather than an overflow.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pricing.usage_lookups import (
    Array,
    Lookups,
    StructArray,
    attributes,
    period_steps,
    rate_steps,
    sql_string,
    text_literal,
)
from pricing.usage_tables import NARROW_PRECISION, PriceTables, narrow_tokens
from pricing.workload import MAX_REQUESTS, MAX_TOKENS

#: The canonical columns the query reads from ``usage_input``, beside the input's own columns (kept
#: as they are): ``q_row_no`` (the row's place), ``q_model``, ``q_at_us`` (UTC epoch microseconds,
#: NULL when missing), the BIGINT counts and BOOLEAN ``q_batch`` (NULL: the default). Every name the
#: query makes starts with ``q_``, so an input column never clashes with one.
INPUT_COLUMNS = ("q_row_no", "q_model", "q_at_us", "q_input_tokens", "q_cached_input_tokens",
                 "q_cache_write_tokens", "q_cache_write_1h_tokens", "q_output_tokens", "q_requests", "q_batch")

#: What the query adds to each row, in order.
PRICED_COLUMNS = ("provider", "model_id", "currency", "input_amount", "cached_input_amount",
                  "cache_write_amount", "cache_write_1h_amount", "output_amount", "total", "period_from",
                  "window", "tier", "catalog_digest", "error")
AMOUNT_COLUMNS = ("input_amount", "cached_input_amount", "cache_write_amount", "cache_write_1h_amount",
                  "output_amount", "total")

#: The most requests for which any valid count times requests still fits a BIGINT.
SAFE_REQUESTS = (2**63 - 1) // MAX_TOKENS
_COUNTS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens",
           "output_tokens")
#: Every ``error`` the query gives (an ENUM in DuckDB).
ERRORS = tuple(sorted(("invalid:model", *(f"invalid:{c}" for c in _COUNTS), "invalid:requests", "invalid:at",
                       "ambiguous_model", "unknown_model", "no_price_in_currency", "no_price", "no_batch_price")))
#: Dialects the query is transpiled to.
DIALECTS = ("duckdb", "spark")


def _sql(tables: PriceTables, passthrough: Sequence[str], enums: bool) -> str:
    s = tables.scale
    amount = f"DECIMAL({tables.amount_precision},{s})"
    # Both factors as 38-digit integers: DuckDB multiplies narrower decimals in 64 bits and fails
    # on 10**12 requests times a large count; the product itself always fits (TOKEN_DIGITS).
    count = reqs = "DECIMAL(38,0)"
    # Checks in the engine's order (pricing.workload): model, each count, requests, the parts of
    # the prompt, the instant. The first failing one names the row's error.
    def reason(text: str) -> str:
        return text_literal(enums, ERRORS, sql_string(text))

    checks = [f"WHEN q_model IS NULL OR TRIM(q_model) = '' THEN {reason('invalid:model')}"]
    checks += [f"WHEN q_c_{c} < 0 OR q_c_{c} > {MAX_TOKENS} THEN {reason(f'invalid:{c}')}" for c in _COUNTS]
    checks += [f"WHEN q_c_requests < 1 OR q_c_requests > {MAX_REQUESTS} THEN {reason('invalid:requests')}",
               "WHEN q_c_cached_input_tokens + q_c_cache_write_tokens + q_c_cache_write_1h_tokens"
               f" > q_c_input_tokens THEN {reason('invalid:cached_input_tokens')}",
               f"WHEN q_at_us IS NULL THEN {reason('invalid:at')}"]
    defaults = {c: "0" for c in _COUNTS} | {"requests": "1"}
    coalesced = ",\n    ".join(f"COALESCE(q_{c}, {d}) AS q_c_{c}" for c, d in defaults.items())
    safe = ",\n    ".join(f"CASE WHEN q_invalid IS NULL THEN q_c_{c} ELSE {defaults[c]} END AS q_s_{c}"
                          for c in defaults)
    keep = "".join(f"{_quote(c)}, " for c in passthrough)

    def tokens(c: str) -> str:
        return f"CAST(q_s_{c} AS {count}) * CAST(q_s_requests AS {reqs})"

    parts = ("cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens")
    uncached = f"({tokens('input_tokens')} - {' - '.join(tokens(c) for c in parts)})"
    # The same tokens in 64 bits, for rows that pass the fast check (``q_fast``).
    uncached_64 = f"(q_s_input_tokens - {' - '.join(f'q_s_{c}' for c in parts)}) * q_s_requests"
    wide = {
        "input_amount": (uncached, uncached_64, "q_r_input"),
        "cached_input_amount": (tokens("cached_input_tokens"), "q_s_cached_input_tokens * q_s_requests",
                                "q_r_cached_input"),
        "cache_write_amount": (tokens("cache_write_tokens"), "q_s_cache_write_tokens * q_s_requests", "q_r_cache_write"),
        "cache_write_1h_amount": (tokens("cache_write_1h_tokens"), "q_s_cache_write_1h_tokens * q_s_requests",
                                  "q_r_cache_write_1h"),
        "output_amount": (tokens("output_tokens"), "q_s_output_tokens * q_s_requests", "q_r_output"),
    }
    # Each line is multiplied once; the total adds them. A row whose every line fits 18 digits
    # (``q_fast``) multiplies a BIGINT token count by the rate as DECIMAL(18, 0) x DECIMAL(p, s), which
    # DuckDB computes in 64 bits (checked) and Spark exactly; any other row in DECIMAL(38). Both are
    # exact, and the two agree wherever both apply: only the speed differs.
    # When the amounts themselves are 18 digits (the usage's widest row fits them, so every line
    # and total of every row does), a line is its BIGINT token count times its rate in units of the
    # amount's last place (an integer), and the total the sum of those: 64-bit integer arithmetic
    # throughout, read as DECIMAL(18, s) by one exact multiplication by 10**-s at the end.
    narrow = tables.amount_precision <= NARROW_PRECISION
    # A row with an error has NULL rates (``rate_steps``), so its amounts are NULL with no test of
    # their own.
    if narrow:
        unit = f"CAST(0.{'0' * (s - 1)}1 AS DECIMAL({s},{s}))" if s else "CAST(1 AS DECIMAL(1,0))"
        units = ",\n    ".join(f"{fast} * q_ru_{rate.removeprefix('q_r_')} AS q_u_{name}"
                                for name, (_, fast, rate) in wide.items())
        amounts = [f"CAST(CAST(q_u_{name} AS DECIMAL(18,0)) * {unit} AS {amount})" for name in wide]
        total_sql = f"CAST(CAST({' + '.join(f'q_u_{name}' for name in wide)} AS DECIMAL(18,0)) * {unit} AS {amount})"
    else:
        units = ",\n    ".join(
            f"CASE WHEN NOT q_fast THEN CAST({expr} * {rate} AS {amount}) "
            f"ELSE CAST(CAST({fast} AS DECIMAL(18,0)) * {rate} AS {amount}) END AS q_{name}"
            for name, (expr, fast, rate) in wide.items())
        amounts = [f"q_{name}" for name in wide]
        total_sql = f"CAST({' + '.join(f'q_{name}' for name in wide)} AS {amount})"
    budget = fast_tokens(tables)
    # In order (a CASE, not an AND, which an engine may reorder): a valid count times at most
    # SAFE_REQUESTS requests fits a BIGINT, so the products compared next cannot overflow. With
    # narrow amounts every row is within the bound.
    fast_check = "TRUE AS q_fast" if narrow else (
        f"CASE WHEN q_invalid IS NOT NULL THEN TRUE WHEN q_c_requests > {SAFE_REQUESTS} THEN FALSE "
        f"WHEN q_c_input_tokens * q_c_requests > {budget} THEN FALSE "
        f"WHEN q_c_output_tokens * q_c_requests > {budget} THEN FALSE ELSE TRUE END AS q_fast")
    lookups = Lookups(tables, enums)

    def chain(steps: Iterator[tuple[str, str, str]]) -> str:
        return "".join(f"), {name} AS (\n  SELECT {prev}.*, {expr} FROM {prev}\n" for prev, name, expr in steps)

    digest = text_literal(enums, (tables.catalog_digest,), "'" + tables.catalog_digest.replace("'", "''") + "'")
    priced = (dict(attributes(lookups)) | dict(zip(wide, amounts, strict=True))
              | {"total": total_sql, "catalog_digest": digest, "error": "q_error"})
    select = ",\n    ".join(f"{priced[column]} AS {_quote(column)}" for column in PRICED_COLUMNS)
    return f"""
WITH u AS (
  SELECT usage_input.*, price_arrays.*, COALESCE(q_batch, FALSE) AS q_is_batch,
    {coalesced}
  FROM usage_input CROSS JOIN price_arrays
), v AS (
  SELECT u.*, CASE {' '.join(checks)} END AS q_invalid FROM u
), w AS (
  SELECT v.*, {safe}, {fast_check} FROM v
{chain(period_steps(lookups, "w"))}), e AS (
  SELECT p.*, CASE
    WHEN q_invalid IS NOT NULL THEN q_invalid
    WHEN q_model_key IS NULL AND q_ambiguous THEN {reason('ambiguous_model')}
    WHEN q_model_key IS NULL THEN {reason('unknown_model')}
    WHEN q_period_key IS NOT NULL AND q_currency IS NULL THEN {reason('no_price_in_currency')}
    WHEN q_period_key IS NULL OR q_at_us >= q_until_us THEN {reason('no_price')}
    WHEN q_is_batch AND q_batch_plan IS NULL THEN {reason('no_batch_price')}
  END AS q_error FROM p
{chain(rate_steps(lookups, "e"))}), n AS (
  SELECT t.*, {units} FROM t
)
SELECT q_row_no, q_at_us, {keep}
    {select}
FROM n
"""


def fast_tokens(tables: PriceTables) -> int:
    """The most tokens a line (count x requests) may hold for the 64-bit path: times the largest
    per-token rate it stays below 10**18 units of the amount's last place (DECIMAL(18, scale))."""
    return narrow_tokens(tables.table("price_rates").rows, tables.scale)


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def arrays_parameters(tables: PriceTables) -> tuple[str, list[object]]:
    """The query (one row) DuckDB makes the relation ``price_arrays`` of, its arrays as parameters:
    (query, one value per ``?``: a list of texts, or of structs of texts)."""
    return Lookups(tables, enums=True).parameters()


def spark_arrays(tables: PriceTables) -> tuple[list[Array], list[StructArray]]:
    """The arrays and the arrays of structs Spark makes the one-row relation ``price_arrays`` of
    (as data: Spark would fold literal arrays into every expression that reads them, and take
    minutes to plan the query)."""
    lookups = Lookups(tables, enums=False)
    return lookups.arrays, lookups.structs


def pricing_query(tables: PriceTables, dialect: str, passthrough: Sequence[str] = ()) -> str:
    """The pricing query in ``dialect`` ("duckdb" or "spark"), keeping ``passthrough`` columns."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, got {dialect!r}")
    if dialect == "duckdb":
        return _sql(tables, passthrough, enums=True)
    return _transpile(_sql(tables, passthrough, enums=False), dialect)


def _transpile(text: str, dialect: str) -> str:
    import sqlglot  # only to transpile: the duckdb engine does not pay for its import
    from sqlglot import exp

    def element_at(node: exp.Expression) -> exp.Expression:
        # DuckDB's array_extract is Spark's element_at (both 1-based, Spark's index an INT); sqlglot
        # leaves it as named.
        if isinstance(node, exp.Anonymous) and str(node.name).lower() == "array_extract":
            # The index may itself be a lookup (``transform`` does not visit what it returns).
            array, index = (e.transform(element_at) for e in node.expressions)
            return exp.Anonymous(this="element_at", expressions=[array, exp.cast(index, "INT")])
        return node

    return sqlglot.parse_one(text, read="duckdb").transform(element_at).sql(dialect=dialect, pretty=True)

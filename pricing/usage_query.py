"""The one definition of the usage pricing query, for every SQL engine.

The query is written once (in DuckDB's dialect) and transpiled with sqlglot for Spark SQL: there
are no hand-kept copies. It reads a relation ``usage_input`` (see ``INPUT_COLUMNS``) and the price
tables of ``pricing.usage_tables``, and gives one priced row per input row (``q_row_no``,
``q_at_us``, the kept input columns, then ``PRICED_COLUMNS``) in any order: the caller orders by
``q_row_no``.

Exactness: amounts are token counts (exact DECIMAL integers) times per-token rates (exact DECIMALs
from the tables); the query has no division on money, no DOUBLE and no FLOAT, and every value is
cast to an explicit DECIMAL(p, s) wide enough for any valid row (``PriceTables.amount_precision``).
A row whose every line fits 18 digits (``fast_tokens``) multiplies a BIGINT count as
DECIMAL(18, 0), which DuckDB does in 64 bits; any other row multiplies in DECIMAL(38): the same
exact value either way. An invalid row is never multiplied: its counts are replaced by zeros
before the casts, so a row outside the engine's limits gets its ``error`` rather than an overflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import sqlglot

from pricing.usage_tables import PriceTables
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

_DAY_US = 86_400_000_000
#: The most requests for which any valid count times requests still fits a BIGINT.
SAFE_REQUESTS = (2**63 - 1) // MAX_TOKENS
_COUNTS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens",
           "output_tokens")
#: Dialects the query is transpiled to.
DIALECTS = ("duckdb", "spark")


def _sql(tables: PriceTables, passthrough: Sequence[str]) -> str:
    s = tables.scale
    amount = f"DECIMAL({tables.amount_precision},{s})"
    # Both factors as 38-digit integers: DuckDB multiplies narrower decimals in 64 bits and fails
    # on 10**12 requests times a large count; the product itself always fits (TOKEN_DIGITS).
    count = reqs = "DECIMAL(38,0)"
    # Checks in the engine's order (pricing.workload): model, each count, requests, the parts of
    # the prompt, the instant. The first failing one names the row's error.
    checks = ["WHEN q_model IS NULL OR TRIM(q_model) = '' THEN 'invalid:model'"]
    checks += [f"WHEN q_c_{c} < 0 OR q_c_{c} > {MAX_TOKENS} THEN 'invalid:{c}'" for c in _COUNTS]
    checks += [f"WHEN q_c_requests < 1 OR q_c_requests > {MAX_REQUESTS} THEN 'invalid:requests'",
               "WHEN q_c_cached_input_tokens + q_c_cache_write_tokens + q_c_cache_write_1h_tokens"
               " > q_c_input_tokens THEN 'invalid:cached_input_tokens'",
               "WHEN q_at_us IS NULL THEN 'invalid:at'"]
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
    amounts = ",\n    ".join(
        f"CASE WHEN q_error IS NOT NULL THEN NULL WHEN q_fast THEN CAST(CAST({fast} AS DECIMAL(18,0)) * {rate} "
        f"AS {amount}) ELSE CAST({expr} * {rate} AS {amount}) END AS q_{name}"
        for name, (expr, fast, rate) in wide.items())
    budget = fast_tokens(tables)
    # In order (a CASE, not an AND, which an engine may reorder): a valid count times at most
    # SAFE_REQUESTS requests fits a BIGINT, so the products compared next cannot overflow.
    fast_check = (f"CASE WHEN q_invalid IS NOT NULL THEN TRUE WHEN q_c_requests > {SAFE_REQUESTS} THEN FALSE "
                  f"WHEN q_c_input_tokens * q_c_requests > {budget} THEN FALSE "
                  f"WHEN q_c_output_tokens * q_c_requests > {budget} THEN FALSE ELSE TRUE END AS q_fast")
    kept_amounts = ",\n    ".join(f"q_{name} AS {name}" for name in wide)
    total = " + ".join(f"q_{name}" for name in wide)
    digest = tables.catalog_digest.replace("'", "''")
    return f"""
WITH u AS (
  SELECT usage_input.*, COALESCE(q_batch, FALSE) AS q_is_batch, q_at_us // {_DAY_US} AS q_at_day,
    {coalesced}
  FROM usage_input
), v AS (
  SELECT u.*, CASE {' '.join(checks)} END AS q_invalid FROM u
), w AS (
  SELECT v.*, {safe}, {fast_check} FROM v
), r AS (
  SELECT w.*, n.model_key AS q_model_key, n.ambiguous AS q_ambiguous FROM w LEFT JOIN price_names AS n
    ON n.name = LOWER(TRIM(w.q_model)) AND w.q_invalid IS NULL
), p AS (
  SELECT r.*, per.period_key AS q_period_key, per.provider AS q_provider, per.model_id AS q_model_id,
    per.currency AS q_currency, per.until_us AS q_until_us, per.period_from AS q_period_from,
    per.base_plan AS q_base_plan, per.batch_plan AS q_batch_plan
  FROM r LEFT JOIN price_periods AS per
    ON per.model_key = r.q_model_key AND r.q_at_us >= per.starts_us AND r.q_at_us < per.next_us
), sp AS (
  SELECT p.*, spn."window" AS q_window, spn.plan AS q_window_plan FROM p LEFT JOIN price_spans AS spn
    ON spn.period_key = p.q_period_key AND NOT p.q_is_batch AND spn.day = p.q_at_day
    AND p.q_at_us >= spn.from_us AND p.q_at_us < spn.until_us
), k AS (
  SELECT sp.*, CASE WHEN sp.q_is_batch THEN sp.q_batch_plan ELSE COALESCE(sp.q_window_plan, sp.q_base_plan) END
    AS q_plan FROM sp
), t AS (
  SELECT k.*, pr.tier AS q_tier, pr.r_input AS q_r_input, pr.r_cached_input AS q_r_cached_input,
    pr.r_cache_write AS q_r_cache_write, pr.r_cache_write_1h AS q_r_cache_write_1h, pr.r_output AS q_r_output
  FROM k LEFT JOIN price_rates AS pr
    ON pr.plan = k.q_plan AND k.q_s_input_tokens >= pr.min_prompt AND k.q_s_input_tokens < pr.max_prompt
), e AS (
  SELECT t.*, CASE
    WHEN q_invalid IS NOT NULL THEN q_invalid
    WHEN q_model_key IS NULL AND q_ambiguous THEN 'ambiguous_model'
    WHEN q_model_key IS NULL THEN 'unknown_model'
    WHEN q_period_key IS NOT NULL AND q_currency IS NULL THEN 'no_price_in_currency'
    WHEN q_period_key IS NULL OR q_at_us >= q_until_us THEN 'no_price'
    WHEN q_is_batch AND q_batch_plan IS NULL THEN 'no_batch_price'
  END AS q_error FROM t
), m AS (
  SELECT e.*, {amounts} FROM e
)
SELECT q_row_no, q_at_us, {keep}
    CASE WHEN q_error IS NULL THEN q_provider END AS provider,
    CASE WHEN q_error IS NULL THEN q_model_id END AS model_id,
    CASE WHEN q_error IS NULL THEN q_currency END AS currency,
    {kept_amounts},
    CAST({total} AS {amount}) AS total,
    CASE WHEN q_error IS NULL THEN q_period_from END AS period_from,
    CASE WHEN q_error IS NULL THEN q_window END AS "window",
    CASE WHEN q_error IS NULL THEN q_tier END AS tier,
    CAST('{digest}' AS VARCHAR) AS catalog_digest,
    q_error AS error
FROM m
"""


def fast_tokens(tables: PriceTables) -> int:
    """The most tokens a line (count x requests) may hold for the 64-bit path: times the largest
    per-token rate it stays below 10**18 units of the amount's last place (DECIMAL(18, scale))."""
    rates = tables.table("price_rates")
    first = rates.columns.index("r_input")
    largest = max((int(v.scaleb(tables.scale)) for row in rates.rows for v in row[first:first + 5]
                   if isinstance(v, Decimal)), default=0)
    return (10**18 - 1) // max(largest, 1)


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def pricing_query(tables: PriceTables, dialect: str, passthrough: Sequence[str] = ()) -> str:
    """The pricing query in ``dialect`` ("duckdb" or "spark"), keeping ``passthrough`` columns."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, got {dialect!r}")
    text = _sql(tables, passthrough)
    if dialect == "duckdb":
        return text
    return sqlglot.transpile(text, read="duckdb", write=dialect, pretty=True)[0]

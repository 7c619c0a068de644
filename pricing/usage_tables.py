"""A catalog compiled into relational price tables, for pricing usage logs in SQL engines.

Pure: the same catalog and instant range always give the same tables. Every choice the Python
engine (``Catalog.quote``) makes row by row is laid out here as rows a lookup can pick exactly one
of (``pricing.usage_lookups`` lays them out as sorted arrays), so the query (``pricing.usage_query``) needs no control flow, no time-zone arithmetic and no
division:

- ``price_names``: every name that resolves (lower-cased), to a model key, or marked ambiguous.
- ``price_periods``: each period as ``[starts_us, next_us)`` in UTC epoch microseconds (the range in
  which it is the newest period started), its own ``until_us`` (no price at or after it), currency,
  the plan of its base rates and of its batch rates.
- ``price_spans``: the instants at which a window's rates apply, resolved in Python with the same
  ``zoneinfo`` database and the same first-listed-window-wins rule as the engine, as UTC intervals
  split at UTC midnights (``day`` = the UTC day number, so the join is an equi-join plus a range).
  Time zones and DST are therefore decided once, by the engine's own rules, not by each SQL
  engine's copy of the time-zone database.
- ``price_rates``: each plan's prompt-size ranges ``[min_prompt, max_prompt)`` (the highest tier
  whose boundary the prompt passes wins, as in the engine) with per-token rates as exact DECIMALs:
  a rate per million divided by 10**6 here, in Python, exactly, so that SQL only multiplies.

A model's own periods stop at its first route or its shutdown; from a route's instant its target's
periods (clipped to the route's span) are laid out under the routed model's key, with the target's
provider and id, so a routed row is priced exactly as the engine prices it. A window's excepted
local dates are holes in ``price_spans``. Periods carry their currency; a row is priced in the
model's first-listed one, as a ``Workload`` without a currency is, or, when the tables are compiled
for a ``currency``, in that price list, as ``Workload(currency=...)`` is: where a model (or the
target of its route) has no list in it, ``price_periods`` holds one row with ``currency`` NULL over
that span (no plans), which the query reports as ``no_price_in_currency``, as the engine raises
``NoCurrencyPriceError`` before it looks for a period.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec

from pricing.catalog import EXACT, Catalog
from pricing.errors import AmbiguousModelError, CatalogError
from pricing.schema import WEEKDAYS, Model, Period, Pricing, Rates, Window
from pricing.workload import MAX_REQUESTS, MAX_TOKENS
from pricing.zones import offset_changes

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_US = 86_400_000_000
_MILLION = Decimal(1_000_000)
#: The widest DECIMAL both DuckDB and Spark hold.
MAX_PRECISION = 38
#: The precision of amounts when the widest row's fit it: DECIMAL(18) is 64 bits in DuckDB and Parquet.
NARROW_PRECISION = 18
#: Stands for "no end" in the tables' ranges (lookups stay plain comparisons, no ``IS NULL OR``).
NO_END = 9_223_372_036_854_775_807
#: Digits of the largest token count of one line (``MAX_TOKENS * MAX_REQUESTS``).
TOKEN_DIGITS = len(str(MAX_TOKENS * MAX_REQUESTS))


def epoch_us(at: datetime) -> int:
    """``at`` (timezone aware) as microseconds since 1970-01-01T00:00Z, exactly."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class Table(msgspec.Struct, frozen=True, kw_only=True):
    """One relational table: column names, their SQL types, and the rows."""

    name: str
    columns: tuple[str, ...]
    #: SQL types in the common subset of DuckDB and Spark SQL (BIGINT, VARCHAR, BOOLEAN, DECIMAL(p,s)).
    types: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]


class PriceTables(msgspec.Struct, frozen=True, kw_only=True):
    """A catalog compiled for usage in ``[start_us, end_us]``: the tables and the money types."""

    tables: tuple[Table, ...]
    #: Digits after the point of every per-token rate and amount (the catalog's largest rate scale + 6).
    scale: int
    #: Precision of a per-token rate.
    rate_precision: int
    #: Precision of an amount and a row total (at most 38): any valid row fits it exactly.
    amount_precision: int
    catalog_digest: str
    start_us: int
    end_us: int
    #: The price list asked for (None: each model's first-listed currency).
    currency: str | None = None

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)


# -- money types ---------------------------------------------------------------------------------


def _all_rates(catalog: Catalog) -> Iterable[Decimal]:
    def of(p: Rates) -> Iterable[Decimal]:
        for field in ("input", "output", "cached_input", "cache_write", "cache_write_1h"):
            value = getattr(p, field)
            if value is not None:
                yield value
        for tier in getattr(p, "tiers", ()):
            yield from of(tier)

    for model in catalog.models():
        for period in model.periods:
            yield from of(period)
            if period.batch is not None:
                yield from of(period.batch)
            for window in period.windows:
                yield from of(window)


def money_types(catalog: Catalog) -> tuple[int, int, int]:
    """(scale, rate precision, amount precision) that hold every rate and amount exactly.

    Raises ``CatalogError`` when a valid row's amount could need more than 38 digits: such a
    catalog can only be priced by the Python engine.
    """
    places = 0
    whole = 1
    for rate in _all_rates(catalog):
        per_token = EXACT.divide(rate, _MILLION)
        exponent = per_token.as_tuple().exponent
        assert isinstance(exponent, int)  # the loader refuses NaN and infinities
        places = max(places, -exponent)
        whole = max(whole, per_token.adjusted() + 1)
    rate_precision = places + whole
    # A row's total: five lines of at most TOKEN_DIGITS-digit counts times a rate, plus one carry digit.
    amount_precision = TOKEN_DIGITS + rate_precision + 1
    if amount_precision > MAX_PRECISION:
        raise CatalogError(
            ", ".join(catalog.sources) or "<catalog>", "",
            f"its rates need {amount_precision} digits per amount, more than SQL's {MAX_PRECISION}: "
            "price this usage with --engine python",
        )
    return places, rate_precision, MAX_PRECISION


# -- plans (base, batch or window rates) -----------------------------------------------------------


class _Plans:
    """Numbers each distinct ``Pricing`` and lays out its prompt-size ranges."""

    def __init__(self, scale: int) -> None:
        self.quantum = Decimal(1).scaleb(-scale)
        self.rows: list[tuple[object, ...]] = []
        self.count = 0

    def _per_token(self, rate: Decimal) -> Decimal:
        return EXACT.divide(rate, _MILLION).quantize(self.quantum, context=EXACT)

    def _rates(self, rates: Rates) -> tuple[Decimal, ...]:
        base = rates.input
        return tuple(self._per_token(r) for r in (
            base,
            base if rates.cached_input is None else rates.cached_input,
            base if rates.cache_write is None else rates.cache_write,
            base if rates.cache_write_1h is None else rates.cache_write_1h,
            rates.output,
        ))

    def add(self, pricing: Pricing) -> int:
        key = self.count
        self.count += 1
        # The engine takes the last-listed tier whose boundary the prompt passes (tiers are listed
        # lowest threshold first), else the base rates: prompt >= low for low = threshold (">=") or
        # threshold + 1 (">").
        steps: list[tuple[int, str | None, Rates]] = [(0, None, pricing)]
        steps += [(t.threshold + (t.boundary == ">"), f"{t.boundary}{t.threshold}", t) for t in pricing.tiers]
        for i, (low, name, rates) in enumerate(steps):
            later = [s[0] for s in steps[i + 1:]]
            high = min(later) if later else NO_END
            if high <= low:
                continue  # a later tier always wins over this one
            self.rows.append((key, low, high, name, *self._rates(rates)))
        return key


# -- windows as UTC spans ----------------------------------------------------------------------


def _offset_segments(zone: tzinfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """``[start, end)`` (UTC) cut where ``zone``'s UTC offset changes: (from, until, offset).

    The changes are the quote engine's (``pricing.zones.offset_changes``), so both cut at the same
    instants; it samples once a day, where sampling every hour cost seconds for a decade of usage."""
    cuts = [start, *offset_changes(zone, start, end), end]
    segments = []
    for lo, hi in itertools.pairwise(cuts):
        offset = lo.astimezone(zone).utcoffset()
        assert offset is not None
        segments.append((lo, hi, offset))
    return [s for s in segments if s[0] < s[1]]


def _window_spans(window: Window, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """The UTC instants in ``[start, end)`` at which ``window`` is active, as [from, until) in µs.

    The engine's rule (``pricing.catalog._window_active``): the local wall time, in the window's
    zone, lies in ``[day + start, day + end)`` (``day + 1 + end`` when it runs past midnight) for a
    local ``day`` on one of the window's weekdays; and the instant lies in ``[from, until)``. Local
    wall time rises with UTC inside a stretch of constant offset, so in each stretch the set is an
    interval per local day.
    """
    zone: tzinfo = UTC if window.timezone == "UTC" else ZoneInfo(window.timezone)
    if window.starts is not None:
        start = max(start, window.starts.astimezone(UTC))
    if window.until is not None:
        end = min(end, window.until.astimezone(UTC))
    if start >= end:
        return []
    days = {WEEKDAYS.index(d) for d in (window.days or WEEKDAYS)}
    # Local dates on which a run starting that day does not apply (a holiday).
    excepted = set(window.except_dates)
    begin = timedelta(hours=window.start.hour, minutes=window.start.minute, seconds=window.start.second,
                      microseconds=window.start.microsecond)
    finish = timedelta(hours=window.end.hour, minutes=window.end.minute, seconds=window.end.second,
                       microseconds=window.end.microsecond)
    if finish <= begin:
        finish += timedelta(days=1)
    spans: list[tuple[int, int]] = []
    for seg_from, seg_until, offset in _offset_segments(zone, start, end):
        # Wall time as a naive-UTC instant: wall = utc + offset.
        first = (seg_from + offset - timedelta(days=2)).date()
        last = (seg_until + offset).date()
        day = first
        while day <= last:
            if day.weekday() in days and day not in excepted:
                midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
                lo = max(midnight + begin - offset, seg_from)
                hi = min(midnight + finish - offset, seg_until)
                if lo < hi:
                    spans.append((epoch_us(lo), epoch_us(hi)))
            day += timedelta(days=1)
    return spans


def _winning_spans(windows: list[tuple[int, list[tuple[int, int]]]]) -> list[tuple[int, int, int]]:
    """Cut overlapping windows' spans into (from, until, window index): the first-listed wins."""
    bounds = sorted({b for _, spans in windows for span in spans for b in span})
    # Every span's ends are bounds, so a piece between two neighbouring bounds lies wholly inside a
    # span or outside it, and the union of a window's spans answers as well as the spans. With the
    # unions sorted, one cursor per window walks forward with the pieces: linear, where testing every
    # span for every piece was quadratic in the days of the range (minutes for a decade of usage).
    merged = [(index, _union(spans)) for index, spans in windows]
    cursors = [0] * len(merged)
    out: list[tuple[int, int, int]] = []
    for lo, hi in itertools.pairwise(bounds):
        for n, (index, spans) in enumerate(merged):
            at = cursors[n]
            while at < len(spans) and spans[at][1] <= lo:
                at += 1
            cursors[n] = at
            if at < len(spans) and spans[at][0] <= lo and hi <= spans[at][1]:
                if out and out[-1][1] == lo and out[-1][2] == index:
                    out[-1] = (out[-1][0], hi, index)
                else:
                    out.append((lo, hi, index))
                break
    return out


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, overlapping and touching ones joined."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _split_days(lo: int, hi: int) -> Iterable[tuple[int, int, int]]:
    while lo < hi:
        day = lo // _DAY_US
        cut = min(hi, (day + 1) * _DAY_US)
        yield day, lo, cut
        lo = cut


# -- the tables ----------------------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return at.isoformat()


def compile_tables(catalog: Catalog, start: datetime, end: datetime, currency: str | None = None,
                   widest_tokens: int | None = None) -> PriceTables:
    """``catalog`` as price tables valid for usage with instants in ``[start, end]`` (UTC aware).

    Only the window spans depend on the range; outside it a row would miss its window.
    ``currency`` (an ISO 4217 code) picks each model's price list in that currency instead of its
    first-listed one. ``widest_tokens``, the most tokens of any row ((input + output) x requests),
    narrows the amounts to DECIMAL(18, scale) when that many tokens at the largest rate fit 18
    digits (every amount and total of the usage then fits, and is computed and written in 64 bits);
    without it, or when they would not fit, amounts are DECIMAL(38, scale).
    """
    scale, rate_precision, amount_precision = money_types(catalog)
    start = start.astimezone(UTC)
    end = end.astimezone(UTC) + timedelta(microseconds=1)
    rate_type = f"DECIMAL({rate_precision},{scale})"

    names: list[tuple[object, ...]] = []
    for name in catalog.names():
        try:
            model = catalog.model(name)
        except AmbiguousModelError:
            names.append((name, None, True))
        else:
            names.append((name, f"{model.provider}/{model.id}", False))

    plans = _Plans(scale)
    periods: list[tuple[object, ...]] = []
    spans: list[tuple[object, ...]] = []
    by_key = {f"{m.provider}/{m.id}": m for m in catalog.models()}
    period_key = 0
    for model in catalog.models():
        key = f"{model.provider}/{model.id}"
        # The model's own prices stop at its first route or its shutdown (``Catalog._quote``); each
        # route then lays its target's prices, clipped to the route's span, under this model's key.
        pieces: list[tuple[Model, datetime | None, datetime | None]] = [(model, None, _ends(model))]
        for i, route in enumerate(model.routes):
            target = by_key[f"{model.provider}/{catalog.model(f'{model.provider}/{route.to}').id}"]
            after = model.routes[i + 1].starts if i + 1 < len(model.routes) else None
            pieces.append((target, route.starts, _earliest(after, _ends(target))))
        for source, begins, ends in pieces:
            if currency is not None and all(p.currency != currency for p in source.periods):
                if begins is None or ends is None or begins < ends:
                    periods.append((
                        period_key, key, source.provider, source.id, None,
                        -NO_END if begins is None else epoch_us(begins), NO_END if ends is None else epoch_us(ends),
                        NO_END, None, None, None,
                    ))
                    period_key += 1
                continue
            for period, lo, nxt, until in _timeline(source, begins, ends, currency):
                base = plans.add(period)
                batch = None if period.batch is None else plans.add(period.batch)
                periods.append((
                    period_key, key, source.provider, source.id, period.currency,
                    epoch_us(lo), NO_END if nxt is None else epoch_us(nxt),
                    NO_END if until is None else epoch_us(until), _iso(period.starts), base, batch,
                ))
                spans.extend(_period_spans(period_key, period, plans, max(start, lo),
                                           end if until is None else min(end, until)))
                period_key += 1

    tables = (
        Table(name="price_names", columns=("name", "model_key", "ambiguous"),
              types=("VARCHAR", "VARCHAR", "BOOLEAN"), rows=tuple(names)),
        Table(name="price_periods",
              columns=("period_key", "model_key", "provider", "model_id", "currency", "starts_us",
                       "next_us", "until_us", "period_from", "base_plan", "batch_plan"),
              types=("BIGINT", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "BIGINT", "BIGINT",
                     "VARCHAR", "BIGINT", "BIGINT"),
              rows=tuple(periods)),
        Table(name="price_spans", columns=("period_key", "day", "from_us", "until_us", "window", "plan"),
              types=("BIGINT", "BIGINT", "BIGINT", "BIGINT", "VARCHAR", "BIGINT"), rows=tuple(spans)),
        Table(name="price_rates",
              columns=("plan", "min_prompt", "max_prompt", "tier", "r_input", "r_cached_input",
                       "r_cache_write", "r_cache_write_1h", "r_output"),
              types=("BIGINT", "BIGINT", "BIGINT", "VARCHAR", *(rate_type,) * 5), rows=tuple(plans.rows)),
    )
    if widest_tokens is not None and widest_tokens <= narrow_tokens(plans.rows, scale):
        amount_precision = NARROW_PRECISION
    return PriceTables(tables=tables, scale=scale, rate_precision=rate_precision,
                       amount_precision=amount_precision, catalog_digest=catalog.digest,
                       start_us=epoch_us(start), end_us=epoch_us(end), currency=currency)


def narrow_tokens(rate_rows: Iterable[tuple[object, ...]], scale: int) -> int:
    """The most tokens that, at the largest per-token rate of ``rate_rows`` (``price_rates`` rows),
    stay below 10**18 units of the amount's last place: an amount that fits DECIMAL(18, scale)."""
    largest: int = max((int(v.scaleb(scale)) for row in rate_rows for v in row[4:9] if isinstance(v, Decimal)),
                       default=0)
    return (int(10**NARROW_PRECISION) - 1) // max(largest, 1)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _ends(model: Model) -> datetime | None:
    """When the model's own prices stop: its first route's start or its shutdown, whichever is first."""
    first = model.routes[0].starts if model.routes else None
    return _earliest(first, model.shutdown)


def _timeline(model: Model, begins: datetime | None, ends: datetime | None,
              currency: str | None = None) -> Iterable[tuple[Period, datetime, datetime | None, datetime | None]]:
    """The model's periods in ``currency``, by default its first-listed one (as a Workload without a
    currency is priced), clipped to ``[begins, ends)``: (period, from, next period's from, no price from)."""
    wanted = model.periods[0].currency if currency is None else currency
    timeline = [p for p in model.periods if p.currency == wanted]
    for i, period in enumerate(timeline):
        next_start = timeline[i + 1].starts if i + 1 < len(timeline) else None
        until = period.until if period.until is not None else next_start
        lo = period.starts if begins is None else max(period.starts, begins)
        nxt, until = _earliest(next_start, ends), _earliest(until, ends)
        if (nxt is not None and lo >= nxt) or (until is not None and lo >= until):
            continue
        yield period, lo, nxt, until


def _period_spans(period_key: int, period: Period, plans: _Plans, lo: datetime,
                  hi: datetime) -> list[tuple[object, ...]]:
    """The winning window spans of ``period`` in ``[lo, hi)``, as ``price_spans`` rows."""
    if not period.windows:
        return []
    if lo >= hi:
        lo = hi  # still number the plans, so plan keys do not depend on the range
    keyed = [(i, _window_spans(w, lo, hi) if lo < hi else []) for i, w in enumerate(period.windows)]
    plan_keys = [plans.add(w) for w in period.windows]
    rows: list[tuple[object, ...]] = []
    for a, b, index in _winning_spans(keyed):
        for day, x, y in _split_days(a, b):
            rows.append((period_key, day, x, y, period.windows[index].name, plan_keys[index]))
    return rows


def at_scale(amount: Decimal, scale: int) -> Decimal:
    """``amount`` with exactly ``scale`` places, as the SQL engines hold it; raises if that would round."""
    return amount.quantize(Decimal(1).scaleb(-scale), context=EXACT)


def plain(amount: Decimal) -> str:
    """An exact amount as a plain decimal string ("0.000410000000", never "4.1E-4" or "0E-12")."""
    return format(amount, "f")


def day_of(at_us: int) -> int:
    """The UTC day number of an instant in epoch microseconds (as the query computes it)."""
    return at_us // _DAY_US


__all__ = [
    "MAX_PRECISION",
    "NARROW_PRECISION",
    "NO_END",
    "PriceTables",
    "Table",
    "at_scale",
    "compile_tables",
    "day_of",
    "epoch_us",
    "money_types",
    "narrow_tokens",
    "plain",
]

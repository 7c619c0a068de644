"""Projections: a number of requests spread over a span of time, priced at the schedule in force.

A span is cut into *stretches* of constant price (period x window x tier): the catalog names the
instants where the price may change (``Catalog.price_boundaries``) and one request is quoted with
``Catalog.quote`` at the start of each stretch, and checked at its end (a change the boundaries do
not name, a route say, is found by bisection). Requests are spread evenly, or by an hour-of-week
``Shape``: the share of a stretch is its length (times its weight) over the span's, so every figure
is a rational number, computed exactly with ``Fraction`` and reported as a ``Decimal`` rounded
half-even to ``PLACES`` places. Reported parts are rounded cumulatively (each is the rounded running
sum minus the previous rounded running sum), so they add up exactly to the reported total, which is
the exact total rounded; each part is within one unit of the last place of its exact value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from pricing import fx as fxrates
from pricing.bounds import bounded, within_calendar
from pricing.catalog import EXACT, Catalog
from pricing.errors import InvalidWorkloadError, PricingError
from pricing.quote import Quote
from pricing.schema import doc
from pricing.workload import MAX_REQUESTS, Usage, Workload
from pricing.zones import offset_changes

#: Decimal places of every reported amount and request count.
PLACES = 10
#: The longest span accepted (ten years, leap days included).
MAX_SPAN = timedelta(days=3653)
HOURS_PER_WEEK = 168
_US = timedelta(microseconds=1)
_US_PER_HOUR = 3_600_000_000
_US_PER_DAY = 24 * _US_PER_HOUR
_SCALE = 10**PLACES
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_STRUCT = {"frozen": True, "kw_only": True, "forbid_unknown_fields": True}



class Shape(msgspec.Struct, **_STRUCT):
    """Relative traffic by hour of the week in a time zone: 168 weights, Monday 00:00-01:00 first."""

    weights: Annotated[tuple[Decimal, ...], doc(
        "168 non-negative weights, one per local hour of the week starting Monday 00:00; an instant "
        "gets the weight of the local hour it falls in (a doubled hour at a DST change counts twice, "
        "a skipped one not at all). Not all zero.")]
    timezone: Annotated[str, doc("IANA time zone of the hours, e.g. Europe/Paris.")] = "UTC"


class Slice(msgspec.Struct, frozen=True, kw_only=True):
    """A calendar month or day of a projection, in the caller's zone."""

    label: Annotated[str, doc("The local month (2025-03) or day (2025-03-01).")]
    starts: Annotated[datetime, doc("Start of the slice within the span (UTC).")] = msgspec.field(name="from")
    until: Annotated[datetime, doc("End of the slice within the span (UTC), exclusive.")]
    requests: Annotated[Decimal, doc("Requests in the slice, rounded to 10 places.")]
    total: Annotated[Decimal, doc("Cost of the slice, rounded to 10 places.")]


class Part(msgspec.Struct, frozen=True, kw_only=True):
    """A stretch of constant price: one period, one window (or none), one tier."""

    starts: Annotated[datetime, doc("Start of the stretch (UTC).")] = msgspec.field(name="from")
    until: Annotated[datetime, doc("End of the stretch (UTC), exclusive.")]
    requests: Annotated[Decimal, doc("Requests in the stretch, rounded to 10 places.")]
    total: Annotated[Decimal, doc("Cost of the stretch, rounded to 10 places.")]
    unit_price: Annotated[Decimal, doc("Exact price of one request in the stretch, in the answer's currency.")]
    model: Annotated[str, doc("The model the stretch is billed as (a route's target once it starts).")]
    window: Annotated[str | None, doc("The recurring window whose rates apply, if any.")]
    tier: Annotated[str | None, doc("The prompt-size tier that applies, if any.")]
    period_from: Annotated[datetime, doc("Start of the price period in force.")]
    period_until: Annotated[datetime | None, doc("End of the price period in force, if announced.")]
    source: Annotated[str, doc("Where the price was published.")]


class PriceGroup(msgspec.Struct, frozen=True, kw_only=True):
    """Every stretch at one price (one period, window and tier) of a projection, summed."""

    period_from: Annotated[datetime, doc("Start of the price period.")]
    window: Annotated[str | None, doc("The window, if any.")]
    tier: Annotated[str | None, doc("The tier, if any.")]
    unit_price: Annotated[Decimal, doc("Exact price of one request.")]
    share: Annotated[Decimal, doc("Fraction of the requests at this price, rounded to 10 places.")]
    requests: Annotated[Decimal, doc("Requests at this price, rounded to 10 places.")]
    total: Annotated[Decimal, doc("Cost at this price, rounded to 10 places.")]


class Projection(msgspec.Struct, frozen=True, kw_only=True):
    """Requests spread over a span and priced stretch by stretch at the schedule in force."""

    model: Annotated[str, doc("Canonical id of the model priced.")]
    provider: Annotated[str, doc("The model's provider.")]
    currency: Annotated[str, doc("Currency of every amount in the answer.")]
    starts: Annotated[datetime, doc("Start of the span (UTC).")] = msgspec.field(name="from")
    until: Annotated[datetime, doc("End of the span (UTC), exclusive.")]
    requests: Annotated[Decimal, doc("Requests in the span, rounded to 10 places.")]
    total: Annotated[Decimal, doc("The exact total rounded half-even to 10 places.")]
    exact: Annotated[bool, doc("True when the reported total and requests are exact (not rounded).")]
    parts: Annotated[tuple[Part, ...], doc("Stretches of constant price, in order; they add up to the total.")]
    prices: Annotated[tuple[PriceGroup, ...], doc(
        "The parts summed by price (period x window x tier), cheapest unit price first.")]
    months: Annotated[tuple[Slice, ...], doc("Calendar months in `zone`; they add up to the total.")]
    days: Annotated[tuple[Slice, ...] | None, doc("Calendar days in `zone`, when asked for.")]
    zone: Annotated[str, doc("Time zone of the months and days.")]
    price_currency: Annotated[str, doc("Currency the catalog prices are published in.")]
    fx: Annotated[dict[str, Decimal] | None, doc("The caller's rate used to convert, echoed.")]
    places: Annotated[int, doc("Decimal places of the reported figures.")]
    catalog_digest: Annotated[str, doc("Identifies the catalog the prices came from.")]


class RankedProjection(Projection, frozen=True, kw_only=True):
    """A projection in a ranking, with its saving in percent against the baseline."""

    savings_percent: Annotated[Decimal | None, doc(
        "(baseline - total) / baseline * 100, rounded half-even to 2 places; None without a "
        "baseline or when it costs nothing.")] = None


# -- validation -----------------------------------------------------------------------------


def time_zone(name: str, field: str) -> tzinfo:
    """The IANA zone ``name`` (``UTC`` itself for "UTC"); ``InvalidWorkloadError`` names ``field`` if unknown."""
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise InvalidWorkloadError(field, f"{name!r} is not an IANA time zone (e.g. UTC, Europe/Paris)") from None


def check_span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """``(start, end)`` in UTC, if they are aware, ordered, and at most ten years apart."""
    for field, value in (("from", start), ("until", end)):
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise InvalidWorkloadError(field, "must be a timezone-aware instant, e.g. 2025-03-01T00:00:00Z")
        within_calendar(field, value)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise InvalidWorkloadError("until", f"must be after from ({start.isoformat()}); the span is "
                                   f"{'empty' if end == start else 'reversed'}")
    if end - start > MAX_SPAN:
        raise InvalidWorkloadError("until", f"the span is over 10 years ({(end - start).days} days); "
                                   "split it into several projections")
    return start, end


def _weights(shape: Shape | None) -> tuple[tuple[int, ...], tzinfo] | None:
    """The shape's weights as integers with one common scale, and its zone."""
    if shape is None:
        return None
    weights = shape.weights
    if len(weights) != HOURS_PER_WEEK:
        raise InvalidWorkloadError("shape.weights", f"must hold {HOURS_PER_WEEK} weights (one per hour of "
                                   f"the week, Monday 00:00 first), got {len(weights)}")
    fractions = []
    for i, w in enumerate(weights):
        fractions.append(Fraction(bounded(f"shape.weights[{i}]", w)))
    if not any(fractions):
        raise InvalidWorkloadError("shape.weights", "are all zero: give some hour a positive weight")
    scale = 1
    for f in fractions:
        scale = scale * f.denominator // _gcd(scale, f.denominator)
    return tuple(int(f * scale) for f in fractions), time_zone(shape.timezone, "shape.timezone")


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def _count(value: int | Decimal, field: str) -> Fraction:
    if isinstance(value, Decimal):
        value = bounded(field, value)
    if value < 0:
        raise InvalidWorkloadError(field, f"must not be negative, got {value}")
    if value > MAX_REQUESTS:
        raise InvalidWorkloadError(field, f"must be <= {MAX_REQUESTS:_} requests")
    return Fraction(value)


def requests_over(start: datetime, end: datetime, requests: int | Decimal | None = None,
                  per_day: Decimal | None = None, per_hour: Decimal | None = None) -> Fraction:
    """The requests in ``[start, end)``: ``requests``, or a rate per day or per hour times the span."""
    given = [name for name, v in (("requests", requests), ("requests_per_day", per_day),
                                  ("requests_per_hour", per_hour)) if v is not None]
    if len(given) != 1:
        raise InvalidWorkloadError("requests", "give exactly one of requests, requests_per_day and "
                                   f"requests_per_hour (got {', '.join(given) or 'none'})")
    length = (end - start) // _US
    if requests is not None:
        return _count(requests, "requests")
    if per_day is not None:
        return _count(per_day, "requests_per_day") * length / _US_PER_DAY
    assert per_hour is not None
    return _count(per_hour, "requests_per_hour") * length / _US_PER_HOUR


# -- rounding --------------------------------------------------------------------------------


def scaled_decimal(scaled: int) -> Decimal:
    """``scaled / 10**PLACES`` as a Decimal without trailing zeros or an exponent."""
    text = f"{'-' if scaled < 0 else ''}{abs(scaled) // _SCALE}.{abs(scaled) % _SCALE:0{PLACES}d}"
    return Decimal(text.rstrip("0").rstrip("."))


def report(value: Fraction) -> Decimal:
    """``value`` rounded half-even to ``PLACES`` places."""
    return scaled_decimal(round(value * _SCALE))


def report_parts(values: Sequence[Fraction]) -> list[Decimal]:
    """``values`` rounded so that they add up to their exact sum rounded (cumulative rounding)."""
    out, running, before = [], Fraction(0), 0
    for v in values:
        running += v
        now = round(running * _SCALE)
        out.append(scaled_decimal(now - before))
        before = now
    return out


def terminates(value: Fraction) -> bool:
    """Whether ``value`` has at most ``PLACES`` decimal places, so that ``report`` gives it exactly."""
    scaled: Fraction = value * _SCALE
    return scaled.denominator == 1


# -- stretches of constant price ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stretch:
    """``[starts, until)`` at one price: the quote of one request at ``starts``."""

    starts: datetime
    until: datetime
    quote: Quote


def _same_price(a: Quote, b: Quote) -> bool:
    same: bool = msgspec.structs.replace(a, at=_EPOCH) == msgspec.structs.replace(b, at=_EPOCH)
    return same


def stretches(catalog: Catalog, model: str, usage: Usage, start: datetime, end: datetime) -> list[Stretch]:
    """``[start, end)`` cut where the price of one ``usage`` request on ``model`` changes."""
    if usage.at is not None:
        raise InvalidWorkloadError("usage.at", "a projection has a span: use from/until, not at")
    if usage.requests != 1:
        raise InvalidWorkloadError("usage.requests", "give the number of requests as requests (or a rate), "
                                   "not in the token profile")
    fields = msgspec.structs.asdict(usage) | {"requests": 1, "at": None}

    def quote(at: datetime) -> Quote:
        return catalog.quote(Workload(model=model, **(fields | {"at": at})))

    out: list[Stretch] = []
    points = [start, *catalog.price_boundaries(model, start, end), end]
    for a, b in pairwise(points):
        first = quote(a)
        while True:
            last = quote(b - _US)
            if _same_price(first, last):
                out.append(Stretch(a, b, first))
                break
            # A change the boundaries did not name: bisect to the microsecond it happens.
            lo, hi = a, b - _US
            while hi - lo > _US:
                mid = lo + (hi - lo) // 2
                if _same_price(first, quote(mid)):
                    lo = mid
                else:
                    hi = mid
            out.append(Stretch(a, hi, first))
            a, first = hi, quote(hi)
    merged: list[Stretch] = []
    for s in out:
        if merged and _same_price(merged[-1].quote, s.quote):
            merged[-1] = Stretch(merged[-1].starts, s.until, merged[-1].quote)
        else:
            merged.append(s)
    return merged


# -- calendar and hour-of-week cuts -----------------------------------------------------------------


def local_starts(zone: tzinfo, start: datetime, end: datetime, unit: Literal["month", "day"]) -> list[datetime]:
    """UTC instants in ``(start, end)`` where a local month (or day) begins in ``zone``."""
    day = start.astimezone(zone).date()
    out: list[datetime] = []
    while True:
        if unit == "day":
            day = day + timedelta(days=1)
        else:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        at = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        if at >= end:
            return out
        if at > start:
            out.append(at)


def _label(at: datetime, zone: tzinfo, unit: Literal["month", "day"]) -> str:
    local = at.astimezone(zone).date()
    return f"{local:%Y-%m}" if unit == "month" else local.isoformat()


def _hour_starts(zone: tzinfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """UTC instants in ``(start, end)`` where a local hour begins in ``zone`` (offset changes included)."""
    changes = [*offset_changes(zone, start, end), end]
    low = start
    for high in changes:
        offset = low.astimezone(zone).utcoffset() or timedelta(0)
        local = low + offset
        first = local.replace(minute=0, second=0, microsecond=0)
        if first <= local:
            first += timedelta(hours=1)
        at = first - offset
        while at < high:
            yield at
            at += timedelta(hours=1)
        if high < end:
            yield high
        low = high


def _hour_of_week(at: datetime, zone: tzinfo) -> int:
    local = at.astimezone(zone)
    return local.weekday() * 24 + local.hour


# -- the projection ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """An elementary piece of the span: one stretch, one weight, one month and day."""

    starts: datetime
    until: datetime
    stretch: int
    #: Weight times length in microseconds (integer: the weights share one scale).
    mass: int


@dataclass(frozen=True, slots=True)
class Spread:
    """The exact result a projection, budget or plan reports from."""

    start: datetime
    end: datetime
    requests: Fraction
    stretches: list[Stretch]
    segments: list[Segment]
    mass: int
    unit: list[Fraction]
    currency: str


def spread(catalog: Catalog, model: str, usage: Usage, start: datetime, end: datetime,
           requests: Fraction, shape: Shape | None = None, cuts: Iterable[datetime] = (),
           currency: str | None = None, fx: Mapping[str, Decimal] | None = None) -> Spread:
    """``requests`` spread over ``[start, end)`` (by ``shape``), cut also at ``cuts``, priced exactly."""
    weights = _weights(shape)
    parts = stretches(catalog, model, usage, start, end)
    sources = {s.quote.currency for s in parts}
    target = currency or parts[0].quote.currency
    if currency is None and len(sources) > 1:
        raise fxrates.CurrencyError("currency", f"the span is priced in {', '.join(sorted(sources))}: "
                                    "name one currency and give its rates in fx")
    rates = fxrates.check_rates(fx or {})
    unit = [fxrates.convert_fraction(Fraction(s.quote.total), s.quote.currency, target, rates) for s in parts]
    points = {s.starts for s in parts} | {s.until for s in parts} | {c for c in cuts if start < c < end}
    if weights is not None:
        points.update(_hour_starts(weights[1], start, end))
    segments = []
    index = 0
    for a, b in pairwise(sorted(points)):
        while parts[index].until <= a:
            index += 1
        w = 1 if weights is None else weights[0][_hour_of_week(a, weights[1])]
        segments.append(Segment(a, b, index, w * ((b - a) // _US)))
    mass = sum(s.mass for s in segments)
    if mass == 0:
        raise InvalidWorkloadError("shape.weights", "give no weight to any hour of the span: no request "
                                   "could run; weight an hour inside it")
    return Spread(start, end, requests, parts, segments, mass, unit, target)


def slices(sp: Spread, zone: tzinfo, unit: Literal["month", "day"]) -> tuple[Slice, ...]:
    """The requests and cost of ``sp`` in each local calendar month (or day) of ``zone``."""
    cuts = [sp.start, *local_starts(zone, sp.start, sp.end, unit), sp.end]
    requests, totals = [], []
    i = 0
    per = sp.requests / sp.mass
    for _, b in pairwise(cuts):
        r, t = Fraction(0), Fraction(0)
        while i < len(sp.segments) and sp.segments[i].starts < b:
            seg = sp.segments[i]
            share = per * seg.mass
            r += share
            t += share * sp.unit[seg.stretch]
            i += 1
        requests.append(r)
        totals.append(t)
    return tuple(
        Slice(label=_label(a, zone, unit), starts=a, until=b, requests=r, total=t)
        for (a, b), r, t in zip(pairwise(cuts), report_parts(requests), report_parts(totals), strict=True)
    )


def project(catalog: Catalog, model: str, usage: Usage, start: datetime, end: datetime, *,
            requests: int | Decimal | None = None, requests_per_day: Decimal | None = None,
            requests_per_hour: Decimal | None = None, shape: Shape | None = None, zone: str = "UTC",
            days: bool = False, currency: str | None = None,
            fx: Mapping[str, Decimal] | None = None) -> Projection:
    """``usage`` requests on ``model`` spread over ``[start, end)`` and priced at the schedule.

    Give the number as ``requests`` (a total) or a rate; months (and ``days``) are cut in ``zone``.
    ``currency`` with the caller's ``fx`` rates converts every amount.
    """
    start, end = check_span(start, end)
    n = requests_over(start, end, requests, requests_per_day, requests_per_hour)
    local = time_zone(zone, "zone")
    if currency is not None:
        fxrates.check_currency(currency)
    cuts = local_starts(local, start, end, "month")
    if days:
        cuts += local_starts(local, start, end, "day")
    sp = spread(catalog, model, usage, start, end, n, shape, cuts, currency, fx)
    return _projection(catalog, sp, local, zone, days, fx)


def _projection(catalog: Catalog, sp: Spread, local: tzinfo, zone: str, days: bool,
                fx: Mapping[str, Decimal] | None) -> Projection:
    per = sp.requests / sp.mass
    masses = [0] * len(sp.stretches)
    for seg in sp.segments:
        masses[seg.stretch] += seg.mass
    requests = [per * m for m in masses]
    totals = [r * u for r, u in zip(requests, sp.unit, strict=True)]
    total = sum(totals, Fraction(0))
    exact = terminates(total) and terminates(sp.requests)
    parts = tuple(
        Part(starts=s.starts, until=s.until, requests=r, total=t, unit_price=exact_decimal(u),
             model=s.quote.model, window=s.quote.window, tier=s.quote.tier, period_from=s.quote.period_from,
             period_until=s.quote.period_until, source=s.quote.source)
        for s, r, t, u in zip(sp.stretches, report_parts(requests), report_parts(totals), sp.unit, strict=True)
    )
    first = sp.stretches[0].quote
    return Projection(
        model=first.model, provider=first.provider, currency=sp.currency, starts=sp.start, until=sp.end,
        requests=report(sp.requests), total=report(total), exact=exact, parts=parts,
        prices=_groups(sp, requests, totals),
        months=slices(sp, local, "month"), days=slices(sp, local, "day") if days else None, zone=zone,
        price_currency=first.currency, fx=None if not fx else dict(fx), places=PLACES,
        catalog_digest=catalog.digest,
    )


def _groups(sp: Spread, requests: list[Fraction], totals: list[Fraction]) -> tuple[PriceGroup, ...]:
    keys: dict[tuple[datetime, str | None, str | None, Fraction], list[Fraction]] = {}
    for s, r, t, u in zip(sp.stretches, requests, totals, sp.unit, strict=True):
        acc = keys.setdefault((s.quote.period_from, s.quote.window, s.quote.tier, u), [Fraction(0), Fraction(0)])
        acc[0] += r
        acc[1] += t
    order = sorted(keys, key=lambda k: (k[3], k[0]))
    reqs = report_parts([keys[k][0] for k in order])
    tots = report_parts([keys[k][1] for k in order])
    shares = report_parts([keys[k][0] / sp.requests if sp.requests else Fraction(0) for k in order])
    return tuple(
        PriceGroup(period_from=k[0], window=k[1], tier=k[2], unit_price=exact_decimal(k[3]), share=sh,
                   requests=r, total=t)
        for k, sh, r, t in zip(order, shares, reqs, tots, strict=True)
    )


def exact_decimal(value: Fraction) -> Decimal:
    """A unit price, exactly: a catalog price times a decimal rate always terminates."""
    exact = EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))
    return Decimal(f"{exact.normalize(EXACT):f}") if exact else Decimal(0)


def total_of(sp: Spread) -> Fraction:
    """The exact cost of a spread."""
    per = sp.requests / sp.mass
    return sum((per * seg.mass * sp.unit[seg.stretch] for seg in sp.segments), Fraction(0))


def project_many(catalog: Catalog, models: Sequence[str], usage: Usage, start: datetime, end: datetime, *,
                 baseline: str | None = None, **options: object) -> tuple[RankedProjection, ...]:
    """``project`` on each model, cheapest first (by currency, then total), like ``compare``."""
    if isinstance(models, str) or not models:
        raise InvalidWorkloadError("models", "must be a non-empty list of model names")
    seen: dict[str, Projection] = {}
    names = list(models) + ([baseline] if baseline is not None else [])
    for name in names:
        key = catalog.model(name)
        if f"{key.provider}/{key.id}" not in seen:
            seen[f"{key.provider}/{key.id}"] = project(catalog, name, usage, start, end, **options)  # type: ignore[arg-type]
    base = None
    if baseline is not None:
        b = catalog.model(baseline)
        base = seen[f"{b.provider}/{b.id}"]
    ranked = [RankedProjection(**msgspec.structs.asdict(p), savings_percent=_savings(p, base))
              for p in seen.values()]
    ranked.sort(key=lambda p: (p.currency, p.total, p.provider, p.model))
    return tuple(ranked)


def _savings(p: Projection, base: Projection | None) -> Decimal | None:
    if base is None or base.currency != p.currency or not base.total:
        return None
    ratio = (Fraction(base.total) - Fraction(p.total)) * 100 / Fraction(base.total)
    return scaled_decimal(round(ratio * 100) * (_SCALE // 100))


__all__ = ["PLACES", "Part", "PricingError", "Projection", "RankedProjection", "Shape", "Slice", "project",
           "project_many"]

"""Budgets: an amount per calendar month (or rolling 30 days) against a rate of use.

The rate is spread over the cycle like a projection (evenly, or by an hour-of-week ``Shape``) and
priced at the schedule; the budget is exhausted at the first instant the running cost reaches the
amount (computed exactly inside its stretch, then rounded up to the whole second).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Literal

import msgspec

from pricing import fx as fxrates
from pricing.bounds import LATEST, bounded, within_calendar
from pricing.catalog import Catalog
from pricing.errors import InvalidWorkloadError
from pricing.projection import (
    PLACES,
    Shape,
    Slice,
    check_span,
    local_starts,
    report,
    requests_over,
    slices,
    spread,
    time_zone,
)
from pricing.schema import doc
from pricing.workload import Usage

Cycle = Literal["month", "rolling-30d"]
_US_PER_SECOND = 1_000_000



class Budget(msgspec.Struct, frozen=True, kw_only=True):
    """A budget cycle: what it will cost at the rate of use, and when the amount runs out."""

    model: Annotated[str, doc("Canonical id of the model priced.")]
    provider: Annotated[str, doc("The model's provider.")]
    currency: Annotated[str, doc("Currency of the amount and of every figure.")]
    cycle: Annotated[Cycle, doc("`month` (calendar month in `zone`) or `rolling-30d`.")]
    cycle_from: Annotated[datetime, doc("Start of the cycle (UTC).")]
    cycle_until: Annotated[datetime, doc("End of the cycle (UTC), exclusive.")]
    starts: Annotated[datetime, doc("When the rate of use starts (UTC).")] = msgspec.field(name="from")
    amount: Annotated[Decimal, doc("The budget for the cycle.")]
    spent: Annotated[Decimal, doc("Already spent in the cycle before `from`.")]
    cost: Annotated[Decimal, doc("What the cycle will cost: spent plus the projected cost, 10 places.")]
    remaining: Annotated[Decimal, doc("amount - cost (negative: over budget), 10 places.")]
    exhausted_at: Annotated[datetime | None, doc(
        "The instant (rounded up to the second) the running cost reaches the amount; null if it "
        "does not within the cycle.")]
    requests: Annotated[Decimal, doc("Requests the rate runs from `from` to the cycle's end, 10 places.")]
    requests_bought: Annotated[Decimal, doc(
        "Requests that run before the amount is exhausted (all of `requests` if it is not), 10 places.")]
    days: Annotated[tuple[Slice, ...], doc("Projected cost by local day in `zone`: the burn rate.")]
    zone: Annotated[str, doc("Time zone of the calendar month and days.")]
    fx: Annotated[dict[str, Decimal] | None, doc("The caller's rate used to convert, echoed.")]
    places: Annotated[int, doc("Decimal places of the reported figures.")]
    catalog_digest: Annotated[str, doc("Identifies the catalog the prices came from.")]


def cycle_of(start: datetime, cycle: Cycle, zone: str = "UTC") -> tuple[datetime, datetime]:
    """The cycle ``start`` falls in: its calendar month in ``zone``, or 30 days from ``start``."""
    if cycle == "rolling-30d":
        return start, start + timedelta(days=30)
    if cycle != "month":
        raise InvalidWorkloadError("cycle", f"must be 'month' or 'rolling-30d', got {cycle!r}")
    local = time_zone(zone, "zone")
    day = start.astimezone(local).date()
    first = datetime(day.year, day.month, 1, tzinfo=local).astimezone(UTC)
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return first, datetime(following.year, following.month, 1, tzinfo=local).astimezone(UTC)


def budget(catalog: Catalog, model: str, usage: Usage, amount: Decimal, start: datetime, *,
           requests_per_day: Decimal | None = None, requests_per_hour: Decimal | None = None,
           shape: Shape | None = None, cycle: Cycle = "month", zone: str = "UTC",
           spent: Decimal = Decimal(0), currency: str | None = None,
           fx: Mapping[str, Decimal] | None = None) -> Budget:
    """The cycle containing ``start`` with ``amount`` to spend and usage from ``start`` on at the rate."""
    for field, value in (("amount", amount), ("spent", spent)):
        bounded(field, value)
    if start.tzinfo is None or start.utcoffset() is None:
        raise InvalidWorkloadError("from", "must be a timezone-aware instant, e.g. 2025-03-01T00:00:00Z")
    start = within_calendar("from", start).astimezone(UTC)
    cycle_from, cycle_until = cycle_of(start, cycle, zone)
    if currency is not None:
        fxrates.check_currency(currency)
    if cycle_until > LATEST:
        raise InvalidWorkloadError("from", f"its cycle ends {cycle_until.isoformat()}, too far from today to "
                                   "price: use an instant between the years 0002 and 9998")
    start, end = check_span(start, cycle_until)
    local = time_zone(zone, "zone")
    n = requests_over(start, end, None, requests_per_day, requests_per_hour)
    cuts = local_starts(local, start, end, "day")
    sp = spread(catalog, model, usage, start, end, n, shape, cuts, currency, fx)

    left = Fraction(amount) - Fraction(spent)
    per = sp.requests / sp.mass
    cost, requests = Fraction(0), Fraction(0)
    exhausted_at: datetime | None = start if left <= 0 else None
    bought = Fraction(0) if left <= 0 else None
    for seg in sp.segments:
        seg_requests = per * seg.mass
        seg_cost = seg_requests * sp.unit[seg.stretch]
        if bought is None and seg_cost and cost + seg_cost >= left:
            share = (left - cost) / seg_cost
            length = (seg.until - seg.starts) // timedelta(microseconds=1)
            epoch_us = (seg.starts - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
            seconds = math.ceil((epoch_us + share * length) / _US_PER_SECOND)
            exhausted_at = datetime.fromtimestamp(seconds, UTC)
            bought = requests + share * seg_requests
        cost += seg_cost
        requests += seg_requests
    first = sp.stretches[0].quote
    total = Fraction(spent) + cost
    return Budget(
        model=first.model, provider=first.provider, currency=sp.currency, cycle=cycle, cycle_from=cycle_from,
        cycle_until=cycle_until, starts=start, amount=amount, spent=spent, cost=report(total),
        remaining=report(Fraction(amount) - total), exhausted_at=exhausted_at, requests=report(requests),
        requests_bought=report(requests if bought is None else bought), days=slices(sp, local, "day"),
        zone=zone, fx=None if not fx else dict(fx), places=PLACES, catalog_digest=catalog.digest,
    )

"""Plans: when to run deferrable work (N requests between two instants, at most R an hour) cheapest.

Within a stretch of constant price every hour costs the same, so the cheapest schedule fills the
cheapest stretches first, each at the full rate from its start (earliest first among equal prices),
until N requests are placed: a linear programme whose greedy solution is optimal. "Now" is the same
work started at ``from`` at the full rate. Requests are exact rationals (a stretch of 30 minutes at
1 request an hour holds half a request), reported rounded to ``PLACES`` places.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Annotated

import msgspec

from pricing.bounds import bounded
from pricing.catalog import Catalog
from pricing.errors import InvalidWorkloadError
from pricing.projection import (
    PLACES,
    Spread,
    check_span,
    exact_decimal,
    report,
    report_parts,
    scaled_decimal,
    spread,
    terminates,
)
from pricing.schema import doc
from pricing.workload import MAX_REQUESTS, Usage

_US = timedelta(microseconds=1)
_US_PER_HOUR = 3_600_000_000



class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One run of a schedule: requests at the full rate from ``from`` to ``until``, one price."""

    starts: Annotated[datetime, doc("When the run starts (UTC).")] = msgspec.field(name="from")
    until: Annotated[datetime, doc("When it ends (UTC), rounded up to the microsecond.")]
    requests: Annotated[Decimal, doc("Requests in the run, 10 places.")]
    total: Annotated[Decimal, doc("Cost of the run, 10 places.")]
    unit_price: Annotated[Decimal, doc("Exact price of one request.")]
    window: Annotated[str | None, doc("The recurring window whose rates apply, if any.")]
    tier: Annotated[str | None, doc("The prompt-size tier that applies, if any.")]
    period_from: Annotated[datetime, doc("Start of the price period in force.")]


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """The cheapest schedule for deferrable work, and what running it now would cost instead."""

    model: Annotated[str, doc("Canonical id of the model priced.")]
    provider: Annotated[str, doc("The model's provider.")]
    currency: Annotated[str, doc("Currency of every amount.")]
    starts: Annotated[datetime, doc("Earliest start (UTC).")] = msgspec.field(name="from")
    until: Annotated[datetime, doc("Deadline (UTC): every request runs before it.")]
    requests: Annotated[int, doc("Requests to run.")]
    max_per_hour: Annotated[Decimal, doc("The most requests run in any hour.")]
    total: Annotated[Decimal, doc("Cost of the cheapest schedule, 10 places.")]
    now_total: Annotated[Decimal, doc("Cost of running it from `from` at the full rate, 10 places.")]
    now_until: Annotated[datetime, doc("When running it now would finish.")]
    saving: Annotated[Decimal, doc("now_total - total, 10 places.")]
    saving_percent: Annotated[Decimal | None, doc("saving / now_total * 100, 2 places; null if now costs nothing.")]
    exact: Annotated[bool, doc("True when total and now_total are exact (not rounded).")]
    schedule: Annotated[tuple[Step, ...], doc("The cheapest schedule, in time order.")]
    now_schedule: Annotated[tuple[Step, ...], doc("The run-now schedule, in time order.")]
    fx: Annotated[dict[str, Decimal] | None, doc("The caller's rate used to convert, echoed.")]
    places: Annotated[int, doc("Decimal places of the reported figures.")]
    catalog_digest: Annotated[str, doc("Identifies the catalog the prices came from.")]


def _fill(sp: Spread, order: list[int], n: Fraction, rate: Fraction) -> list[tuple[int, Fraction]]:
    """``(stretch, requests)`` placing ``n`` requests into stretches in ``order``, each at capacity."""
    placed, left = [], n
    for i in order:
        if left <= 0:
            break
        s = sp.stretches[i]
        capacity = rate * ((s.until - s.starts) // _US) / _US_PER_HOUR
        take = min(capacity, left)
        if take > 0:
            placed.append((i, take))
            left -= take
    return sorted(placed)


def _steps(sp: Spread, placed: list[tuple[int, Fraction]], rate: Fraction) -> tuple[tuple[Step, ...], Fraction]:
    costs = [r * sp.unit[i] for i, r in placed]
    steps = []
    for (i, r), req, tot in zip(placed, report_parts([r for _, r in placed]), report_parts(costs), strict=True):
        s = sp.stretches[i]
        length = math.ceil(r * _US_PER_HOUR / rate)
        steps.append(Step(starts=s.starts, until=min(s.until, s.starts + length * _US), requests=req, total=tot,
                          unit_price=exact_decimal(sp.unit[i]), window=s.quote.window, tier=s.quote.tier,
                          period_from=s.quote.period_from))
    return tuple(steps), sum(costs, Fraction(0))


def plan(catalog: Catalog, model: str, usage: Usage, requests: int, start: datetime, end: datetime,
         max_per_hour: Decimal, *, currency: str | None = None,
         fx: Mapping[str, Decimal] | None = None) -> Plan:
    """The cheapest schedule of ``requests`` between ``start`` and ``end`` at most ``max_per_hour``."""
    start, end = check_span(start, end)
    if type(requests) is not int or not 1 <= requests <= MAX_REQUESTS:
        raise InvalidWorkloadError("requests", f"must be a whole number from 1 to {MAX_REQUESTS:_}, got {requests!r}")
    rate = Fraction(bounded("max_per_hour", max_per_hour, positive=True))
    hours = Fraction((end - start) // _US, _US_PER_HOUR)
    if rate * hours < requests:
        need = Fraction(requests) / rate
        raise InvalidWorkloadError(
            "requests", f"{requests:,} requests at {max_per_hour} an hour need {report(need)} hours; the span "
            f"has {report(hours)}: extend until or raise max_per_hour")
    sp = spread(catalog, model, usage, start, end, Fraction(requests), currency=currency, fx=fx)
    n = Fraction(requests)
    indices = list(range(len(sp.stretches)))
    cheapest, total = _steps(sp, _fill(sp, sorted(indices, key=lambda i: (sp.unit[i], i)), n, rate), rate)
    now, now_total = _steps(sp, _fill(sp, indices, n, rate), rate)
    saving = now_total - total
    first = sp.stretches[0].quote
    percent = None if not now_total else scaled_decimal(round(saving * 10000 / now_total) * 10 ** (PLACES - 2))
    return Plan(
        model=first.model, provider=first.provider, currency=sp.currency, starts=start, until=end,
        requests=requests, max_per_hour=max_per_hour, total=report(total), now_total=report(now_total),
        now_until=now[-1].until, saving=report(saving), saving_percent=percent,
        exact=terminates(total) and terminates(now_total), schedule=cheapest, now_schedule=now,
        fx=None if not fx else dict(fx), places=PLACES, catalog_digest=catalog.digest,
    )


__all__ = ["Plan", "Step", "plan"]

"""Forecasts from usage history: requests by hour of week with a weekly trend, P10/P50/P90, backtest.

A deliberately small model, fitted exactly (``Fraction``): for one model and token profile, the
history's hourly request counts give an hour-of-week *shape* (each hour's share of the week) and
weekly totals; a least-squares line through the weekly totals is the *trend*. The forecast of a
week is the trend's value for it, spread by the shape and priced with the schedule (one projection
a week, so a price change inside the span applies from its instant). The bands scale the P50 by the
10th and 90th percentiles (nearest rank) of the fitted weeks' actual/fitted ratios. The backtest
fits on all but the last ``holdout`` weeks and scores the daily totals of those weeks (MAPE, in
percent, over the days with requests).

No statistics library: the model is a seasonal mean and a line, which a few exact sums compute;
statsmodels (not a dependency here) would bring floats and a heavy import for the same fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Annotated

import msgspec

from pricing.catalog import Catalog
from pricing.errors import InvalidWorkloadError
from pricing.projection import HOURS_PER_WEEK, PLACES, Shape, report, scaled_decimal, spread, total_of
from pricing.schema import doc
from pricing.workload import Usage

_WEEK = timedelta(weeks=1)
_HOUR = timedelta(hours=1)
#: The most weeks of history fitted (ten years): the fit holds every hour of them.
MAX_HISTORY_WEEKS = 520



@dataclass(frozen=True, slots=True)
class Observation:
    """``requests`` of one token profile on one model in the UTC hour starting at ``at``."""

    at: datetime
    requests: int


class Forecast(msgspec.Struct, frozen=True, kw_only=True):
    """Requests and cost forecast for a span, with bands and the model's error on its history."""

    model: Annotated[str, doc("The model priced.")]
    currency: Annotated[str, doc("Currency of the costs.")]
    starts: Annotated[datetime, doc("Start of the forecast span (UTC).")] = msgspec.field(name="from")
    weeks: Annotated[int, doc("Whole weeks forecast.")]
    fitted_weeks: Annotated[int, doc("Whole weeks of history fitted.")]
    trend_per_week: Annotated[Decimal, doc("Slope of the weekly totals, requests per week, 10 places.")]
    requests_p10: Annotated[Decimal, doc("Requests, 10th percentile band.")]
    requests_p50: Annotated[Decimal, doc("Requests, the forecast.")]
    requests_p90: Annotated[Decimal, doc("Requests, 90th percentile band.")]
    cost_p10: Annotated[Decimal, doc("Cost of the P10 requests.")]
    cost_p50: Annotated[Decimal, doc("Cost of the forecast.")]
    cost_p90: Annotated[Decimal, doc("Cost of the P90 requests.")]
    backtest_mape: Annotated[Decimal | None, doc(
        "Mean absolute percentage error of daily totals over the held-out weeks, 2 places; null "
        "without enough history.")]
    holdout_weeks: Annotated[int, doc("Weeks held out for the backtest.")]
    places: Annotated[int, doc("Decimal places of the reported figures.")]


@dataclass(frozen=True, slots=True)
class Fit:
    """The fitted model: weeks start at ``origin``; week k's total is ``intercept + slope * k``."""

    origin: datetime
    weeks: int
    intercept: Fraction
    slope: Fraction
    shape: tuple[Fraction, ...]
    #: Requests seen in each UTC hour of the week (Monday 00:00 first).
    hour_counts: tuple[int, ...]
    ratios: tuple[Fraction, ...]

    def week_total(self, k: int) -> Fraction:
        return max(Fraction(0), self.intercept + self.slope * k)


def _hourly(history: Sequence[Observation], origin: datetime, weeks: int) -> list[int]:
    counts = [0] * (weeks * HOURS_PER_WEEK)
    for obs in history:
        at = obs.at.astimezone(UTC)
        i = (at - origin) // _HOUR
        if 0 <= i < len(counts):
            counts[i] += obs.requests
    return counts


def fit(history: Sequence[Observation], weeks: int | None = None, since: datetime | None = None,
        until: datetime | None = None) -> Fit:
    """The model fitted on the whole weeks of ``history`` in ``[since, until)`` (default: from its first
    hour to the end of its last), or on the first ``weeks`` of them."""
    if not history:
        raise InvalidWorkloadError("history", "is empty: give at least one week of hourly usage")
    for i, obs in enumerate(history):
        if obs.at.tzinfo is None or type(obs.requests) is not int or obs.requests < 0:
            raise InvalidWorkloadError(f"history[{i}]", "needs an aware instant and a whole, non-negative count")
    try:
        first = (since or min(o.at for o in history)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        end = (until or max(o.at for o in history) + _HOUR).astimezone(UTC)
    except OverflowError:
        raise InvalidWorkloadError("history", "reaches past year 9999") from None
    available = (end - first) // _WEEK
    weeks = available if weeks is None else min(weeks, available)
    if weeks < 1:
        raise InvalidWorkloadError("history", "spans less than one whole week: a week of hours is needed")
    if weeks > MAX_HISTORY_WEEKS:
        raise InvalidWorkloadError("history", f"spans {weeks} weeks; at most {MAX_HISTORY_WEEKS} are fitted: "
                                   "give since/until around the weeks to fit")
    counts = _hourly(history, first, weeks)
    totals = [sum(counts[k * HOURS_PER_WEEK:(k + 1) * HOURS_PER_WEEK]) for k in range(weeks)]
    by_hour = [0] * HOURS_PER_WEEK
    for i, c in enumerate(counts):
        by_hour[(first + i * _HOUR).weekday() * 24 + (first + i * _HOUR).hour] += c
    everything = sum(by_hour)
    shape = tuple(Fraction(h, everything) if everything else Fraction(1, HOURS_PER_WEEK) for h in by_hour)
    mean_k = Fraction(weeks - 1, 2)
    mean_t = Fraction(sum(totals), weeks)
    spread_k = sum((k - mean_k) ** 2 for k in range(weeks))
    slope = sum(((k - mean_k) * (t - mean_t) for k, t in enumerate(totals)), Fraction(0)) / spread_k \
        if spread_k else Fraction(0)
    intercept = mean_t - slope * mean_k
    model = Fit(first, weeks, intercept, slope, shape, tuple(by_hour), ())
    ratios = tuple(sorted(Fraction(t) / model.week_total(k) for k, t in enumerate(totals) if model.week_total(k)))
    return Fit(first, weeks, intercept, slope, shape, tuple(by_hour), ratios or (Fraction(1),))


def _rank(values: tuple[Fraction, ...], p: int) -> Fraction:
    """The ``p``-th percentile by nearest rank."""
    return values[max(0, math.ceil(p * len(values) / 100) - 1)]


def backtest(history: Sequence[Observation], holdout: int, since: datetime | None = None,
             until: datetime | None = None) -> Decimal | None:
    """MAPE (percent, 2 places) of daily totals over the last ``holdout`` weeks, fitted on the rest."""
    full = fit(history, since=since, until=until)
    if full.weeks - holdout < 2 or holdout < 1:  # a trend needs two fitted weeks
        return None
    model = fit(history, full.weeks - holdout, since=full.origin)
    counts = _hourly(history, full.origin, full.weeks)
    errors = []
    for day in range(model.weeks * 7, full.weeks * 7):
        actual = sum(counts[day * 24:(day + 1) * 24])
        if not actual:
            continue
        k = day // 7
        predicted = sum(
            (model.week_total(k) * model.shape[(full.origin + (day * 24 + h) * _HOUR).weekday() * 24
                                              + (full.origin + (day * 24 + h) * _HOUR).hour] for h in range(24)),
            Fraction(0))
        errors.append(abs(actual - predicted) / actual)
    if not errors:
        return None
    mape = sum(errors, Fraction(0)) * 100 / len(errors)
    return scaled_decimal(round(mape * 100) * 10 ** (PLACES - 2))


def forecast(catalog: Catalog, model: str, usage: Usage, history: Sequence[Observation], weeks: int,
             *, holdout: int = 2, since: datetime | None = None, until: datetime | None = None) -> Forecast:
    """The next ``weeks`` whole weeks after the history (``[since, until)``, see ``fit``), priced on
    ``model`` at the schedule."""
    if type(weeks) is not int or not 1 <= weeks <= 520:
        raise InvalidWorkloadError("weeks", f"must be a whole number of weeks from 1 to 520, got {weeks!r}")
    catalog.model(model)  # an unknown name is the first thing to say, before the history's faults
    model_fit = fit(history, since=since, until=until)
    start = model_fit.origin + model_fit.weeks * _WEEK
    if start.year + (weeks + 1) // 52 + 1 > 9999:
        raise InvalidWorkloadError("weeks", f"a forecast from {start.date()} for {weeks} weeks ends past year 9999")
    counts = model_fit.hour_counts
    weights = tuple(Decimal(c) for c in counts) if any(counts) else (Decimal(1),) * HOURS_PER_WEEK
    shape = Shape(weights=weights, timezone="UTC")
    requests, cost, currency = Fraction(0), Fraction(0), ""
    for k in range(model_fit.weeks, model_fit.weeks + weeks):
        n = model_fit.week_total(k)
        a = model_fit.origin + k * _WEEK
        sp = spread(catalog, model, usage, a, a + _WEEK, n, shape)
        requests += n
        cost += total_of(sp)
        currency = sp.currency
    low, high = _rank(model_fit.ratios, 10), _rank(model_fit.ratios, 90)
    return Forecast(
        model=model, currency=currency, starts=start, weeks=weeks, fitted_weeks=model_fit.weeks,
        trend_per_week=report(model_fit.slope), requests_p10=report(requests * low), requests_p50=report(requests),
        requests_p90=report(requests * high), cost_p10=report(cost * low), cost_p50=report(cost),
        cost_p90=report(cost * high), backtest_mape=backtest(history, holdout, since, until), holdout_weeks=holdout,
        places=PLACES,
    )

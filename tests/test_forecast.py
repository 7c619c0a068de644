"""Forecasts: an exact fit on a synthetic history with a known shape and trend, priced across a price change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import Catalog, InvalidWorkloadError, Usage, Workload
from pricing.forecast import Observation, fit, forecast

USAGE = Usage(input_tokens=2000, output_tokens=300)
#: A Monday: the history's weeks start on it, 2026-03-30, so the forecast's third week holds
#: deepseek-chat's 2026-04-24 price change.
ORIGIN = datetime(2026, 3, 30, tzinfo=UTC)


def history(pattern: list[int], weeks: int, base: int, growth: int) -> list[Observation]:
    """Hour h of week k holds pattern[h] * (base + growth * k) requests."""
    return [Observation(ORIGIN - timedelta(weeks=weeks - k) + timedelta(hours=h), pattern[h] * (base + growth * k))
            for k in range(weeks) for h in range(168) if pattern[h]]


patterns = st.lists(st.integers(0, 9), min_size=168, max_size=168).filter(lambda p: sum(p) > 0 and p[0] > 0)


@settings(max_examples=10)
@given(patterns, st.integers(4, 6), st.integers(5, 50), st.integers(0, 5))
def test_an_exact_shape_and_trend_is_recovered_and_priced(pattern: list[int], weeks: int, base: int,
                                                         growth: int) -> None:
    obs = history(pattern, weeks, base, growth)
    since = ORIGIN - timedelta(weeks=weeks)
    model = fit(obs, since=since, until=ORIGIN)
    assert model.weeks == weeks and model.slope == growth * sum(pattern)
    f = forecast(Catalog.default(), "deepseek-chat", USAGE, obs, 4, holdout=2, since=since, until=ORIGIN)
    assert f.backtest_mape == 0 and f.requests_p10 == f.requests_p50 == f.requests_p90
    catalog = Catalog.default()
    requests, cost = Fraction(0), Fraction(0)
    for k in range(weeks, weeks + 4):
        for h in range(168):
            n = Fraction(pattern[h] * (base + growth * k))
            at = ORIGIN + timedelta(weeks=k - weeks, hours=h)
            unit = catalog.quote(Workload(model="deepseek-chat", input_tokens=2000, output_tokens=300, at=at)).total
            requests += n
            cost += n * Fraction(unit)
    assert f.requests_p50 == round(requests, 10) and f.cost_p50 == round(cost, 10)


def test_noise_widens_the_bands_and_the_backtest_scores_it() -> None:
    pattern = [1] * 168
    obs = [Observation(o.at, o.requests * (3 if (o.at - ORIGIN).days % 14 < 7 else 1)) for o in
           history(pattern, 6, 10, 0)]
    f = forecast(Catalog.default(), "deepseek-chat", USAGE, obs, 1)
    assert f.requests_p10 < f.requests_p50 < f.requests_p90
    assert f.backtest_mape is not None and f.backtest_mape > 0
    assert f.cost_p10 < f.cost_p50 < f.cost_p90


def test_too_little_history_is_refused() -> None:
    with pytest.raises(InvalidWorkloadError, match="one whole week"):
        forecast(Catalog.default(), "deepseek-chat", USAGE, [Observation(ORIGIN, 5)], 1)
    with pytest.raises(InvalidWorkloadError, match="empty"):
        forecast(Catalog.default(), "deepseek-chat", USAGE, [], 1)

"""Budgets, plans and currency conversion, checked against exact sums of the projection's parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import Catalog, InvalidWorkloadError, NoBatchPriceError, Usage, Workload
from pricing.budget import budget
from pricing.fx import CurrencyError, MissingRateError, convert, convert_quote, round_minor
from pricing.plan import plan
from pricing.projection import project, spread, total_of

CATALOG = Catalog.load(Path(__file__).with_name("fixtures") / "projection_catalog.toml")
DEEPSEEK = Catalog.default()
USAGE = Usage(input_tokens=1000, output_tokens=500)
MARCH = datetime(2025, 3, 1, tzinfo=UTC)


def _cost(start: datetime, end: datetime, per_day: Decimal) -> Fraction:
    n = Fraction(per_day) * Fraction((end - start) // timedelta(microseconds=1), 86_400_000_000)
    return total_of(spread(DEEPSEEK, "deepseek-chat", USAGE, start, end, n))


@settings(max_examples=20)
@given(st.integers(1, 5000), st.integers(10_000, 500_000))
def test_the_budget_runs_out_at_the_first_second_the_cost_reaches_it(amount: int, per_day: int) -> None:
    b = budget(DEEPSEEK, "deepseek-chat", USAGE, Decimal(amount), MARCH, requests_per_day=Decimal(per_day))
    assert (b.cycle_from, b.cycle_until) == (MARCH, datetime(2025, 4, 1, tzinfo=UTC))
    month = _cost(MARCH, b.cycle_until, Decimal(per_day))
    assert b.cost == round(month, 10)
    if month < amount:
        assert b.exhausted_at is None and b.requests_bought == b.requests
        return
    assert b.exhausted_at is not None
    assert _cost(MARCH, b.exhausted_at, Decimal(per_day)) >= amount
    assert _cost(MARCH, b.exhausted_at - timedelta(seconds=1), Decimal(per_day)) < amount
    assert b.requests_bought <= b.requests


def test_a_march_budget_on_deepseek_chat() -> None:
    # 100,000 requests a day cost 68.33... a day (a third off-peak at half price).
    b = budget(DEEPSEEK, "deepseek-chat", USAGE, Decimal(1000), MARCH, requests_per_day=Decimal(100_000))
    assert b.cost == Decimal("2118.3333333333") and b.remaining == Decimal("-1118.3333333333")
    assert b.exhausted_at == datetime(2025, 3, 15, 12, 55, 59, tzinfo=UTC)
    assert b.requests == 3_100_000 and len(b.days) == 31 and sum(d.total for d in b.days) == b.cost


def test_spent_already_and_rolling_cycles() -> None:
    b = budget(DEEPSEEK, "deepseek-chat", USAGE, Decimal(100), datetime(2025, 3, 20, tzinfo=UTC),
               requests_per_hour=Decimal(1000), spent=Decimal(150))
    assert b.exhausted_at == datetime(2025, 3, 20, tzinfo=UTC) and b.requests_bought == 0
    assert b.cycle_from == MARCH
    r = budget(DEEPSEEK, "deepseek-chat", USAGE, Decimal(10**6), datetime(2025, 3, 20, 5, tzinfo=UTC),
               requests_per_hour=Decimal(1000), cycle="rolling-30d")
    assert r.cycle_until - r.cycle_from == timedelta(days=30) and r.exhausted_at is None
    with pytest.raises(InvalidWorkloadError) as info:
        budget(DEEPSEEK, "deepseek-chat", USAGE, Decimal(-1), MARCH, requests_per_day=Decimal(1))
    assert info.value.field == "amount"


def test_a_calendar_month_in_a_zone() -> None:
    b = budget(DEEPSEEK, "deepseek-chat", USAGE, Decimal(10), datetime(2025, 3, 31, 20, tzinfo=UTC),
               requests_per_day=Decimal(1), zone="Asia/Shanghai")
    assert (b.cycle_from, b.cycle_until) == (datetime(2025, 3, 31, 16, tzinfo=UTC),
                                             datetime(2025, 4, 30, 16, tzinfo=UTC))


# -- plans ----------------------------------------------------------------------------------------


def test_a_backfill_moves_into_the_off_peak_window() -> None:
    p = plan(DEEPSEEK, "deepseek-chat", USAGE, 100_000, datetime(2025, 3, 3, 12, tzinfo=UTC),
             datetime(2025, 3, 4, 12, tzinfo=UTC), Decimal(10_000))
    assert p.exact and p.total == Decimal("49.2") and p.now_total == Decimal("59.45")
    assert p.saving == Decimal("10.25") and p.saving_percent == Decimal("17.24")
    # Off-peak (16:30-00:30) holds 80,000 at 10,000 an hour; the rest runs at peak, earliest first.
    assert [(s.window, s.requests) for s in p.schedule] == [(None, 20_000), ("off-peak", 80_000)]
    assert p.schedule[0].until == datetime(2025, 3, 3, 14, tzinfo=UTC)
    assert p.now_until == datetime(2025, 3, 3, 22, tzinfo=UTC)


@settings(max_examples=20)
@given(st.integers(0, 4 * 24 * 60), st.integers(60, 3 * 24 * 60), st.integers(1, 10**6), st.integers(1, 10**5))
def test_the_plan_is_the_cheapest_and_respects_the_rate(offset: int, minutes: int, n: int, rate: int) -> None:
    start = datetime(2025, 3, 28, tzinfo=UTC) + timedelta(minutes=offset)
    end = start + timedelta(minutes=minutes)
    usage = Usage(input_tokens=3000, output_tokens=700)
    if Fraction(rate * minutes, 60) < n:
        with pytest.raises(InvalidWorkloadError, match="need"):
            plan(CATALOG, "tidal", usage, n, start, end, Decimal(rate))
        return
    p = plan(CATALOG, "tidal", usage, n, start, end, Decimal(rate))
    assert sum(s.requests for s in p.schedule) == n == sum(s.requests for s in p.now_schedule)
    assert sum(s.total for s in p.schedule) == p.total <= p.now_total
    for s in p.schedule:
        assert Fraction(s.requests) <= Fraction(rate) * Fraction((s.until - s.starts) // timedelta(microseconds=1),
                                                                3_600_000_000) + Fraction(1, 10**10)
    # Oracle: fill the span's minutes cheapest first (every price boundary is on a whole minute).
    slots = sorted(CATALOG.quote(Workload(model="tidal", input_tokens=3000, output_tokens=700,
                                          at=start + timedelta(minutes=i))).total for i in range(minutes))
    left, cost = Fraction(n), Fraction(0)
    for price in slots:
        take = min(left, Fraction(rate, 60))
        cost += take * Fraction(price)
        left -= take
    assert p.total == round(cost, 10)


# -- currencies -------------------------------------------------------------------------------------


def test_a_projection_in_dong_at_the_callers_rate() -> None:
    fx = {"USD/VND": Decimal("25000")}
    p = project(DEEPSEEK, "deepseek-chat", USAGE, MARCH, datetime(2025, 4, 1, tzinfo=UTC), requests=3_000_000,
                currency="VND", fx=fx)
    assert (p.currency, p.price_currency, p.total, p.fx) == ("VND", "USD", Decimal("51250000"), fx)
    assert p.prices[0].unit_price == Decimal("10.25")
    with pytest.raises(MissingRateError) as info:
        project(DEEPSEEK, "deepseek-chat", USAGE, MARCH, datetime(2025, 4, 1, tzinfo=UTC), requests=1,
                currency="EUR", fx=fx)
    assert info.value.pair == "USD/EUR" and "USD/EUR" in str(info.value)
    with pytest.raises(CurrencyError, match="ISO 4217"):
        project(DEEPSEEK, "deepseek-chat", USAGE, MARCH, datetime(2025, 4, 1, tzinfo=UTC), requests=1,
                currency="XYZ", fx=fx)


def test_conversion_is_exact_and_rounds_only_on_request() -> None:
    fx = {"USD/JPY": Decimal("151.237")}
    assert convert(Decimal("0.00082"), "USD", "JPY", fx) == Decimal("0.12401434")
    assert round_minor(Decimal("0.12401434"), "JPY") == 0 and round_minor(Decimal("2.125"), "USD") == Decimal("2.12")
    assert round_minor(Decimal("1.23456"), "KWD") == Decimal("1.235")
    q = DEEPSEEK.quote(Workload(model="deepseek-chat", input_tokens=1000, output_tokens=500, at=MARCH))
    converted = convert_quote(q, "JPY", fx)
    assert converted.currency == "JPY" and converted.total == q.total * Decimal("151.237")
    assert sum(line.amount for line in converted.lines) == converted.total
    with pytest.raises(MissingRateError):
        convert_quote(q, "EUR", fx)


def test_a_batch_plan_is_priced_at_batch_rates_and_refused_before_them() -> None:
    batch = Usage(input_tokens=10_000, output_tokens=1_000, batch=True)
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)
    p = plan(DEEPSEEK, "claude-3-opus", batch, 1000, start, end, Decimal(100))
    now = plan(DEEPSEEK, "claude-3-opus", Usage(input_tokens=10_000, output_tokens=1_000), 1000, start, end,
               Decimal(100))
    # Batch: 7.5 and 37.5 a million, half the interactive 15 and 75; no window, so nothing to save by waiting.
    assert p.total == Decimal("112.5") == now.total / 2 and p.saving == 0
    with pytest.raises(NoBatchPriceError):
        plan(DEEPSEEK, "claude-3-opus", batch, 1000, datetime(2024, 10, 7, tzinfo=UTC),
             datetime(2024, 10, 9, tzinfo=UTC), Decimal(100))

"""Projections against an oracle that prices every minute from the catalog's rates, with Fractions.

The oracle reads the test catalog's periods, windows and tiers itself (it never calls
``Catalog.quote``): every boundary of the test catalog falls on a whole minute, so one price per
minute is the true price, and a span of whole minutes is the sum of its minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import Catalog, InvalidWorkloadError, Usage, Workload
from pricing.projection import Shape, project, project_many, report, spread, total_of
from pricing.schema import WEEKDAYS, Model, Pricing

CATALOG = Catalog.load(Path(__file__).with_name("fixtures") / "projection_catalog.toml")
MODEL: Model = CATALOG.model("tidal")
START = datetime(2025, 3, 28, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
PARIS = ZoneInfo("Europe/Paris")


# -- the oracle -----------------------------------------------------------------------------------


def _active(window: object, at: datetime) -> bool:
    w = window  # a pricing.schema.Window
    if (w.starts is not None and at < w.starts) or (w.until is not None and at >= w.until):  # type: ignore[attr-defined]
        return False
    local = at.astimezone(ZoneInfo(w.timezone))  # type: ignore[attr-defined]
    days = {WEEKDAYS.index(d) for d in (w.days or WEEKDAYS)}  # type: ignore[attr-defined]
    clock = local.time().replace(tzinfo=None)
    start, end = w.start, w.end  # type: ignore[attr-defined]
    if start < end:
        return start <= clock < end and local.weekday() in days
    return (clock >= start and local.weekday() in days) or (clock < end and (local.weekday() - 1) % 7 in days)


def _pricing_at(at: datetime) -> Pricing:
    periods = MODEL.periods
    for i, period in enumerate(periods):
        until = period.until or (periods[i + 1].starts if i + 1 < len(periods) else None)
        if period.starts <= at and (until is None or at < until):
            for window in period.windows:
                if _active(window, at):
                    return window
            return period
    raise AssertionError(f"no period at {at}")


def unit_price(usage: Usage, at: datetime) -> Fraction:
    """The price of one request at ``at``, from the rates (fallbacks and tiers applied)."""
    pricing = _pricing_at(at)
    rates: object = pricing
    for tier in reversed(pricing.tiers):
        if usage.input_tokens > tier.threshold:
            rates = tier
            break
    base = Fraction(rates.input)  # type: ignore[attr-defined]
    cached = base if rates.cached_input is None else Fraction(rates.cached_input)  # type: ignore[attr-defined]
    uncached = usage.input_tokens - usage.cached_input_tokens
    return (uncached * base + usage.cached_input_tokens * cached
            + usage.output_tokens * Fraction(rates.output)) / 1_000_000  # type: ignore[attr-defined]


def oracle(usage: Usage, start: datetime, end: datetime, requests: Fraction,
           weights: list[int] | None = None, zone: ZoneInfo = PARIS) -> Fraction:
    minutes = []
    at = start
    while at < end:
        local = at.astimezone(zone)
        w = 1 if weights is None else weights[local.weekday() * 24 + local.hour]
        minutes.append((w, unit_price(usage, at)))
        at += MINUTE
    mass = sum(w for w, _ in minutes)
    return sum((requests * w / mass * price for w, price in minutes), Fraction(0))


# -- strategies -----------------------------------------------------------------------------------

usages = st.builds(
    lambda inp, cached, out: Usage(input_tokens=inp, cached_input_tokens=min(cached, inp), output_tokens=out),
    st.sampled_from([0, 1, 1000, 200_000, 200_001, 350_000]),
    st.integers(0, 5000),
    st.integers(0, 40_000),
)
# Whole-minute instants around the promotion (2025-03-29 12:00 to 03-31 12:00 UTC), the Paris DST
# change (03-30 01:00 UTC) and the end of March.
offsets = st.integers(0, 4 * 24 * 60)
weights = st.lists(st.integers(0, 5), min_size=168, max_size=168).filter(any)


def _span(a: int, b: int) -> tuple[datetime, datetime]:
    lo, hi = sorted((a, b))
    return START + lo * MINUTE, START + (hi + 1) * MINUTE


# -- properties -------------------------------------------------------------------------------------

#: The oracle walks every minute of a span of up to four days: a modest number of examples.
oracle_examples = settings(max_examples=25)


@oracle_examples
@given(usages, offsets, offsets, st.integers(1, 10**9))
def test_even_projection_matches_the_oracle_and_adds_up(usage: Usage, a: int, b: int, n: int) -> None:
    start, end = _span(a, b)
    p = project(CATALOG, "tidal", usage, start, end, requests=n, zone="Europe/Paris", days=True)
    assert p.total == report(oracle(usage, start, end, Fraction(n)))
    assert sum(x.total for x in p.parts) == p.total
    assert sum(x.requests for x in p.parts) == n == p.requests
    assert sum(x.total for x in p.months) == p.total
    assert p.days is not None and sum(x.total for x in p.days) == p.total
    assert sum(x.requests for x in p.prices) == n
    # Parts tile the span, in order, each at one price.
    assert p.parts[0].starts == start and p.parts[-1].until == end
    assert all(x.until == y.starts for x, y in zip(p.parts, p.parts[1:], strict=False))


@oracle_examples
@given(usages, offsets, offsets, weights)
def test_shaped_projection_matches_the_oracle(usage: Usage, a: int, b: int, w: list[int]) -> None:
    start, end = _span(a, b)
    shape = Shape(weights=tuple(Decimal(x) for x in w), timezone="Europe/Paris")
    local = [START + i * MINUTE for i in range(min(a, b), max(a, b) + 1)]
    if not any(w[t.astimezone(PARIS).weekday() * 24 + t.astimezone(PARIS).hour] for t in local):
        with pytest.raises(InvalidWorkloadError, match="no weight"):
            project(CATALOG, "tidal", usage, start, end, requests=1000, shape=shape)
        return
    sp = spread(CATALOG, "tidal", usage, start, end, Fraction(1000), shape)
    assert total_of(sp) == oracle(usage, start, end, Fraction(1000), w)


@oracle_examples
@given(usages, offsets, st.integers(1, 10**6))
def test_a_span_inside_one_stretch_is_the_quote_times_its_requests(usage: Usage, a: int, n: int) -> None:
    start = START + a * MINUTE
    stretch = next(s for s in project(CATALOG, "tidal", usage, start, start + timedelta(days=1),
                                      requests=1).parts)
    end = min(stretch.until, start + 7 * MINUTE)
    p = project(CATALOG, "tidal", usage, start, end, requests=n)
    q = CATALOG.quote(Workload(model="tidal", **{**_fields(usage), "requests": n, "at": start}))
    assert len(p.parts) == 1 and p.total == q.total and p.exact


@oracle_examples
@given(usages, offsets, offsets, offsets)
def test_splitting_a_span_in_two_gives_the_same_total(usage: Usage, a: int, b: int, c: int) -> None:
    lo, mid, hi = sorted((a, b, c))
    start, cut, end = START + lo * MINUTE, START + mid * MINUTE, START + (hi + 1) * MINUTE
    rate = Fraction(37, 3)  # per hour: the halves get requests in proportion to their lengths
    whole = spread(CATALOG, "tidal", usage, start, end, rate * _hours(start, end))
    halves = Fraction(0)
    for a_, b_ in ((start, cut), (cut, end)):
        if a_ < b_:
            halves += total_of(spread(CATALOG, "tidal", usage, a_, b_, rate * _hours(a_, b_)))
    assert halves == total_of(whole)


@oracle_examples
@given(usages, weights, st.integers(0, 6), st.integers(6, 21), st.integers(1, 5))
def test_shifting_weight_into_the_night_window_never_costs_more(usage: Usage, w: list[int], day: int,
                                                               hour: int, moved: int) -> None:
    # Two whole weeks without a DST change, so every hour of the week occurs equally often, across
    # the start of the lunch window (2025-02-01). Paris 23:00 is in the night window, whose rates
    # are at most every other rate: moving traffic there from a daytime hour cannot cost more.
    start, end = datetime(2025, 1, 27, tzinfo=UTC), datetime(2025, 2, 10, tzinfo=UTC)
    source, night = day * 24 + hour, day * 24 + 23
    take = min(moved, w[source])
    shifted = list(w)
    shifted[source] -= take
    shifted[night] += take
    before = spread(CATALOG, "tidal", usage, start, end, Fraction(10**6),
                    Shape(weights=tuple(Decimal(x) for x in w), timezone="Europe/Paris"))
    after = spread(CATALOG, "tidal", usage, start, end, Fraction(10**6),
                   Shape(weights=tuple(Decimal(x) for x in shifted), timezone="Europe/Paris"))
    assert total_of(after) <= total_of(before)
    if take and usage.output_tokens:
        assert total_of(after) < total_of(before)


def _hours(start: datetime, end: datetime) -> Fraction:
    return Fraction((end - start) // timedelta(microseconds=1), 3_600_000_000)


def _fields(usage: Usage) -> dict[str, object]:
    return {f: getattr(usage, f) for f in usage.__struct_fields__}


# -- boundaries -----------------------------------------------------------------------------------

USAGE = Usage(input_tokens=1000, output_tokens=1000)


def _unit(at: datetime) -> Decimal:
    return CATALOG.quote(Workload(model="tidal", input_tokens=1000, output_tokens=1000, at=at)).total


def test_first_and_last_second_of_the_promotion() -> None:
    promo_from, promo_until = datetime(2025, 3, 29, 12, tzinfo=UTC), datetime(2025, 3, 31, 12, tzinfo=UTC)
    second = timedelta(seconds=1)
    for at, expected in ((promo_from - second, Decimal("0.01")), (promo_from, Decimal("0.0062")),
                         (promo_until - second, Decimal("0.0062")), (promo_until, Decimal("0.012"))):
        p = project(CATALOG, "tidal", USAGE, at, at + second, requests=1)
        assert p.total == expected == _unit(at)
        assert p.parts[0].period_from.isoformat().startswith("2025-03-29") == (promo_from <= at < promo_until)


def test_a_window_crossing_midnight_is_one_stretch() -> None:
    p = project(CATALOG, "tidal", USAGE, datetime(2025, 3, 25, 20, tzinfo=UTC),
                datetime(2025, 3, 26, 6, tzinfo=UTC), requests=10)
    night = [x for x in p.parts if x.window == "night"]
    # 22:00-06:00 Paris (CET, UTC+1) is 21:00-05:00 UTC, across midnight in one piece.
    assert [(x.starts.hour, x.until.hour) for x in night] == [(21, 5)]


def test_dst_moves_the_window_in_utc() -> None:
    p = project(CATALOG, "tidal", USAGE, datetime(2025, 3, 31, 12, tzinfo=UTC),
                datetime(2025, 4, 1, 12, tzinfo=UTC), requests=24)
    night = next(x for x in p.parts if x.window == "night")
    # After the change Paris is UTC+2: 22:00-06:00 local is 20:00-04:00 UTC.
    assert (night.starts.hour, night.until.hour) == (20, 4)
    assert night.requests == 8 and p.exact


def test_dst_in_the_shape_zone_counts_real_hours() -> None:
    # Only Sunday 02:00-03:00 local weighs; on 2025-03-30 that hour does not exist in Paris.
    w = [0] * 168
    w[6 * 24 + 2] = 1
    shape = Shape(weights=tuple(Decimal(x) for x in w), timezone="Europe/Paris")
    with pytest.raises(InvalidWorkloadError, match="no weight"):
        project(CATALOG, "tidal", USAGE, datetime(2025, 3, 29, tzinfo=UTC), datetime(2025, 3, 31, tzinfo=UTC),
                requests=1, shape=shape)
    # On 2025-10-26 01:00 local happens twice: both real hours get the weight.
    w = [0] * 168
    w[6 * 24 + 2] = 1
    shape = Shape(weights=tuple(Decimal(x) for x in w), timezone="Europe/Paris")
    span = (datetime(2025, 10, 25, tzinfo=UTC), datetime(2025, 10, 27, tzinfo=UTC))
    p = project(CATALOG, "tidal", USAGE, *span, requests=10, shape=shape)
    assert p.requests == 10 and sum(x.requests for x in p.parts) == 10
    busy = [s for s in spread(CATALOG, "tidal", USAGE, *span, Fraction(10), shape).segments if s.mass]
    # 02:00-03:00 CEST then 02:00-03:00 CET: 00:00-02:00 UTC.
    assert (busy[0].starts, busy[-1].until) == (datetime(2025, 10, 26, 0, tzinfo=UTC), datetime(2025, 10, 26, 2, tzinfo=UTC))
    assert sum(s.mass for s in busy) == 2 * 3_600_000_000


def test_months_end_at_local_midnight() -> None:
    p = project(CATALOG, "tidal", USAGE, datetime(2025, 3, 31, 12, tzinfo=UTC),
                datetime(2025, 4, 2, tzinfo=UTC), requests=36, zone="Europe/Paris")
    assert [m.label for m in p.months] == ["2025-03", "2025-04"]
    assert p.months[0].until == datetime(2025, 3, 31, 22, tzinfo=UTC)  # midnight in Paris (UTC+2)
    assert p.months[0].requests == 10 and sum(m.total for m in p.months) == p.total


def test_ranking_is_cheapest_first_with_savings() -> None:
    ranked = project_many(Catalog.default(), ["deepseek-reasoner", "deepseek-chat"],
                          Usage(input_tokens=1000, output_tokens=500), datetime(2025, 3, 1, tzinfo=UTC),
                          datetime(2025, 4, 1, tzinfo=UTC), baseline="deepseek-reasoner", requests=3_000_000)
    assert [p.model for p in ranked] == ["deepseek-chat", "deepseek-reasoner"]
    assert ranked[1].savings_percent == 0 and ranked[0].savings_percent is not None


# -- the README example -------------------------------------------------------------------------------


def test_march_2025_on_deepseek_chat_is_exactly_one_third_off_peak() -> None:
    p = project(Catalog.default(), "deepseek-chat", Usage(input_tokens=1000, output_tokens=500),
                datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC), requests=3_000_000)
    assert p.exact and p.total == Decimal("2050") and p.requests == 3_000_000
    off, peak = p.prices
    assert (off.window, off.share, off.requests, off.unit_price, off.total) == (
        "off-peak", Decimal("0.3333333333"), 1_000_000, Decimal("0.00041"), 410)
    assert (peak.window, peak.requests, peak.unit_price, peak.total) == (None, 2_000_000, Decimal("0.00082"), 1640)
    assert len(p.parts) == 63 and p.months[0].total == 2050


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"until": START}, "until"),
    ({"until": START - MINUTE}, "until"),
    ({"until": START + timedelta(days=3654)}, "until"),
    ({"requests": -1}, "requests"),
    ({"requests": None, "requests_per_day": Decimal(-1)}, "requests_per_day"),
    ({"requests": None}, "requests"),
    ({"requests_per_hour": Decimal(1)}, "requests"),
    ({"shape": Shape(weights=(Decimal(1),) * 167)}, "shape.weights"),
    ({"shape": Shape(weights=(Decimal(0),) * 168)}, "shape.weights"),
    ({"shape": Shape(weights=(Decimal(1),) * 168, timezone="Mars/Olympus")}, "shape.timezone"),
    ({"zone": "Nowhere"}, "zone"),
])
def test_bad_input_names_the_field(kwargs: dict[str, object], field: str) -> None:
    options: dict[str, object] = {"until": START + timedelta(days=1), "requests": 10} | kwargs
    until = options.pop("until")
    with pytest.raises(InvalidWorkloadError) as info:
        project(CATALOG, "tidal", USAGE, START, until, **options)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_profile_with_an_instant_is_refused() -> None:
    with pytest.raises(InvalidWorkloadError, match="from/until"):
        project(CATALOG, "tidal", Usage(at=START), START, START + MINUTE, requests=1)
    with pytest.raises(InvalidWorkloadError, match="not in the token profile"):
        project(CATALOG, "tidal", Usage(requests=5), START, START + MINUTE, requests=1)





def test_a_holiday_inside_a_weekday_window_is_off_peak_all_day() -> None:
    # deepseek-flash in October 2026: weekday peak windows (Beijing 09:00-12:00 and 14:00-18:00) at
    # twice the off-peak rates, except on the National Day holidays (1-7 October).
    usage = Usage(input_tokens=1000, output_tokens=1000)
    day = timedelta(days=1)
    holiday = datetime(2026, 9, 30, 16, tzinfo=UTC)  # Thursday 1 October, 00:00 Beijing
    workday = holiday + 7 * day  # Thursday 8 October
    off = project(Catalog.default(), "deepseek-flash", usage, holiday, holiday + day, requests=24_000)
    on = project(Catalog.default(), "deepseek-flash", usage, workday, workday + day, requests=24_000)
    assert [g.window for g in off.prices] == [None] and off.exact
    assert [(g.window, g.requests) for g in on.prices] == [(None, 17_000), ("peak-am", 3_000), ("peak-pm", 4_000)]
    # 17 off-peak hours and 7 at twice the price, against 24 off-peak hours.
    assert on.total / off.total == Decimal(31) / Decimal(24)

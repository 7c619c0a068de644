"""Quoting, checked as properties over generated catalogs, workloads and instants.

The oracle below prices a workload from the raw catalog structs with ``fractions.Fraction`` and its
own selection of period, window and tier (integer microseconds for instants, local wall-clock
datetimes for windows, a max() over qualifying tiers), sharing no code with ``pricing.catalog``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from pricing import (
    MAX_REQUESTS,
    MAX_TOKENS,
    Catalog,
    CatalogFile,
    Model,
    NoPriceError,
    Period,
    Pricing,
    Quote,
    UnknownModelError,
    Usage,
    Window,
    Workload,
    totals_by_currency,
)
from pricing.schema import WEEKDAYS
from tests.strategies import (
    OFFSETS,
    ZONES,
    catalogs,
    instants_between,
    instants_near,
    period_spans,
    tier_lists,
    usages,
    windows,
)
from tests.tomlwrite import dumps

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLION = 10**6
CACHE_KINDS = ("cached_input", "cache_write", "cache_write_1h")


# -- the oracle ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    total: Fraction
    amounts: dict[str, Fraction]
    rates: dict[str, Fraction]
    window: str | None
    tier: str | None
    period: Period


def micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def oracle_period(model: Model, at: datetime) -> Period | None:
    t = micros(at)
    ends = [p.until or (model.periods[i + 1].starts if i + 1 < len(model.periods) else None)
            for i, p in enumerate(model.periods)]
    found = [p for p, end in zip(model.periods, ends, strict=True)
             if micros(p.starts) <= t and (end is None or t < micros(end))]
    assert len(found) <= 1, "generated periods overlap"
    return found[0] if found else None


def oracle_window_on(window: Window, at: datetime) -> bool:
    """Is ``at`` inside an occurrence of ``window``, one that starts on today's or yesterday's date?"""
    t = micros(at)
    if window.starts is not None and t < micros(window.starts):
        return False
    if window.until is not None and t >= micros(window.until):
        return False
    wall = at.astimezone(ZoneInfo(window.timezone)).replace(tzinfo=None)
    for days_back in (0, 1):
        day = wall.date() - timedelta(days=days_back)
        if window.days and WEEKDAYS[day.weekday()] not in window.days:
            continue
        begin = datetime.combine(day, window.start)
        end = datetime.combine(day + timedelta(days=1) if window.end <= window.start else day, window.end)
        if begin <= wall < end:
            return True
    return False


def oracle(model: Model, usage: Usage, at: datetime) -> Expected | None:
    """The exact price, or None where the engine must raise ``NoPriceError``."""
    period = oracle_period(model, at)
    if period is None:
        return None
    pricing: Pricing | None
    window = None
    if usage.batch:
        pricing = period.batch
        if pricing is None:
            return None
    else:
        window = next((w for w in period.windows if oracle_window_on(w, at)), None)
        pricing = window or period
    prompt = usage.input_tokens
    qualifying = [t for t in pricing.tiers
                  if prompt > t.threshold or (t.boundary == ">=" and prompt == t.threshold)]
    tier = max(qualifying, key=lambda t: t.threshold, default=None)
    chosen = tier or pricing
    rates = {"input": Fraction(chosen.input), "output": Fraction(chosen.output)}
    for kind in CACHE_KINDS:
        rate = getattr(chosen, kind)
        rates[kind] = Fraction(rate if rate is not None else chosen.input)
    tokens = {
        "input": prompt - usage.cached_input_tokens - usage.cache_write_tokens - usage.cache_write_1h_tokens,
        "cached_input": usage.cached_input_tokens,
        "cache_write": usage.cache_write_tokens,
        "cache_write_1h": usage.cache_write_1h_tokens,
        "output": usage.output_tokens,
    }
    amounts = {kind: rates[kind] * n * usage.requests / MILLION for kind, n in tokens.items()}
    return Expected(
        total=sum(amounts.values(), Fraction(0)),
        amounts=amounts,
        rates=rates,
        window=window.name if window else None,
        tier=f"{tier.boundary}{tier.threshold}" if tier else None,
        period=period,
    )


# -- strategies for these properties -------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    catalog: Catalog
    model: Model
    usage: Usage
    at: datetime

    def workload(self, **changes: object) -> Workload:
        fields = {**msgspec.structs.asdict(self.usage), "at": self.at, **changes}
        return Workload(model=f"{self.model.provider}/{self.model.id}", **fields)


def _near(thresholds: list[int]) -> st.SearchStrategy[int]:
    """One below, at or one above one of the thresholds."""
    return st.sampled_from(thresholds).flatmap(lambda t: st.sampled_from((t - 1, t, t + 1)))


_ZONES = st.sampled_from((*OFFSETS, *ZONES))
_BATCH = st.sampled_from((False, False, False, False, True))
_FOCUS = st.sampled_from(("window", "tier", "period", "anything"))
_SMALL_NUDGES = st.sampled_from((timedelta(0), timedelta(0), timedelta(microseconds=-1), timedelta(microseconds=1)))
_ONE_IN_THREE = st.sampled_from((False, False, True))
_WEEK = timedelta(days=8)


@st.composite
def _occurrence(draw: st.DrawFn, window: Window, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The local start and end of one occurrence of ``window``, on a day it runs on, near ``[start, end)``."""
    zone = ZoneInfo(window.timezone)
    low, high = max(start, window.starts or start), min(end, window.until or end)
    if high - low >= timedelta(days=10):
        # Room for a whole occurrence, a week of weekdays on: keep clear of both ends.
        low, high = low + timedelta(days=1), high - timedelta(days=8)
    elif low >= high:
        low, high = start, end
    day = draw(instants_between(low, high)).astimezone(zone).date()
    if window.days:
        weekday = WEEKDAYS.index(draw(st.sampled_from(window.days)))
        day += timedelta(days=(weekday - day.weekday()) % 7)
    crosses = window.end <= window.start
    return (datetime.combine(day, window.start, zone),
            datetime.combine(day + timedelta(days=crosses), window.end, zone))


@st.composite
def _focused(draw: st.DrawFn, files: tuple[CatalogFile, ...], focus: str) -> tuple[CatalogFile, ...]:
    """``files`` with one period of one model given tiers or a window (hypothesis, left to itself,
    draws mostly catalogs without either)."""
    f = draw(st.integers(0, len(files) - 1))
    m = draw(st.integers(0, len(files[f].models) - 1))
    model = files[f].models[m]
    # A period of a week or more if there is one, so that a window has whole days in it.
    spans = period_spans(model)
    long = [i for i, (_, start, end) in enumerate(spans) if end - start >= _WEEK] or list(range(len(spans)))
    p = draw(st.sampled_from(long))
    period = model.periods[p]
    if focus == "tier":
        if period.batch is not None and draw(st.booleans()):
            period = replace(period, batch=replace(period.batch, tiers=draw(tier_lists(at_least_one=True))))
        else:
            period = replace(period, tiers=draw(tier_lists(at_least_one=True)))
    else:
        _, start, end = spans[p]
        window = draw(windows("focus", (start, end)))
        if draw(_ONE_IN_THREE):
            # A limit in the middle of an occurrence: the window is cut short (or starts late) there.
            begin, finish = draw(_occurrence(window, start, end))
            cut = draw(instants_between(begin, finish)).astimezone(UTC)
            cut = cut.astimezone(timezone(begin.utcoffset() or timedelta(0)))
            window = replace(window, until=cut, starts=None) if draw(st.booleans()) else \
                replace(window, starts=cut, until=None)
        period = replace(period, windows=(window, *period.windows))
    model = replace(model, periods=(*model.periods[:p], period, *model.periods[p + 1:]))
    file = replace(files[f], models=(*files[f].models[:m], model, *files[f].models[m + 1:]))
    return (*files[:f], file, *files[f + 1:])


@st.composite
def cases(draw: st.DrawFn, **usage_strategies: Any) -> Case:
    """A catalog, one of its models, an instant and a token profile; ``usage_strategies`` go to ``usages``.

    Each case aims at one thing, so that edges are hit often enough for 100 examples to find a bug:
    - a tier: an instant inside a period with tiers, batch if they are the batch prices', and a
      prompt one below, at or one above a threshold;
    - a window: an instant at, or a microsecond beside, the start or end of one of its occurrences
      or its from/until limits, or any instant inside an occurrence;
    - a period: an instant at, or a microsecond beside, a period's start or until;
    - anything: one of ``instants_near``.
    Batch is one time in five (a batch request without batch prices only tests the refusal), but
    fixed for tiers (as the tier's prices are) and off for windows (batch prices ignore them).
    """
    focus = draw(_FOCUS)
    # Small catalogs: a few models and periods find the same bugs as big ones, and faster.
    files = draw(catalogs(max_files=2, max_models=2, max_periods=2))
    if focus in ("tier", "window"):
        files = draw(_focused(files, focus))
    # Through the TOML writer and the loader, as a user's catalog would come.
    catalog = Catalog.loads(*(dumps(f) for f in files))
    models = [m for f in files for m in f.models]
    # A model with what the case aims at.
    suited = [m for m in models for p in m.periods
              if (focus == "tier" and any(x is not None and x.tiers for x in (p, p.batch)))
              or (focus == "window" and p.windows)]
    model = draw(st.sampled_from(suited or models))
    spans = period_spans(model)
    tiered = [(start, end, pricing, pricing is period.batch) for period, start, end in spans
              for pricing in (period, period.batch) if pricing is not None and pricing.tiers]
    windowed = [(start, end, window) for period, start, end in spans for window in period.windows]
    usage_strategies.setdefault("batch", _BATCH)
    if focus == "tier" and tiered:
        start, end, pricing, batch = draw(st.sampled_from(tiered))
        at = draw(instants_between(start, end))
        usage_strategies.setdefault("input_tokens", _near([t.threshold for t in pricing.tiers]))
        usage_strategies["batch"] = st.just(batch)
    elif focus == "window" and windowed:
        long = [(start, end, window) for start, end, window in windowed if end - start >= _WEEK]
        # The focus window comes first in its period; one time in two, take it.
        focused = [(start, end, window) for start, end, window in windowed if window.name == "focus"]
        start, end, window = draw(st.sampled_from(focused if focused and draw(st.booleans()) else long or windowed))
        begin, finish = draw(_occurrence(window, start, end))
        usage_strategies["batch"] = st.just(False)  # batch prices ignore windows
        limits = [t for t in (window.starts, window.until) if t is not None]
        kind = draw(st.sampled_from(("limit", "edge", "inside") if limits else ("edge", "edge", "inside")))
        if kind == "inside":
            at = draw(instants_between(begin, finish))
        else:
            at = draw(st.sampled_from(limits if kind == "limit" else [begin, finish]))
            at = at.astimezone(UTC) + draw(_SMALL_NUDGES)
    elif focus == "period":
        edges = [p.starts for p in model.periods] + [p.until for p in model.periods if p.until is not None]
        at = draw(st.sampled_from(edges)).astimezone(UTC) + draw(_SMALL_NUDGES)
    else:
        at = draw(instants_near(model))
    at = at.astimezone(draw(_ZONES))
    usage = draw(usages(at=st.just(at), **usage_strategies))
    return Case(catalog, model, usage, at)


# -- properties ----------------------------------------------------------------------------------


def fractions_by_kind(quote: Quote) -> dict[str, Fraction]:
    return {line.kind: Fraction(line.amount) for line in quote.lines if line.amount}


# The central property gets four times the profile's examples: it has the most edges to hit.
@settings(max_examples=4 * settings.default.max_examples)
@given(cases())
def test_total_equals_the_fraction_oracle(case: Case) -> None:
    expected = oracle(case.model, case.usage, case.at)
    if expected is None:
        with pytest.raises(NoPriceError):
            case.catalog.quote(case.workload())
        return
    quote = case.catalog.quote(case.workload())
    assert Fraction(quote.total) == expected.total
    assert fractions_by_kind(quote) == {k: v for k, v in expected.amounts.items() if v}
    assert {line.kind: Fraction(line.rate) for line in quote.lines} == {
        k: v for k, v in expected.rates.items() if k != "cache_write_1h" or case.usage.cache_write_1h_tokens}
    assert (quote.window, quote.tier) == (expected.window, expected.tier)
    period = expected.period
    assert (quote.currency, quote.source, quote.checked, quote.period_from) == (
        period.currency, period.source, period.checked, period.starts)
    assert (quote.model, quote.provider, quote.at, quote.batch) == (
        case.model.id, case.model.provider, case.at, case.usage.batch)
    assert quote.catalog_digest == case.catalog.digest


@given(cases())
def test_the_total_is_the_exact_sum_of_the_lines(case: Case) -> None:
    try:
        quote = case.catalog.quote(case.workload())
    except NoPriceError:
        return
    assert quote.total == sum((Fraction(line.amount) for line in quote.lines), Fraction(0))
    for line in quote.lines:
        assert Fraction(line.amount) == Fraction(line.rate) * line.tokens / MILLION
    assert sum(line.tokens for line in quote.lines) == (
        case.usage.input_tokens + case.usage.output_tokens) * case.usage.requests


@given(cases(requests=st.just(1)), st.one_of(st.integers(2, 1000), st.integers(2, MAX_REQUESTS)))
def test_n_requests_cost_exactly_n_times_one(case: Case, n: int) -> None:
    try:
        one = case.catalog.quote(case.workload())
    except NoPriceError:
        with pytest.raises(NoPriceError):
            case.catalog.quote(case.workload(requests=n))
        return
    many = case.catalog.quote(case.workload(requests=n))
    assert Fraction(many.total) == n * Fraction(one.total)
    assert [(line.kind, line.tokens) for line in many.lines] == [(line.kind, n * line.tokens) for line in one.lines]
    assert [Fraction(line.amount) for line in many.lines] == [n * Fraction(line.amount) for line in one.lines]
    assert many.requests == n
    assert msgspec.structs.replace(many, lines=one.lines, total=one.total, requests=1) == one


GROWTHS = ("input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens")


@given(cases(), st.sampled_from(GROWTHS), st.one_of(st.integers(1, 1000), st.integers(1, MAX_TOKENS)))
def test_cost_never_decreases_when_a_count_grows_within_a_tier(case: Case, field: str, extra: int) -> None:
    usage = case.usage
    grown = {field: getattr(usage, field) + extra}
    if field in ("cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens"):
        # A cached or cache-write token is part of the prompt: the prompt grows with it.
        grown["input_tokens"] = usage.input_tokens + extra
    assume(all(v <= MAX_TOKENS for v in grown.values()))
    try:
        before = case.catalog.quote(case.workload())
    except NoPriceError:
        return
    after = case.catalog.quote(case.workload(**grown))
    assume(after.tier == before.tier)
    assert after.total >= before.total
    # Exactly: the extra tokens at the rate of the line they land on, times the requests.
    kind = "input" if field == "input_tokens" else field.removesuffix("_tokens")
    rate = next(line.rate for line in after.lines if line.kind == kind)
    assert Fraction(after.total) - Fraction(before.total) == Fraction(rate) * extra * usage.requests / MILLION


@given(cases(input_tokens=st.just(0), output_tokens=st.just(0)))
def test_zero_tokens_cost_zero(case: Case) -> None:
    try:
        quote = case.catalog.quote(case.workload())
    except NoPriceError:
        return
    assert quote.total == 0
    assert all(line.amount == 0 and line.tokens == 0 for line in quote.lines)
    assert [line.kind for line in quote.lines] == ["input", "cached_input", "cache_write", "output"]


@given(cases())
def test_quote_many_matches_quote(case: Case) -> None:
    workloads = [case.workload(), case.workload(batch=False), case.workload(output_tokens=0)]
    try:
        expected = [case.catalog.quote(w) for w in workloads]
    except NoPriceError:
        return
    assert case.catalog.quote_many(workloads) == expected


@given(cases(), st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=5))
def test_quote_many_names_the_failing_workload(case: Case, before: int, after: int) -> None:
    good = case.workload()
    try:
        case.catalog.quote(good)
    except NoPriceError:
        return
    bad = replace(good, model="no-such-model")
    with pytest.raises(UnknownModelError) as raised:
        case.catalog.quote_many([good] * before + [bad] + [good] * after)
    assert raised.value.index == before


@given(st.lists(st.tuples(st.sampled_from(["USD", "CNY", "EUR"]),
                          st.decimals(min_value=0, max_value=10**12, places=20, allow_nan=False)), max_size=30))
def test_totals_by_currency_are_exact_sums_per_currency(items: list[tuple[str, Decimal]]) -> None:
    template = Catalog.default().quote(Workload(model="o1", output_tokens=1, at=datetime(2025, 1, 31, tzinfo=UTC)))
    quotes = [replace(template, currency=currency, total=total) for currency, total in items]
    expected: dict[str, Fraction] = {}
    for currency, total in items:
        expected[currency] = expected.get(currency, Fraction(0)) + Fraction(total)
    totals = totals_by_currency(quotes)
    assert {c: Fraction(t) for c, t in totals.items()} == expected
    # Summing in chunks into one dict gives the same totals.
    chunked: dict[str, Decimal] = {}
    for start in range(0, len(quotes), 7):
        totals_by_currency(quotes[start:start + 7], chunked)
    assert chunked == totals


def test_quote_without_at_prices_now() -> None:
    catalog = Catalog.loads("""
        provider = "p"
        [[models]]
        id = "m"
        [[models.periods]]
        from = 2020-01-01T00:00:00Z
        source = "https://example.com"
        checked = 2020-01-01
        input = 1
        output = 2
    """.replace("\n        ", "\n"))
    before = datetime.now(UTC)
    quote = catalog.quote(Workload(model="m", output_tokens=1_000_000))
    assert before <= quote.at <= datetime.now(UTC)
    assert quote.total == 2
    many = catalog.quote_many([Workload(model="m"), Workload(model="m")])
    assert many[0].at == many[1].at  # one shared "now"

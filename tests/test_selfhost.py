"""The self-hosting quote: DeepSeek's own report reproduced, exact sizing, break-even, and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pricing import Catalog, InvalidWorkloadError
from pricing.selfhost import (
    DEFAULT_REQUEST_TOKENS,
    InlineProfile,
    SelfhostQuote,
    api_workloads,
    default_requests,
    quote_selfhost,
)
from pricing.selfhost_data import SelfhostData, default_selfhost

B = 10**9
#: The report's 24 hours: UTC+8 2025-02-27 12:00 to 02-28 12:00.
REPORT_START = datetime(2025, 2, 27, 4, tzinfo=UTC)
DEEPSEEK = "deepseek-v3-r1-h800-deepseek"


def within(value: Decimal, target: Decimal, share: Decimal) -> bool:
    return abs(value - target) <= target * share


def report_quote(cached: int = 342 * B, **extra: Any) -> SelfhostQuote:
    args: dict[str, Any] = {"input_tokens": 608 * B, "cached_input_tokens": cached, "output_tokens": 168 * B,
                            "hours": Decimal(24), "profile": DEEPSEEK, "gpu_hour_price": Decimal(2),
                            "data": default_selfhost(), "catalog": Catalog.default(),
                            "compare": ["deepseek-reasoner"], "at": REPORT_START}
    return quote_selfhost(**{**args, **extra})


# -- DeepSeek's inference-system report, from the profile and the token totals alone ----------------


@pytest.mark.parametrize("cached", [342 * B, 342_300_000_000])
def test_the_deepseek_report_is_reproduced(cached: int) -> None:
    q = report_quote(cached)
    assert within(q.nodes, Decimal("226.75"), Decimal("0.005")), q.nodes
    assert within(q.total, Decimal(87072), Decimal("0.005")), q.total
    # Each is rounded from its exact value, so they agree to the rounding.
    assert abs(q.gpus - q.nodes * 8) < Decimal("0.00001") and abs(q.gpu_hours - q.gpus * 24) < Decimal("0.0001")
    (api,) = q.compare
    assert (api.provider, api.model, api.currency) == ("deepseek", "deepseek-reasoner", "USD")
    # Revenue at R1's list prices, and the "cost profit margin" of 545%.
    assert within(api.total, Decimal(562027), Decimal("0.001")), api.total
    assert api.markup_percent is not None and abs(api.markup_percent - 545) <= 1
    assert api.cheaper == "self-hosting"


def test_the_report_figures_exactly() -> None:
    q = report_quote()
    # 608e9 / 73,700 + 168e9 / 14,800 node-seconds over 86,400 s.
    nodes = (Fraction(608 * B, 73700) + Fraction(168 * B, 14800)) / 86400
    assert q.nodes == Decimal(round(nodes * 10**6)).scaleb(-6)
    assert q.total == Decimal(round(nodes * 8 * 24 * 2 * 10**6)).scaleb(-6) == Decimal("87115.609504")
    assert q.billed_nodes == q.nodes  # far above the 22-node smallest deployment
    assert q.compare[0].total == Decimal("562100")


def test_an_inline_profile_with_the_reports_rates_gives_the_same_quote() -> None:
    inline = InlineProfile(gpu="H800", gpus_per_node=8, prefill_tokens_per_second=Decimal(73700),
                           decode_tokens_per_second=Decimal(14800), min_nodes=Decimal(22))
    by_id, given_inline = report_quote(), report_quote(profile=inline)
    assert given_inline.total == by_id.total and given_inline.nodes == by_id.nodes
    assert given_inline.profile == "inline" and given_inline.model is None
    assert given_inline.compare == by_id.compare


def test_the_reports_assumed_offer_prices_like_the_inline_two_dollars() -> None:
    q = report_quote(gpu_hour_price=None, offer="deepseek-report-h800-assumed")
    assert q.total == report_quote().total and q.offer == "deepseek-report-h800-assumed"
    assert q.notes == ()  # the assumed price is dated from the start of the report's 24 hours


def test_the_default_comparison_lists_every_host_and_the_unpriced_ones() -> None:
    q = report_quote(compare=None)
    names = [c.name for c in q.compare] + [u.name for u in q.unpriced]
    assert sorted(names) == sorted(default_selfhost().served_by("deepseek-r1"))
    assert [c.name for c in q.compare] == ["deepseek/deepseek-reasoner"]  # the hosts had no R1 price yet
    assert all("no price before" in u.reason for u in q.unpriced)


# -- the sizing -----------------------------------------------------------------------------------


def small(catalog: Catalog, **extra: Any) -> SelfhostQuote:
    args: dict[str, Any] = {"input_tokens": 36_000_000, "cached_input_tokens": 18_000_000,
                            "output_tokens": 7_200_000, "hours": Decimal(1),
                            "profile": InlineProfile(gpu="X", gpus_per_node=4, prefill_tokens_per_second=Decimal(10000),
                                                     decode_tokens_per_second=Decimal(1000), min_nodes=Decimal("0.5")),
                            "gpu_hour_price": Decimal(3), "data": default_selfhost(), "catalog": catalog,
                            "compare": [], "at": datetime(2025, 6, 2, tzinfo=UTC)}
    return quote_selfhost(**{**args, **extra})


def test_prefill_and_decode_are_sized_separately() -> None:
    q = small(Catalog.default())
    assert (q.prefill_node_seconds, q.decode_node_seconds) == (Decimal("3600.000"), Decimal("7200.000"))
    assert q.nodes == 3 and q.gpus == 12 and q.gpu_hours == 12 and q.total == 36
    # A third of the node time is prefill: a third of the cost, spread over the input tokens.
    assert q.per_million_input == Decimal("0.333333")  # 12 / 36, rounded half-even to 6 places
    assert q.per_million_output == Decimal("3.333333")  # 24 / 7.2


def test_cache_hits_cost_prefill_time_only_when_the_profile_says_so() -> None:
    free = InlineProfile(gpu="X", gpus_per_node=4, prefill_tokens_per_second=Decimal(10000),
                         decode_tokens_per_second=Decimal(1000), prefill_includes_cache_hits=False)
    q = small(Catalog.default(), profile=free)
    assert q.prefill_node_seconds == Decimal("1800.000")  # only the 18M uncached tokens
    assert q.nodes == Decimal("2.5")


def test_utilisation_and_the_peak_ratio_scale_the_nodes() -> None:
    catalog = Catalog.default()
    assert small(catalog, utilisation=Decimal("0.5")).nodes == 6
    assert small(catalog, peak_ratio=Decimal("1.5")).nodes == Decimal("4.5")
    assert small(catalog, utilisation=Decimal("0.75"), peak_ratio=Decimal("1.25")).nodes == 5


def test_the_smallest_deployment_is_paid_for_however_little_is_served() -> None:
    q = small(Catalog.default(), input_tokens=0, cached_input_tokens=0, output_tokens=360_000)
    assert q.nodes == Decimal("0.1") and q.billed_nodes == Decimal("0.5") and q.total == 6
    assert q.per_million_input is None


profiles = st.builds(
    InlineProfile, gpu=st.just("G"), gpus_per_node=st.integers(1, 16),
    prefill_tokens_per_second=st.decimals(min_value=Decimal("0.5"), max_value=Decimal(10**6), places=2),
    decode_tokens_per_second=st.decimals(min_value=Decimal("0.5"), max_value=Decimal(10**6), places=2),
    prefill_includes_cache_hits=st.booleans(), min_nodes=st.just(Decimal("0.001")))


@given(profile=profiles, inp=st.integers(0, 10**13), share=st.fractions(0, 1), out=st.integers(0, 10**13),
       hours=st.decimals(min_value=Decimal("0.25"), max_value=Decimal(1000), places=2),
       price=st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=4))
def test_the_total_is_the_exact_formula_rounded_once(profile: InlineProfile, inp: int, share: Fraction, out: int,
                                                     hours: Decimal, price: Decimal) -> None:
    cached = int(inp * share)
    q = small(Catalog.default(), profile=profile, input_tokens=inp, cached_input_tokens=cached, output_tokens=out,
              hours=hours, gpu_hour_price=price)
    prefill = inp if profile.prefill_includes_cache_hits else inp - cached
    node_s = (Fraction(prefill) / Fraction(profile.prefill_tokens_per_second)
              + Fraction(out) / Fraction(profile.decode_tokens_per_second))
    nodes = max(node_s / (Fraction(hours) * 3600), Fraction(profile.min_nodes))
    exact = nodes * profile.gpus_per_node * Fraction(hours) * Fraction(price)
    assert q.total == Decimal(round(exact * 10**6)).scaleb(-6)
    assert q.total.as_tuple().exponent == -6


# -- the APIs and the break-even ------------------------------------------------------------------

API = """
provider = "acme"
[[models]]
id = "open-1"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com/acme"
checked = 2025-01-01
input = 1
cached_input = 0.25
output = 4
[[models]]
id = "open-cny"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com/acme"
checked = 2025-01-01
currency = "CNY"
input = 1
output = 4
[[models]]
id = "cheap"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com/acme"
checked = 2025-01-01
input = 0.0001
output = 0.0001
"""


def test_the_api_quote_is_the_catalogs_and_break_even_is_where_the_bills_meet(
        make_catalog: Callable[..., Catalog]) -> None:
    catalog = make_catalog(API)
    q = small(catalog, compare=["acme/open-1", "acme/cheap", "acme/open-cny"])
    rows = {c.model: c for c in q.compare}
    # 18M uncached x 1 + 18M cached x 0.25 + 7.2M output x 4 per million.
    assert rows["open-1"].total == Decimal("51.3")
    assert rows["open-1"].saving == Decimal("15.3") and rows["open-1"].cheaper == "self-hosting"
    assert rows["open-1"].saving_percent == Decimal("29.82")
    assert rows["open-1"].markup_percent == Decimal("42.50")
    # The API bills 51.3 an hour for 43.2M tokens; the smallest deployment (0.5 node x 4 GPUs x $3)
    # costs $144 a day: the bills meet at 144 / (51.3 x 24) of this usage's 1,036.8M tokens a day.
    daily = 43_200_000 * 24
    assert q.daily_tokens == daily
    expected = Fraction(144) / Fraction(513 * 24, 10) * daily
    assert rows["open-1"].break_even_daily_tokens == -(-expected.numerator // expected.denominator)
    # Cheaper than self-hosting at every volume: no break-even.
    assert rows["cheap"].cheaper == "api" and rows["cheap"].break_even_daily_tokens is None
    assert rows["cheap"].saving is not None and rows["cheap"].saving < 0
    # Another currency is quoted, never compared.
    cny = rows["open-cny"]
    assert cny.currency == "CNY" and cny.saving is cny.break_even_daily_tokens is cny.cheaper is None


def test_at_the_break_even_volume_the_two_bills_are_equal(make_catalog: Callable[..., Catalog]) -> None:
    catalog = make_catalog(API)
    tiny = small(catalog, input_tokens=3_600_000, cached_input_tokens=1_800_000, output_tokens=720_000,
                 compare=["acme/open-1"])
    (row,) = tiny.compare
    assert row.cheaper == "api" and row.break_even_daily_tokens is not None
    scale = Fraction(row.break_even_daily_tokens, tiny.daily_tokens)
    assert 1 < scale < 10
    # Just above the break-even scale (whole tokens), self-hosting is cheaper; just below, dearer.
    for factor, cheaper in ((scale * Fraction(101, 100), "self-hosting"), (scale * Fraction(99, 100), "api")):
        q = small(catalog, input_tokens=int(3_600_000 * factor), cached_input_tokens=int(1_800_000 * factor),
                  output_tokens=int(720_000 * factor), compare=["acme/open-1"])
        assert q.compare[0].cheaper == cheaper, factor


@given(inp=st.integers(0, 10**15), share=st.fractions(0, 1), out=st.integers(0, 10**15),
       requests=st.one_of(st.none(), st.integers(1, 10**6)))
def test_the_api_workloads_carry_the_totals_exactly(inp: int, share: Fraction, out: int, requests: int | None) -> None:
    cached = int(inp * share)
    n = default_requests(inp, out) if requests is None else requests
    assume(max(inp, out) <= n * 10_000_000_000)
    workloads = api_workloads("m", inp, cached, out, n, REPORT_START)
    assert 1 <= len(workloads) <= 4
    assert sum(w.requests for w in workloads) == n
    assert sum(w.input_tokens * w.requests for w in workloads) == inp
    assert sum(w.cached_input_tokens * w.requests for w in workloads) == cached
    assert sum(w.output_tokens * w.requests for w in workloads) == out
    spread = {w.input_tokens for w in workloads}
    assert max(spread) - min(spread) <= 1
    if requests is None:
        assert all(w.input_tokens <= DEFAULT_REQUEST_TOKENS and w.output_tokens <= DEFAULT_REQUEST_TOKENS
                   for w in workloads)


# -- refusals, each naming its argument --------------------------------------------------------------


def _profile(**change: Any) -> InlineProfile:
    base: dict[str, Any] = {"gpu": "X", "gpus_per_node": 8, "prefill_tokens_per_second": Decimal(1000),
                            "decode_tokens_per_second": Decimal(100)}
    return InlineProfile(**{**base, **change})


@pytest.mark.parametrize(("change", "field"), [
    ({"profile": _profile(decode_tokens_per_second=Decimal(0))}, "profile.decode_tokens_per_second"),
    ({"profile": _profile(prefill_tokens_per_second=Decimal(-5))}, "profile.prefill_tokens_per_second"),
    ({"profile": _profile(decode_tokens_per_second=Decimal("NaN"))}, "profile.decode_tokens_per_second"),
    ({"profile": _profile(gpus_per_node=0)}, "profile.gpus_per_node"),
    ({"profile": "no-such-profile"}, "profile"),
    ({"utilisation": Decimal(0)}, "utilisation"),
    ({"utilisation": Decimal("1.01")}, "utilisation"),
    ({"utilisation": Decimal(-1)}, "utilisation"),
    ({"peak_ratio": Decimal("0.9")}, "peak_ratio"),
    ({"hours": Decimal(0)}, "hours"),
    ({"gpu_hour_price": Decimal(0)}, "gpu_hour_price"),
    ({"gpu_hour_price": None}, "offer"),
    ({"offer": "aws-p5.48xlarge-us-east-1"}, "offer"),
    ({"gpu_hour_price": None, "offer": "nope"}, "offer"),
    ({"gpu_hour_price": None, "offer": "aws-p5.48xlarge-us-east-1", "currency": "EUR"}, "exchange_rate"),
    ({"exchange_rate": Decimal("0.9")}, "exchange_rate"),
    ({"gpu_hour_price": None, "offer": "aws-p5.48xlarge-us-east-1", "exchange_rate": Decimal(1)}, "exchange_rate"),
    ({"currency": "usd"}, "currency"),
    ({"currency": "ZZZ"}, "currency"),  # three capitals, but no ISO 4217 code
    ({"cached_input_tokens": 10**12}, "cached_input_tokens"),
    ({"output_tokens": -1}, "output_tokens"),
    ({"input_tokens": 10**17}, "input_tokens"),
    ({"requests": 0}, "requests"),
    ({"compare": ["deepseek-reasoner"], "at": datetime(2024, 1, 1, tzinfo=UTC)}, "compare[0]"),
    ({"compare": "deepseek-reasoner"}, "compare"),
    ({"at": datetime(2025, 1, 1)}, "at"),  # a naive instant
])
def test_bad_arguments_name_their_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidWorkloadError) as caught:
        small(Catalog.default(), **change)
    assert caught.value.field == field


def test_an_offer_in_another_currency_converts_at_the_given_rate() -> None:
    q = small(Catalog.default(), gpu_hour_price=None, offer="aws-p5.48xlarge-us-east-1", currency="EUR",
              exchange_rate=Decimal("0.5"))
    assert (q.currency, q.gpu_hour_price) == ("EUR", Decimal("3.44"))
    assert q.total == Decimal("3.44") * 12
    assert q.notes and "aws-p5.48xlarge-us-east-1 is dated from 2026-11-09" in q.notes[0]


def test_data_can_be_passed_in() -> None:
    data = default_selfhost()
    assert isinstance(data, SelfhostData)
    assert small(Catalog.default(), data=data, profile=DEEPSEEK, input_tokens=0, cached_input_tokens=0,
                 output_tokens=0).billed_nodes == 22


extreme = st.decimals(min_value=Decimal("1e-20"), max_value=Decimal("999999999999"), allow_nan=False,
                      allow_infinity=False, places=None)


@given(prefill=extreme, decode=extreme, price=extreme,
       hours=st.decimals(min_value=Decimal("1e-20"), max_value=Decimal("999999"), places=None),
       gpus=st.integers(1, 100_000), tokens=st.integers(0, 10**16),
       util=st.decimals(min_value=Decimal("1e-20"), max_value=Decimal(1), places=None),
       peak=st.decimals(min_value=Decimal(1), max_value=Decimal("999999"), places=None))
def test_any_accepted_input_is_quoted_or_refused_by_name(prefill: Decimal, decode: Decimal, price: Decimal,
                                                          hours: Decimal, gpus: int, tokens: int, util: Decimal,
                                                          peak: Decimal) -> None:
    profile = InlineProfile(gpu="G", gpus_per_node=gpus, prefill_tokens_per_second=prefill,
                            decode_tokens_per_second=decode, min_nodes=Decimal("1e-6"))
    try:
        q = small(Catalog.default(), profile=profile, input_tokens=tokens, cached_input_tokens=tokens // 2,
                  output_tokens=tokens, hours=hours, gpu_hour_price=price, utilisation=util, peak_ratio=peak)
    except InvalidWorkloadError as exc:
        # Only the bounds on how a number is written (digits after the point, size) refuse these.
        assert "digits after the point" in exc.reason or "must be below" in exc.reason, exc
        return
    assert q.total >= 0 and q.billed_nodes >= q.nodes


def test_a_workload_and_a_request_rate_give_the_totals() -> None:
    from pricing import Usage
    from pricing.selfhost import totals_from_rate

    t = totals_from_rate(Usage(input_tokens=6080, cached_input_tokens=3423, output_tokens=1680, requests=7),
                         Decimal("1157.407407407407"), Decimal(24))
    # 99,999,999.99999... requests in 24 h, rounded half-even to 100M.
    assert (t.requests, t.input_tokens, t.cached_input_tokens, t.output_tokens) == (
        10**8, 608 * B, 342_300_000_000, 168 * B)
    # Half-even: 4.5 requests over the span are 4, 13.5 are 14.
    assert totals_from_rate(Usage(input_tokens=1), Decimal("0.00125"), Decimal(1)).requests == 4
    assert totals_from_rate(Usage(input_tokens=1), Decimal("0.00375"), Decimal(1)).requests == 14
    for rate, hours in ((Decimal(0), Decimal(1)), (Decimal("0.0001"), Decimal(1)), (Decimal(10**9), Decimal(10**5))):
        with pytest.raises(InvalidWorkloadError) as caught:
            totals_from_rate(Usage(input_tokens=10), rate, hours)
        assert caught.value.field == "requests_per_second"

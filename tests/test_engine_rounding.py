"""Decimal exactness, the caller's decimal context, and rounding on request (``round_money``/``round_quote``)."""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
    localcontext,
)
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import (
    MAX_REQUESTS,
    MAX_TOKENS,
    Catalog,
    Model,
    NoPriceError,
    Period,
    PricingError,
    Quote,
    RankedQuote,
    Usage,
    Workload,
    round_money,
    round_quote,
)
from tests.strategies import usages

AT = datetime(2025, 6, 1, tzinfo=UTC)


def one_model(rates: str, currency: str = "USD") -> Catalog:
    return Catalog.loads(f"""
provider = "p"
[[models]]
id = "m"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com/pricing"
checked = 2025-01-01
currency = "{currency}"
{rates}
""")


EXTREMES = one_model("input = 999999999999.99999999999999999999\noutput = 0.00000000000000000001")
SEED_LIKE = one_model("input = 0.55\ncached_input = 0.14\noutput = 2.19")


@pytest.fixture
def low_precision() -> Iterator[decimal.Context]:
    """The caller's context: 3 digits, rounding down, nothing trapped, flags clear."""
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = ROUND_FLOOR
        ctx.traps = dict.fromkeys(ctx.traps, False)
        ctx.clear_flags()
        yield ctx


# -- exactness -----------------------------------------------------------------------------------


def test_extreme_rates_and_counts_stay_exact() -> None:
    quote = EXTREMES.quote(Workload(model="m", input_tokens=MAX_TOKENS, output_tokens=MAX_TOKENS,
                                    requests=MAX_REQUESTS, at=AT))
    amounts = {line.kind: line.amount for line in quote.lines}
    # 10**22 tokens at (10**12 - 10**-20) per million, and at 10**-20 per million.
    assert amounts["input"] == Decimal("9999999999999999999999999999.9999")
    assert amounts["output"] == Decimal("0.0001")
    assert quote.total == Decimal("1E+28")
    assert Fraction(quote.total) == 10**28


def test_many_decimals_and_odd_counts() -> None:
    catalog = one_model("input = 0.12345678901234567891\noutput = 7.00000000000000000003")
    quote = catalog.quote(Workload(model="m", input_tokens=9_999_999_999, output_tokens=3,
                                   requests=999_999_999_997, at=AT))
    expected = (Fraction("0.12345678901234567891") * 9_999_999_999
                + Fraction("7.00000000000000000003") * 3) * 999_999_999_997 / 10**6
    assert Fraction(quote.total) == expected


def test_the_engine_context_traps_inexact_results() -> None:
    # A rate the loader would refuse (85 decimals), in a catalog built directly: rather than round
    # the 85-digit amount to its 80 digits, the engine's context raises.
    rate = Decimal("0." + "1" * 85)
    period = Period(starts=AT, source="https://example.com", checked=AT.date(), input=rate, output=rate)
    catalog = Catalog([Model(id="m", provider="p", periods=(period,))], digest="test")
    with pytest.raises((decimal.Inexact, decimal.Rounded)):
        catalog.quote(Workload(model="m", input_tokens=3, at=AT))


def test_the_callers_context_does_not_change_results(low_precision: decimal.Context) -> None:
    workload = Workload(model="m", input_tokens=123_456_789, cached_input_tokens=1_234_567,
                        output_tokens=987_654_321, requests=777, at=AT)
    quote = SEED_LIKE.quote(workload)
    expected = (Fraction("0.55") * (123_456_789 - 1_234_567) + Fraction("0.14") * 1_234_567
                + Fraction("2.19") * 987_654_321) * 777 / 10**6
    assert Fraction(quote.total) == expected
    assert len(quote.total.as_tuple().digits) > 3
    assert decimal.getcontext() is low_precision
    assert low_precision.prec == 3 and low_precision.rounding == ROUND_FLOOR
    assert not any(low_precision.flags.values()), "the engine must not touch the caller's flags"


@given(usages(at=st.just(AT), batch=st.just(False)), st.integers(1, 12),
       st.sampled_from((ROUND_FLOOR, ROUND_CEILING, ROUND_HALF_UP, ROUND_DOWN)))
def test_any_callers_context_gives_the_same_quote(usage: Usage, prec: int, rounding: str) -> None:
    workload = Workload(model="m", **msgspec.structs.asdict(usage))
    expected, expected_ranked = SEED_LIKE.quote(workload), SEED_LIKE.compare(usage, baseline="m")
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = prec, rounding
        assert SEED_LIKE.quote(workload) == expected
        assert SEED_LIKE.compare(usage, baseline="m") == expected_ranked
        assert round_quote(expected) == round_quote(expected, ROUND_HALF_EVEN)
        assert decimal.getcontext() is ctx and ctx.prec == prec


def test_the_callers_context_is_restored_after_errors(low_precision: decimal.Context) -> None:
    with pytest.raises(NoPriceError):
        SEED_LIKE.quote(Workload(model="m", at=datetime(2024, 1, 1, tzinfo=UTC)))
    with pytest.raises(PricingError):
        SEED_LIKE.quote(Workload(model="nope", at=AT))
    assert decimal.getcontext() is low_precision
    # An error raised inside the engine's own context (its Inexact trap) restores the caller's too.
    rate = Decimal("0." + "3" * 80)
    period = Period(starts=AT, source="https://example.com", checked=AT.date(), input=rate, output=rate)
    catalog = Catalog([Model(id="m", provider="p", periods=(period,))], digest="test")
    with pytest.raises(decimal.DecimalException):
        catalog.quote(Workload(model="m", input_tokens=7, at=AT))
    assert decimal.getcontext() is low_precision
    assert low_precision.prec == 3 and not any(low_precision.flags.values())


def test_savings_ignore_the_callers_context(low_precision: decimal.Context) -> None:
    seed = Catalog.loads(
        one_model_text("deepseek", "output = 2.19"), one_model_text("openai", "output = 60"),
    )
    ranked = seed.compare(Usage(output_tokens=1_000_000, at=AT), baseline="openai/m")
    assert [q.savings_percent for q in ranked] == [Decimal("96.35"), Decimal("0.00")]


def one_model_text(provider: str, rates: str) -> str:
    return (f'provider = "{provider}"\n[[models]]\nid = "m"\n[[models.periods]]\nfrom = 2025-01-01T00:00:00Z\n'
            f'source = "https://example.com/pricing"\nchecked = 2025-01-01\ninput = 0\n{rates}\n')


# -- round_money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "rounding", "expected"),
    [
        # Half-even to cents by default.
        ("0.125", "USD", None, "0.12"),
        ("0.135", "USD", None, "0.14"),
        ("0.005", "USD", None, "0.00"),
        ("0.015", "USD", None, "0.02"),
        ("2.675", "USD", None, "2.68"),
        ("-0.125", "USD", None, "-0.12"),
        ("0.0049999999", "USD", None, "0.00"),
        ("0.1250000001", "USD", None, "0.13"),
        ("1", "USD", None, "1.00"),
        ("0", "EUR", None, "0.00"),
        ("12345678901234567890123456789.995", "USD", None, "12345678901234567890123456790.00"),
        # Other modes.
        ("0.125", "USD", ROUND_HALF_UP, "0.13"),
        ("0.125", "USD", ROUND_HALF_DOWN, "0.12"),
        ("0.129", "USD", ROUND_DOWN, "0.12"),
        ("0.121", "USD", ROUND_UP, "0.13"),
        ("0.121", "USD", ROUND_CEILING, "0.13"),
        ("-0.121", "USD", ROUND_CEILING, "-0.12"),
        ("-0.121", "USD", ROUND_FLOOR, "-0.13"),
        # Yen and won have no minor unit.
        ("12.5", "JPY", None, "12"),
        ("13.5", "JPY", None, "14"),
        ("0.5", "JPY", None, "0"),
        ("12.5", "JPY", ROUND_HALF_UP, "13"),
        ("1234.4", "KRW", None, "1234"),
        # A currency without an entry gets two places.
        ("0.125", "XYZ", None, "0.12"),
    ],
)
def test_round_money(amount: str, currency: str, rounding: str | None, expected: str) -> None:
    args = (Decimal(amount), currency) if rounding is None else (Decimal(amount), currency, rounding)
    result = round_money(*args)
    assert result == Decimal(expected)
    assert str(result) == expected  # the right number of places, too


def test_round_money_ignores_the_callers_context(low_precision: decimal.Context) -> None:
    assert str(round_money(Decimal("1234.567"), "USD")) == "1234.57"
    assert str(round_money(Decimal("0.125"), "USD")) == "0.12"  # half-even, not the caller's FLOOR
    assert decimal.getcontext() is low_precision and low_precision.prec == 3


def test_round_money_refuses_an_unknown_rounding_mode() -> None:
    with pytest.raises(TypeError, match="valid values for rounding"):
        round_money(Decimal(1), "USD", "ROUND_SOMETIMES")


# -- round_quote ---------------------------------------------------------------------------------

HALF_CENTS = one_model("input = 0.005\ncached_input = 0.005\noutput = 0.005")
HALF_CENT_WORKLOAD = Workload(model="m", input_tokens=2_000_000, cached_input_tokens=1_000_000,
                              output_tokens=1_000_000, at=AT)


def test_round_quote_rounds_lines_and_total_separately() -> None:
    exact = HALF_CENTS.quote(HALF_CENT_WORKLOAD)
    assert exact.total == Decimal("0.015")
    rounded = round_quote(exact)
    # Each half-cent line rounds to the even 0.00; the total rounds from the exact 0.015, to 0.02.
    assert [str(line.amount) for line in rounded.lines] == ["0.00", "0.00", "0.00", "0.00"]
    assert str(rounded.total) == "0.02"
    assert [line.rate for line in rounded.lines] == [line.rate for line in exact.lines]
    assert [line.tokens for line in rounded.lines] == [line.tokens for line in exact.lines]
    assert msgspec.structs.replace(rounded, lines=exact.lines, total=exact.total) == exact
    assert exact.total == Decimal("0.015")  # the original is untouched


def test_round_quote_other_modes_and_yen() -> None:
    up = round_quote(HALF_CENTS.quote(HALF_CENT_WORKLOAD), ROUND_HALF_UP)
    assert [str(line.amount) for line in up.lines] == ["0.01", "0.01", "0.00", "0.01"]
    assert str(up.total) == "0.02"
    yen = one_model("input = 150.5\noutput = 601.5", currency="JPY")
    quote = round_quote(yen.quote(Workload(model="m", input_tokens=1_000_000, output_tokens=1_000_000, at=AT)))
    assert [str(line.amount) for line in quote.lines] == ["150", "0", "0", "602"]
    assert str(quote.total) == "752"


def test_round_quote_keeps_a_ranked_quote_ranked() -> None:
    (ranked,) = HALF_CENTS.compare(Usage(output_tokens=1_000_000, at=AT), baseline="m")
    rounded = round_quote(ranked)
    assert isinstance(rounded, RankedQuote)
    assert rounded.savings_percent == Decimal("0.00")
    assert str(rounded.total) == "0.00"


@given(usages(at=st.just(AT), batch=st.just(False)))
def test_round_quote_is_within_half_a_cent(usage: Usage) -> None:
    exact = SEED_LIKE.quote(Workload(model="m", **msgspec.structs.asdict(usage)))
    rounded: Quote = round_quote(exact)
    assert abs(rounded.total - exact.total) <= Decimal("0.005")
    assert rounded.total.as_tuple().exponent == -2
    assert all(abs(r.amount - e.amount) <= Decimal("0.005") for r, e in zip(rounded.lines, exact.lines, strict=True))

"""``Catalog.compare``: cheapest first, savings against a baseline, and its refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import (
    Catalog,
    InvalidWorkloadError,
    NoPriceError,
    RankedQuote,
    UnknownModelError,
    Usage,
    Workload,
)
from tests.strategies import catalogs, instants_near, usages
from tests.tomlwrite import dumps

AT = datetime(2025, 6, 1, tzinfo=UTC)
MILLION_EACH = Usage(input_tokens=1_000_000, output_tokens=1_000_000, at=AT)


def provider(name: str, *models: tuple[str, str, str, str]) -> str:
    """A catalog file; each model is (id, input, output, extra period lines), priced from 2025."""
    text = f'provider = "{name}"\n'
    for model_id, input_rate, output_rate, extra in models:
        starts = "2026-01-01T00:00:00Z" if model_id == "late" else "2025-01-01T00:00:00Z"
        text += (f'[[models]]\nid = "{model_id}"\n[[models.periods]]\nfrom = {starts}\n'
                 f'source = "https://{name}.example/pricing"\nchecked = 2025-01-01\n'
                 f"input = {input_rate}\noutput = {output_rate}\n{extra}\n")
    return text


CATALOG = Catalog.loads(
    provider("a", ("cheap", "1", "2", ""), ("free", "0", "0", "")),
    provider("b", ("mid", "2", "4", "[models.periods.batch]\ninput = 1\noutput = 2"), ("twin", "1", "2", "")),
    provider("c", ("dear", "4", "8", "[models.periods.batch]\ninput = 2\noutput = 4"), ("late", "1", "1", "")),
    provider("d", ("yen", "100", "200", 'currency = "JPY"')),
    provider("e", ("base", "0", "8", ""), ("half-down", "0", "7.0124", ""), ("half-up", "0", "7.0116", ""),
             ("two", "0", "5.333", ""), ("third", "0", "2.666", "")),
)


def keys(ranked: tuple[RankedQuote, ...]) -> list[str]:
    return [f"{q.provider}/{q.model}" for q in ranked]


def test_every_model_with_a_price_cheapest_first() -> None:
    ranked = CATALOG.compare(MILLION_EACH)
    # Currencies are never mixed: JPY sorts before USD. Equal totals sort by provider, then model.
    # c/late has no price yet at that instant and is left out.
    assert keys(ranked) == ["d/yen", "a/free", "e/third", "a/cheap", "b/twin", "e/two", "b/mid",
                            "e/half-up", "e/half-down", "e/base", "c/dear"]
    assert [q.total for q in ranked] == [Decimal(v) for v in ("300", "0", "2.666", "3", "3", "5.333", "6",
                                                              "7.0116", "7.0124", "8", "12")]
    totals = [(q.currency, q.total) for q in ranked]
    assert totals == sorted(totals)
    assert all(q.savings_percent is None for q in ranked)


def test_savings_against_a_baseline() -> None:
    ranked = {f"{q.provider}/{q.model}": q.savings_percent
              for q in CATALOG.compare(MILLION_EACH, baseline="c/dear")}
    assert ranked["a/free"] == Decimal("100.00")
    assert ranked["a/cheap"] == Decimal("75.00")
    assert ranked["b/mid"] == Decimal("50.00")
    assert ranked["c/dear"] == Decimal("0.00")
    assert ranked["e/two"] == Decimal("55.56")  # 6.667/12 = 55.558333...
    assert ranked["d/yen"] is None  # another currency: no saving
    assert str(ranked["a/cheap"]) == "75.00"


def test_savings_round_half_even_to_two_places() -> None:
    usage = Usage(output_tokens=1_000_000, at=AT)
    ranked = {q.model: q.savings_percent for q in CATALOG.compare(
        usage, models=["half-down", "half-up", "two", "third"], baseline="e/base")}
    assert ranked["half-down"] == Decimal("12.34")  # exactly 12.345: the even neighbour
    assert ranked["half-up"] == Decimal("12.36")  # exactly 12.355
    assert ranked["two"] == Decimal("33.34")  # 33.3375
    assert ranked["third"] == Decimal("66.68")  # 66.675
    assert ranked["base"] == Decimal("0.00")


def test_dearer_than_the_baseline_is_negative() -> None:
    ranked = {q.model: q.savings_percent for q in CATALOG.compare(MILLION_EACH, models=["dear"], baseline="cheap")}
    assert ranked == {"cheap": Decimal("0.00"), "dear": Decimal("-300.00")}


def test_a_baseline_that_costs_nothing_gives_no_savings() -> None:
    assert all(q.savings_percent is None for q in CATALOG.compare(MILLION_EACH, baseline="free"))


def test_the_baseline_is_always_included_and_names_are_deduplicated() -> None:
    ranked = CATALOG.compare(MILLION_EACH, models=["cheap", "a/cheap", "CHEAP"], baseline="mid")
    assert keys(ranked) == ["a/cheap", "b/mid"]


def test_models_without_a_price_at_that_instant() -> None:
    early = Usage(output_tokens=1, at=datetime(2024, 6, 1, tzinfo=UTC))
    assert CATALOG.compare(early) == ()
    with pytest.raises(NoPriceError):
        CATALOG.compare(early, models=["cheap"])
    with pytest.raises(NoPriceError):
        CATALOG.compare(MILLION_EACH, models=["cheap"], baseline="c/late")


def test_batch_compares_only_models_with_batch_prices() -> None:
    batch = Usage(input_tokens=1_000_000, output_tokens=1_000_000, at=AT, batch=True)
    ranked = CATALOG.compare(batch, baseline="dear")
    assert keys(ranked) == ["b/mid", "c/dear"]
    assert [q.savings_percent for q in ranked] == [Decimal("50.00"), Decimal("0.00")]
    with pytest.raises(NoPriceError, match="no batch price"):
        CATALOG.compare(batch, models=["cheap"])
    with pytest.raises(NoPriceError, match="no batch price"):
        CATALOG.compare(batch, baseline="cheap")


def test_bad_names() -> None:
    with pytest.raises(InvalidWorkloadError, match="models: must be a list of model names"):
        CATALOG.compare(MILLION_EACH, models="cheap")
    with pytest.raises(UnknownModelError):
        CATALOG.compare(MILLION_EACH, models=["cheap", "chep"])
    with pytest.raises(UnknownModelError):
        CATALOG.compare(MILLION_EACH, baseline="nothing-like-it")


@given(st.data())
def test_ranking_and_savings_match_an_exact_oracle(data: st.DataObject) -> None:
    files = data.draw(catalogs(max_files=2, max_models=2, max_periods=2))
    catalog = Catalog.loads(*(dumps(f) for f in files))
    models = [m for f in files for m in f.models]
    base_model = data.draw(st.sampled_from(models))
    at = data.draw(instants_near(base_model))
    usage = data.draw(usages(at=st.just(at)))
    base_key = f"{base_model.provider}/{base_model.id}"
    try:
        base = catalog.quote(Workload(model=base_key, **msgspec.structs.asdict(usage)))
    except NoPriceError:
        with pytest.raises(NoPriceError):
            catalog.compare(usage, baseline=base_key)
        return
    ranked = catalog.compare(usage, baseline=base_key)
    order = [(q.currency, q.total, q.provider, q.model) for q in ranked]
    assert order == sorted(order)
    assert base_key in keys(ranked)
    for q in ranked:
        key = f"{q.provider}/{q.model}"
        plain = catalog.quote(Workload(model=key, **msgspec.structs.asdict(usage)))
        assert msgspec.structs.replace(q, savings_percent=None) == RankedQuote(**msgspec.structs.asdict(plain))
        if q.currency != base.currency or base.total == 0:
            assert q.savings_percent is None
        else:
            exact = (Fraction(base.total) - Fraction(q.total)) * 100 / Fraction(base.total)
            # round() of a Fraction is half-even, done on the exact value.
            assert q.savings_percent == Decimal(round(exact * 100)) / 100
            assert q.savings_percent.as_tuple().exponent == -2

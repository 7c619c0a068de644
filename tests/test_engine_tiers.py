"""Long-context tiers (both boundary kinds) and batch prices (with their own tiers)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pricing import Catalog, NoBatchPriceError, NoPriceError, Quote, Workload

AT = datetime(2025, 6, 1, 6, 0, tzinfo=UTC)

CATALOG = """
provider = "g"

[[models]]
id = "above"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com/pricing"
checked = 2025-01-01
input = 1.25
cached_input = 0.125
cache_write = 1.5
cache_write_1h = 2.5
output = 10
[[models.periods.tiers]]
threshold = 200000
boundary = ">"
input = 2.5
cached_input = 0.25
cache_write = 3
output = 15
[models.periods.batch]
input = 0.625
output = 5
[[models.periods.batch.tiers]]
threshold = 200000
boundary = ">"
input = 1.25
output = 7.5

[[models]]
id = "at-or-above"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com/pricing"
checked = 2025-01-01
input = 3
cached_input = 0.3
output = 12
[[models.periods.tiers]]
threshold = 128000
boundary = ">="
input = 6
output = 24

[[models]]
id = "two-tiers"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com/pricing"
checked = 2025-01-01
input = 1
output = 1
[[models.periods.tiers]]
threshold = 1000
boundary = ">"
input = 2
output = 2
[[models.periods.tiers]]
threshold = 2000
boundary = ">="
input = 3
output = 3

[[models]]
id = "windowed"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com/pricing"
checked = 2025-01-01
input = 1
output = 2
[[models.periods.tiers]]
threshold = 1000
boundary = ">"
input = 10
output = 20
[[models.periods.windows]]
name = "morning"
start = 00:00:00
end = 12:00:00
input = 0.5
output = 1
[models.periods.batch]
input = 0.25
output = 0.5
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.loads(CATALOG)


def quote(catalog: Catalog, model: str, **usage: object) -> Quote:
    return catalog.quote(Workload(model=model, at=usage.pop("at", AT), **usage))  # type: ignore[arg-type]


def rates(q: Quote) -> dict[str, Decimal]:
    return {line.kind: line.rate for line in q.lines}


@pytest.mark.parametrize(
    ("model", "prompt", "tier", "input_rate"),
    [
        ("above", 199_999, None, "1.25"),
        ("above", 200_000, None, "1.25"),  # ">": exactly the threshold is not in the tier
        ("above", 200_001, ">200000", "2.5"),
        ("at-or-above", 127_999, None, "3"),
        ("at-or-above", 128_000, ">=128000", "6"),  # ">=": exactly the threshold is in the tier
        ("at-or-above", 128_001, ">=128000", "6"),
        ("two-tiers", 1000, None, "1"),
        ("two-tiers", 1001, ">1000", "2"),
        ("two-tiers", 1999, ">1000", "2"),
        ("two-tiers", 2000, ">=2000", "3"),
        ("two-tiers", 10_000_000, ">=2000", "3"),
    ],
)
def test_prompt_below_at_and_above_the_threshold(catalog: Catalog, model: str, prompt: int, tier: str | None,
                                                 input_rate: str) -> None:
    q = quote(catalog, model, input_tokens=prompt, output_tokens=1000)
    assert q.tier == tier
    assert rates(q)["input"] == Decimal(input_rate)
    # The whole request moves to the tier: output too, not only the tokens above the threshold.
    assert rates(q)["output"] == {"1.25": 10, "2.5": 15, "3": 12 if model == "at-or-above" else 3,
                                  "6": 24, "1": 1, "2": 2}[input_rate]
    assert q.total == sum((line.amount for line in q.lines), Decimal(0))
    assert q.total == (prompt * Decimal(input_rate) + 1000 * rates(q)["output"]) / 1_000_000


def test_tier_cache_rates_and_fallback(catalog: Catalog) -> None:
    q = quote(catalog, "above", input_tokens=200_001, cached_input_tokens=1, cache_write_tokens=100,
              cache_write_1h_tokens=100, output_tokens=1000)
    assert rates(q) == {"input": Decimal("2.5"), "cached_input": Decimal("0.25"), "cache_write": Decimal(3),
                        # The tier gives no 1-hour write rate: those tokens bill as the tier's input.
                        "cache_write_1h": Decimal("2.5"), "output": Decimal(15)}
    # 199800 uncached at 2.5, 1 cached at 0.25, 100 writes at 3, 100 one-hour writes at 2.5, 1000 out at 15.
    assert q.total == Decimal("0.4995") + Decimal("0.00000025") + Decimal("0.0003") + Decimal("0.00025") \
        + Decimal("0.015")
    # A tier without a cached rate bills cache reads at the tier's input, not the base cached rate.
    q = quote(catalog, "at-or-above", input_tokens=128_000, cached_input_tokens=28_000)
    assert rates(q)["cached_input"] == Decimal(6)
    assert q.total == Decimal("0.768")


def test_the_tier_goes_by_each_request_prompt_not_the_total(catalog: Catalog) -> None:
    q = quote(catalog, "above", input_tokens=200_000, requests=1000)
    assert q.tier is None
    assert q.total == Decimal(250)


def test_batch_rates(catalog: Catalog) -> None:
    q = quote(catalog, "above", input_tokens=1_000_000 // 2, output_tokens=1_000_000, batch=True)
    assert q.batch is True
    # Above the batch tier's threshold: 500000 > 200000.
    assert q.tier == ">200000"
    assert rates(q) == {"input": Decimal("1.25"), "cached_input": Decimal("1.25"),
                        "cache_write": Decimal("1.25"), "output": Decimal("7.5")}
    assert q.total == Decimal("0.625") + Decimal("7.5")
    small = quote(catalog, "above", input_tokens=200_000, output_tokens=1_000_000, batch=True)
    assert (small.tier, small.total) == (None, Decimal("0.125") + Decimal(5))


def test_batch_without_batch_rates(catalog: Catalog) -> None:
    with pytest.raises(NoPriceError) as info:
        quote(catalog, "at-or-above", input_tokens=10, batch=True)
    assert "no batch price" in str(info.value)
    assert info.value.model == "g/at-or-above"
    assert info.value.at == AT


def test_batch_ignores_windows(catalog: Catalog) -> None:
    # 06:00 UTC is inside the "morning" window; a batch request gets the batch rates, no window.
    q = quote(catalog, "windowed", input_tokens=1_000_000, output_tokens=1_000_000, batch=True)
    assert (q.window, q.total) == (None, Decimal("0.75"))
    q = quote(catalog, "windowed", input_tokens=1_000_000, output_tokens=1_000_000)
    assert (q.window, q.total) == ("morning", Decimal("1.5"))


def test_a_window_replaces_the_tiers_too(catalog: Catalog) -> None:
    # The format says a window's rates replace the period's; the window has no tiers of its own,
    # so a long prompt in the window is priced at the window's base rates.
    in_window = quote(catalog, "windowed", input_tokens=2000)
    assert (in_window.window, in_window.tier, in_window.total) == ("morning", None, Decimal("0.001"))
    outside = quote(catalog, "windowed", input_tokens=2000, at=datetime(2025, 6, 1, 12, tzinfo=UTC))
    assert (outside.window, outside.tier, outside.total) == (None, ">1000", Decimal("0.02"))


def test_no_batch_price_is_its_own_error_kind() -> None:
    """The service answers `field: batch` for this one, `field: at` for other NoPriceErrors."""
    catalog = Catalog.loads("""
provider = "acme"
[[models]]
id = "m"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.test/pricing"
checked = 2026-11-01
input = 1
output = 2
""")
    at = datetime(2025, 6, 1, tzinfo=UTC)
    with pytest.raises(NoBatchPriceError):
        catalog.quote(Workload(model="m", output_tokens=1, at=at, batch=True))
    with pytest.raises(NoPriceError) as info:
        catalog.quote(Workload(model="m", output_tokens=1, at=datetime(2024, 6, 1, tzinfo=UTC), batch=True))
    assert not isinstance(info.value, NoBatchPriceError)

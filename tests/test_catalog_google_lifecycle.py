"""Google's shutdowns, routings and dated price changes in the shipped catalog, at their instants.

Each instant is checked one microsecond either side: the old price holds up to the instant; from it
on a routed name is billed as its target (and the quote says so), a shut-down name has no price.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pricing import Catalog, Quote, Workload
from pricing.errors import NoPriceError

TICK = timedelta(microseconds=1)


def _quote(model: str, at: datetime, batch: bool = False) -> Quote:
    return Catalog.default().quote(Workload(model=model, input_tokens=1000, output_tokens=1000, at=at, batch=batch))


def _rates(quote: Quote) -> tuple[Decimal, Decimal]:
    rates = {line.kind: line.rate for line in quote.lines}
    return rates["input"], rates["output"]


# name asked for, routing instant Google announced (date only, 00:00Z), rates before, target and its rates after
ROUTED = [
    ("gemini-2.5-pro", datetime(2026, 12, 1, tzinfo=UTC), ("1.25", "10"), "gemini-3.8-flash", ("0.75", "3.75")),
    ("gemini-2.5-flash", datetime(2026, 12, 1, tzinfo=UTC), ("0.30", "2.50"), "gemini-3.5-flash-lite", ("0.30", "2.50")),
    ("gemini-3.5-flash", datetime(2026, 10, 8, tzinfo=UTC), ("1.50", "9"), "gemini-3.6-flash", ("0.75", "3.75")),
    ("models/gemini-3.7-flash", datetime(2026, 10, 8, tzinfo=UTC), ("0.75", "3.75"), "gemini-3.8-flash", ("0.75", "3.75")),
    ("gemini-3-pro-preview", datetime(2026, 3, 9, tzinfo=UTC), ("2", "12"), "gemini-3.1-pro-preview", ("2", "12")),
]


@pytest.mark.parametrize(("name", "instant", "before", "target", "after"), ROUTED, ids=[r[0] for r in ROUTED])
def test_a_routed_name_is_billed_as_its_target_from_the_routing_instant(
    name: str, instant: datetime, before: tuple[str, str], target: str, after: tuple[str, str]
) -> None:
    old = _quote(name, instant - TICK)
    assert old.routed_from is None
    assert _rates(old) == tuple(Decimal(r) for r in before)
    new = _quote(name, instant)
    assert new.routed_from == Catalog.default().model(name).id
    assert new.model == target
    assert _rates(new) == tuple(Decimal(r) for r in after)
    assert new.total == _quote(target, instant).total


def test_gemini_2_5_pro_is_never_billed_at_its_old_rates_after_december_1() -> None:
    """A year on, the route still holds, at the target's price then (3.8 Flash's list price)."""
    later = _quote("gemini-2.5-pro", datetime(2027, 6, 1, tzinfo=UTC))
    assert (later.model, _rates(later)) == ("gemini-3.8-flash", (Decimal("1.50"), Decimal("7.50")))
    batch = _quote("gemini-2.5-pro", datetime(2026, 12, 1, tzinfo=UTC), batch=True)
    assert _rates(batch) == (Decimal("0.375"), Decimal("1.875"))


# shut down without a route: name, shutdown instant, rates before
SHUT = [
    ("gemini-2.0-flash-001", datetime(2026, 6, 1, tzinfo=UTC), ("0.10", "0.40")),
    ("gemini-2.0-flash-lite", datetime(2026, 6, 1, tzinfo=UTC), ("0.075", "0.30")),
    ("gemini-3.1-flash-lite-preview", datetime(2026, 5, 25, tzinfo=UTC), ("0.25", "1.50")),
]


@pytest.mark.parametrize(("name", "instant", "before"), SHUT, ids=[s[0] for s in SHUT])
def test_a_shut_down_name_has_no_price_from_the_shutdown_on(
    name: str, instant: datetime, before: tuple[str, str]
) -> None:
    assert _rates(_quote(name, instant - TICK)) == tuple(Decimal(r) for r in before)
    with pytest.raises(NoPriceError, match="shut down on"):
        _quote(name, instant)


def test_gemini_4_argon_leaves_its_introductory_price_on_december_1() -> None:
    instant = datetime(2026, 12, 1, tzinfo=UTC)
    assert _rates(_quote("gemini-4-argon", instant - TICK)) == (Decimal("2"), Decimal("10"))
    assert _rates(_quote("gemini-4-argon", instant)) == (Decimal("4"), Decimal("20"))

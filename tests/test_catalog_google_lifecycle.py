"""Google's shutdowns, routings and dated price changes in the shipped catalog, at their instants.

Each instant is checked one microsecond either side: the old price holds up to the instant, and
from it on the name is no longer priced as before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from pricing import Catalog, Workload
from pricing.errors import NoPriceError

TICK = timedelta(microseconds=1)


def _rates(model: str, at: datetime) -> dict[str, Decimal]:
    quote = Catalog.default().quote(Workload(model=model, input_tokens=1000, output_tokens=1000, at=at))
    return {line.kind: line.rate for line in quote.lines}


# name, instant Google announced (date only, 00:00Z), input and output before it
ENDED = [
    ("gemini-2.5-pro", datetime(2026, 12, 1, tzinfo=UTC), Decimal("1.25"), Decimal("10")),
    ("gemini-2.5-flash", datetime(2026, 12, 1, tzinfo=UTC), Decimal("0.30"), Decimal("2.50")),
    ("gemini-3.5-flash", datetime(2026, 10, 8, tzinfo=UTC), Decimal("1.50"), Decimal("9")),
    ("gemini-3.7-flash", datetime(2026, 10, 8, tzinfo=UTC), Decimal("0.75"), Decimal("3.75")),
    ("gemini-2.0-flash-001", datetime(2026, 6, 1, tzinfo=UTC), Decimal("0.10"), Decimal("0.40")),
    ("gemini-2.0-flash-lite", datetime(2026, 6, 1, tzinfo=UTC), Decimal("0.075"), Decimal("0.30")),
    ("gemini-3.1-flash-lite-preview", datetime(2026, 5, 25, tzinfo=UTC), Decimal("0.25"), Decimal("1.50")),
]


@pytest.mark.parametrize(("model", "instant", "input_rate", "output_rate"), ENDED, ids=[e[0] for e in ENDED])
def test_old_price_holds_until_the_instant_and_not_after(
    model: str, instant: datetime, input_rate: Decimal, output_rate: Decimal
) -> None:
    before = _rates(model, instant - TICK)
    assert (before["input"], before["output"]) == (input_rate, output_rate)
    with pytest.raises(NoPriceError):
        _rates(model, instant)


def test_gemini_4_argon_leaves_its_introductory_price_on_december_1() -> None:
    instant = datetime(2026, 12, 1, tzinfo=UTC)
    assert _rates("gemini-4-argon", instant - TICK)["input"] == Decimal("2")
    after = _rates("gemini-4-argon", instant)
    assert (after["input"], after["output"]) == (Decimal("4"), Decimal("20"))


def test_routing_targets_are_priced_from_the_routing_instant() -> None:
    """The models Google bills the retired names as exist and are priced at the routing instant."""
    for target, instant in [("gemini-3.8-flash", datetime(2026, 12, 1, tzinfo=UTC)),
                            ("gemini-3.5-flash-lite", datetime(2026, 12, 1, tzinfo=UTC)),
                            ("gemini-3.6-flash", datetime(2026, 10, 8, tzinfo=UTC))]:
        assert _rates(target, instant)["input"] > 0

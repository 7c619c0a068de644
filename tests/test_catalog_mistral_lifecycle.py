"""Mistral's retirements in the shipped catalog, one microsecond either side of the card's date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pricing import Catalog, Workload
from pricing.errors import NoPriceError

TICK = timedelta(microseconds=1)

# every API name of the model, and the retirement date on its card (date only, 00:00Z)
RETIRED = [
    (("devstral-2512", "devstral-latest", "devstral-medium-latest"), datetime(2026, 7, 31, tzinfo=UTC)),
    (("mistral-small-2506",), datetime(2026, 7, 31, tzinfo=UTC)),
    (("mistral-medium-2508",), datetime(2026, 8, 31, tzinfo=UTC)),
    (("mistral-small-2501",), datetime(2025, 11, 30, tzinfo=UTC)),
    (("mistral-small-2503",), datetime(2025, 11, 30, tzinfo=UTC)),
    (("open-mistral-nemo", "open-mistral-nemo-2407"), datetime(2026, 7, 31, tzinfo=UTC)),
    (("zai-glm-5-2",), datetime(2026, 10, 31, tzinfo=UTC)),
    (("labs-devstral-small-2512", "devstral-small-latest"), datetime(2026, 3, 31, tzinfo=UTC)),
]


def _quote(model: str, at: datetime) -> object:
    return Catalog.default().quote(Workload(model=model, input_tokens=1000, output_tokens=1000, at=at))


@pytest.mark.parametrize(("names", "retired"), RETIRED, ids=[r[0][0] for r in RETIRED])
def test_priced_until_retirement_and_not_from_it(names: tuple[str, ...], retired: datetime) -> None:
    for name in names:
        _quote(name, retired - TICK)
        with pytest.raises(NoPriceError):
            _quote(name, retired)


def test_large_4_list_price_from_the_end_of_the_launch_discount() -> None:
    end = datetime(2026, 10, 20, tzinfo=UTC)
    before = Catalog.default().period_at("mistral-large-4", end - TICK)
    after = Catalog.default().period_at("mistral-large-4-0", end)
    assert (str(before.input), str(after.input)) == ("0.68", "1.36")

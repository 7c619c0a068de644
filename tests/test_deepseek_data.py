"""The shipped DeepSeek file: holidays written as ``except_dates`` price exactly as the old split windows.

``tests/fixtures/deepseek_split_windows.toml`` is the file as it was before the rewrite (each weekday
peak window split around each 2026 holiday). Every DeepSeek model is quoted in both, every 20
minutes across the months the windows cover and one microsecond either side of every old window
edge; the quotes must be equal but for the windows' names (the split ones carried a suffix).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from pricing import Catalog, NoPriceError, Quote, Workload

DATA = Path(__file__).parents[1] / "pricing" / "data" / "deepseek.toml"
OLD = Path(__file__).parent / "fixtures" / "deepseek_split_windows.toml"
START, END = datetime(2026, 8, 10, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


@pytest.fixture(scope="module")
def old() -> Catalog:
    return Catalog.load(OLD)


@pytest.fixture(scope="module")
def new() -> Catalog:
    return Catalog.load(DATA)


def instants(old: Catalog) -> Iterator[datetime]:
    at = START
    while at < END:
        yield at
        at += timedelta(minutes=20)
    for model in old.models():
        for period in model.periods:
            for window in period.windows:
                for edge in (window.starts, window.until):
                    if edge is not None:
                        yield from (edge - US, edge, edge + US)


def same(quote: Quote | str) -> object:
    if isinstance(quote, str):
        return quote
    window = None if quote.window is None else re.sub(r"-(weekdays|[123])$", "", quote.window)
    return msgspec.structs.replace(quote, window=window, catalog_digest="")


def priced(catalog: Catalog, model: str, at: datetime) -> Quote | str:
    try:
        return catalog.quote(Workload(model=model, input_tokens=1_000_000, cached_input_tokens=400_000,
                                      output_tokens=500_000, at=at))
    except NoPriceError as exc:
        return f"{type(exc).__name__}: {exc}"


def test_except_dates_price_like_the_split_windows(old: Catalog, new: Catalog) -> None:
    ids = [m.id for m in old.models()]
    assert ids == [m.id for m in new.models()]
    checked = peak = 0
    for at in instants(old):
        for model in ids:
            before, after = priced(old, model, at), priced(new, model, at)
            assert same(after) == same(before), (model, at)
            checked += 1
            peak += isinstance(after, Quote) and after.window is not None
    # The comparison saw both kinds of instant, many times.
    assert checked > 40_000 and peak > 3_000


def test_a_holiday_is_off_peak_all_day(new: Catalog) -> None:
    # Thursday 1 October 2026, 10:00 Beijing (02:00Z) is a holiday; Thursday 8 October is not.
    holiday = new.quote(Workload(model="deepseek-flash", output_tokens=1_000_000,
                                 at=datetime(2026, 10, 1, 2, tzinfo=UTC)))
    working = new.quote(Workload(model="deepseek-flash", output_tokens=1_000_000,
                                 at=datetime(2026, 10, 8, 2, tzinfo=UTC)))
    assert (holiday.window, str(holiday.total)) == (None, "0.60")
    assert (working.window, str(working.total)) == ("peak-am", "1.20")

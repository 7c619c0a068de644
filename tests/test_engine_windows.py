"""Recurring time windows (off-peak prices): each boundary, just before, at and just after it.

Every case prices one million output tokens, so the total is the output rate in force: 0.55 inside
a window, 2.19 outside it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import Catalog, NoPriceError, Workload
from tests.strategies import ZONES, instants

US = timedelta(microseconds=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
INSIDE, OUTSIDE = Decimal("0.55"), Decimal("2.19")

PERIOD = """
[[models.periods]]
from = 2025-01-20T00:00:00Z
until = 2025-12-01T00:00:00Z
source = "https://example.com/pricing"
checked = 2025-01-20
input = 0.55
output = 2.19
"""
WINDOW = """
[[models.periods.windows]]
name = "{name}"
timezone = "{zone}"
start = {start}
end = {end}
input = 0.135
output = 0.55
"""


def model(model_id: str, name: str, zone: str, start: str, end: str, extra: str = "") -> str:
    return f'[[models]]\nid = "{model_id}"\n' + PERIOD + WINDOW.format(
        name=name, zone=zone, start=start, end=end) + extra


CATALOG = 'provider = "p"\n' + "\n".join([
    # DeepSeek's off-peak hours, with limits: the until cuts one night's window at midnight.
    model("utc-night", "off-peak", "UTC", "16:30:00", "00:30:00",
          "from = 2025-02-26T16:30:00Z\nuntil = 2025-09-05T00:00:00Z\n"),
    # Weeknights in Beijing time, running past local midnight.
    model("shanghai-night", "night", "Asia/Shanghai", "22:00:00", "02:00:00",
          'days = ["mon", "tue", "wed", "thu", "fri"]\n'),
    # Weekend days in Beijing time, limited to instants given with a +08:00 offset.
    model("shanghai-weekend", "weekend", "Asia/Shanghai", "09:00:00", "17:00:00",
          'days = ["sat", "sun"]\nfrom = 2025-03-08T12:00:00+08:00\nuntil = 2025-03-16T12:00:00+08:00\n'),
    model("ny-day", "day", "America/New_York", "09:00:00", "17:00:00"),
    model("ny-early", "early", "America/New_York", "01:00:00", "03:00:00"),
    model("ny-saturday-night", "saturday-night", "America/New_York", "23:00:00", "01:30:00",
          'days = ["sat"]\n'),
])


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.loads(CATALOG)


def priced(catalog: Catalog, model_id: str, at: datetime) -> tuple[Decimal, str | None]:
    quote = catalog.quote(Workload(model=model_id, output_tokens=1_000_000, at=at))
    return quote.total, quote.window


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def check(catalog: Catalog, model_id: str, at: datetime, inside: bool) -> None:
    total, window = priced(catalog, model_id, at)
    assert (total, window is not None) == ((INSIDE, True) if inside else (OUTSIDE, False)), at.isoformat()


UTC_NIGHT = [
    # An ordinary night: start, midnight, end.
    (utc(2025, 3, 10, 16, 29, 59, 999999), False),
    (utc(2025, 3, 10, 16, 30), True),
    (utc(2025, 3, 10, 16, 30) + US, True),
    (utc(2025, 3, 10, 23, 59, 59, 999999), True),
    (utc(2025, 3, 11, 0, 0), True),
    (utc(2025, 3, 11, 0, 29, 59, 999999), True),
    (utc(2025, 3, 11, 0, 30), False),
    (utc(2025, 3, 11, 12, 0), False),
    # The day the window's "from" falls on: that morning's part belongs to a night before it.
    (utc(2025, 2, 26, 0, 15), False),
    (utc(2025, 2, 26, 16, 29, 59, 999999), False),
    (utc(2025, 2, 26, 16, 30), True),
    (utc(2025, 2, 27, 0, 15), True),
    # The day the window's "until" falls on, at midnight inside a night's window.
    (utc(2025, 9, 4, 16, 30), True),
    (utc(2025, 9, 4, 23, 59, 59, 999999), True),
    (utc(2025, 9, 5, 0, 0), False),
    (utc(2025, 9, 5, 0, 15), False),
    (utc(2025, 9, 5, 16, 30), False),
    # The same instants in other zones price the same.
    (datetime(2025, 3, 11, 1, 29, tzinfo=ZoneInfo("Europe/Paris")), True),  # 00:29 UTC
    (datetime(2025, 3, 11, 1, 30, tzinfo=ZoneInfo("Europe/Paris")), False),  # 00:30 UTC
    (datetime(2025, 3, 11, 9, 29, tzinfo=ZoneInfo("Asia/Tokyo")), True),  # 00:29 UTC
    (datetime(2025, 3, 10, 12, 30, tzinfo=NEW_YORK), True),  # 16:30 UTC (EDT)
    (datetime(2025, 3, 10, 11, 29, tzinfo=timezone(timedelta(hours=-5))), False),  # 16:29 UTC
]


@pytest.mark.parametrize(("at", "inside"), UTC_NIGHT, ids=[a.isoformat() for a, _ in UTC_NIGHT])
def test_window_crossing_midnight_utc(catalog: Catalog, at: datetime, inside: bool) -> None:
    check(catalog, "utc-night", at, inside)


# 2025-03-07 is a Friday, 03-08 a Saturday, 03-10 a Monday. Shanghai is UTC+8 all year.
SHANGHAI_NIGHT = [
    (shanghai(2025, 3, 7, 21, 59, 59, 999999), False),
    (shanghai(2025, 3, 7, 22, 0), True),  # Friday night starts a window
    (utc(2025, 3, 7, 14, 0), True),  # the same instant, in UTC
    (shanghai(2025, 3, 7, 23, 59, 59, 999999), True),
    (shanghai(2025, 3, 8, 0, 0), True),  # Saturday, local midnight: still Friday's window
    (utc(2025, 3, 7, 16, 0), True),  # the same instant: Friday in UTC
    (shanghai(2025, 3, 8, 1, 59, 59, 999999), True),
    (shanghai(2025, 3, 8, 2, 0), False),
    (shanghai(2025, 3, 8, 22, 0), False),  # Saturday starts no window
    (shanghai(2025, 3, 9, 1, 0), False),  # ...so Sunday morning is outside
    (shanghai(2025, 3, 9, 22, 0), False),  # nor does Sunday
    (shanghai(2025, 3, 10, 1, 0), False),  # ...so Monday morning is outside
    (utc(2025, 3, 9, 17, 0), False),  # that instant in UTC: a Sunday 17:00
    (shanghai(2025, 3, 10, 22, 0), True),  # Monday night starts one
    (utc(2025, 3, 10, 14, 0), True),
    (shanghai(2025, 3, 11, 1, 59, 59, 999999), True),
    (shanghai(2025, 3, 11, 2, 0), False),
    (utc(2025, 3, 10, 13, 59, 59, 999999), False),
]


@pytest.mark.parametrize(("at", "inside"), SHANGHAI_NIGHT, ids=[a.isoformat() for a, _ in SHANGHAI_NIGHT])
def test_weeknight_window_in_shanghai(catalog: Catalog, at: datetime, inside: bool) -> None:
    check(catalog, "shanghai-night", at, inside)


SHANGHAI_WEEKEND = [
    # Saturday 2025-03-08, the day the window's "from" (12:00 local) falls on.
    (shanghai(2025, 3, 8, 9, 0), False),
    (shanghai(2025, 3, 8, 11, 59, 59, 999999), False),
    (shanghai(2025, 3, 8, 12, 0), True),
    (utc(2025, 3, 8, 4, 0), True),
    (shanghai(2025, 3, 8, 16, 59, 59, 999999), True),
    (shanghai(2025, 3, 8, 17, 0), False),
    (shanghai(2025, 3, 9, 8, 59, 59, 999999), False),
    (shanghai(2025, 3, 9, 9, 0), True),
    (shanghai(2025, 3, 10, 10, 0), False),  # Monday
    (shanghai(2025, 3, 14, 10, 0), False),  # Friday
    (shanghai(2025, 3, 15, 10, 0), True),
    # Sunday 2025-03-16, the day the window's "until" (12:00 local) falls on.
    (shanghai(2025, 3, 16, 11, 59, 59, 999999), True),
    (shanghai(2025, 3, 16, 12, 0), False),
    (utc(2025, 3, 16, 4, 0), False),
    (shanghai(2025, 3, 22, 10, 0), False),  # a later Saturday
]


@pytest.mark.parametrize(("at", "inside"), SHANGHAI_WEEKEND, ids=[a.isoformat() for a, _ in SHANGHAI_WEEKEND])
def test_weekend_window_in_shanghai_with_limits(catalog: Catalog, at: datetime, inside: bool) -> None:
    check(catalog, "shanghai-weekend", at, inside)


NEW_YORK_CASES = [
    # 09:00-17:00 local: 14:00-22:00 UTC in winter (EST), 13:00-21:00 UTC after 2025-03-09 (EDT).
    ("ny-day", utc(2025, 3, 7, 13, 59, 59, 999999), False),
    ("ny-day", utc(2025, 3, 7, 14, 0), True),
    ("ny-day", utc(2025, 3, 7, 21, 59, 59, 999999), True),
    ("ny-day", utc(2025, 3, 7, 22, 0), False),
    ("ny-day", utc(2025, 3, 10, 12, 59, 59, 999999), False),
    ("ny-day", utc(2025, 3, 10, 13, 0), True),
    ("ny-day", utc(2025, 3, 10, 20, 59, 59, 999999), True),
    ("ny-day", utc(2025, 3, 10, 21, 0), False),
    # 01:00-03:00 local on the night clocks go forward (02:00 EST -> 03:00 EDT): one hour long.
    ("ny-early", utc(2025, 3, 9, 5, 59, 59, 999999), False),
    ("ny-early", utc(2025, 3, 9, 6, 0), True),
    ("ny-early", utc(2025, 3, 9, 6, 59, 59, 999999), True),
    ("ny-early", utc(2025, 3, 9, 7, 0), False),  # 03:00 EDT
    # ...and on the night they go back (02:00 EDT -> 01:00 EST): three hours long.
    ("ny-early", utc(2025, 11, 2, 4, 59, 59, 999999), False),
    ("ny-early", utc(2025, 11, 2, 5, 0), True),  # 01:00 EDT
    ("ny-early", utc(2025, 11, 2, 6, 0), True),  # 01:00 EST, the repeated hour
    ("ny-early", utc(2025, 11, 2, 7, 59, 59, 999999), True),  # 02:59:59 EST
    ("ny-early", utc(2025, 11, 2, 8, 0), False),
    # 23:00-01:30, Saturdays, past midnight into the repeated hour: the local clock reads
    # 01:00-01:30 twice that night, and both times it is inside the window.
    ("ny-saturday-night", utc(2025, 11, 2, 2, 59, 59, 999999), False),  # Sat 22:59:59 EDT
    ("ny-saturday-night", utc(2025, 11, 2, 3, 0), True),  # Sat 23:00 EDT
    ("ny-saturday-night", utc(2025, 11, 2, 5, 29, 59, 999999), True),  # Sun 01:29:59 EDT
    ("ny-saturday-night", utc(2025, 11, 2, 5, 30), False),  # Sun 01:30 EDT
    ("ny-saturday-night", utc(2025, 11, 2, 6, 0), True),  # Sun 01:00 EST
    ("ny-saturday-night", utc(2025, 11, 2, 6, 30), False),  # Sun 01:30 EST
    ("ny-saturday-night", utc(2025, 11, 9, 4, 0), True),  # next Sat 23:00 EST
    ("ny-saturday-night", utc(2025, 11, 3, 4, 0), False),  # Sun 23:00 EST
]


@pytest.mark.parametrize(("model_id", "at", "inside"), NEW_YORK_CASES,
                         ids=[f"{m}-{a.isoformat()}" for m, a, _ in NEW_YORK_CASES])
def test_windows_across_dst_changes(catalog: Catalog, model_id: str, at: datetime, inside: bool) -> None:
    check(catalog, model_id, at, inside)


@pytest.mark.parametrize("at", [utc(2025, 1, 19, 23, 59, 59, 999999), utc(2025, 12, 1)])
def test_no_price_outside_the_period_even_in_a_window(catalog: Catalog, at: datetime) -> None:
    with pytest.raises(NoPriceError):
        priced(catalog, "utc-night", at)


def test_period_edges_inside_the_window_hours(catalog: Catalog) -> None:
    # The period starts at midnight UTC, before the window's own "from": base price.
    assert priced(catalog, "utc-night", utc(2025, 1, 20)) == (OUTSIDE, None)
    # The period ends at 08:00 Beijing time on a Monday; the Thursday night before is its last window.
    assert priced(catalog, "shanghai-night", utc(2025, 11, 27, 17, 59, 59, 999999)) == (INSIDE, "night")


def test_the_shipped_format_example_night_window(make_catalog: Callable[..., Catalog]) -> None:
    # A window without limits and with every day: the whole history of the period.
    catalog = make_catalog('provider = "p"\n' + model("m", "w", "UTC", "16:30:00", "00:30:00"))
    assert priced(catalog, "m", utc(2025, 1, 20, 0, 29)) == (INSIDE, "w")  # before any "from"
    assert priced(catalog, "m", utc(2025, 11, 30, 23, 0)) == (INSIDE, "w")


@given(instants(datetime(2025, 1, 21), datetime(2025, 11, 29)),
       st.sampled_from(["utc-night", "shanghai-night", "shanghai-weekend", "ny-day", "ny-early",
                        "ny-saturday-night"]),
       st.sampled_from(ZONES))
def test_the_zone_an_instant_is_written_in_does_not_matter(at: datetime, model_id: str, zone: ZoneInfo) -> None:
    catalog = Catalog.loads(CATALOG)  # not the fixture: hypothesis runs many examples per fixture
    here = catalog.quote(Workload(model=model_id, output_tokens=1_000_000, at=at))
    there = catalog.quote(Workload(model=model_id, output_tokens=1_000_000, at=at.astimezone(zone)))
    assert msgspec.structs.replace(there, at=here.at) == here

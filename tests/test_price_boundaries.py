"""``Catalog.price_boundaries`` and ``zones.offset_changes``: where the price of a name may change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from pricing import Catalog, Usage
from pricing.projection import project
from pricing.zones import offset_changes

ROUTED = """
provider = "acme"

[[models]]
id = "old"
shutdown = 2025-06-01T00:00:00Z
shutdown_source = "https://example.com/shutdown"

[[models.periods]]
from = 2025-01-01T00:00:00Z
until = 2025-06-01T00:00:00Z
source = "https://example.com/old"
checked = 2025-01-01
input = 1
output = 2

[[models.routes]]
from = 2025-06-01T00:00:00Z
to = "new"
source = "https://example.com/route"
checked = 2025-06-01

[[models]]
id = "new"

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com/new"
checked = 2025-01-01
input = 2
output = 4

[[models.periods.windows]]
name = "night"
timezone = "America/New_York"
start = 23:00:00
end = 05:00:00
input = 1
output = 2
"""


def test_a_route_brings_its_targets_boundaries(make_catalog: Callable[..., Catalog]) -> None:
    catalog = make_catalog(ROUTED)
    found = catalog.price_boundaries("old", datetime(2025, 5, 31, tzinfo=UTC), datetime(2025, 6, 2, 12, tzinfo=UTC))
    # The shutdown and route instant, then the target's window at 23:00-05:00 New York (UTC-4).
    assert datetime(2025, 6, 1, tzinfo=UTC) in found
    assert {datetime(2025, 6, 1, 9, tzinfo=UTC), datetime(2025, 6, 2, 3, tzinfo=UTC),
            datetime(2025, 6, 2, 9, tzinfo=UTC)} <= set(found)
    assert list(found) == sorted(found)
    assert all(datetime(2025, 5, 31, tzinfo=UTC) < t < datetime(2025, 6, 2, 12, tzinfo=UTC) for t in found)


@given(st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]),
       st.integers(0, 3 * 365), st.integers(1, 400))
def test_offset_changes_are_exactly_where_the_offset_changes(name: str, day: int, days: int) -> None:
    zone = ZoneInfo(name)
    start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(days=day, minutes=17)
    end = start + timedelta(days=days)
    changes = offset_changes(zone, start, end)
    for t in changes:
        assert (t - timedelta(seconds=1)).astimezone(zone).utcoffset() != t.astimezone(zone).utcoffset()
    # Between consecutive changes the offset is constant (sampled hourly).
    edges = [start, *changes, end]
    for a, b in pairwise(edges):
        offsets = {(a + timedelta(hours=h)).astimezone(zone).utcoffset()
                   for h in range(int((b - a) / timedelta(hours=1)))}
        assert len(offsets) <= 1


def test_a_projection_follows_a_route_into_its_targets_windows(make_catalog: Callable[..., Catalog]) -> None:
    catalog = make_catalog(ROUTED)
    usage = Usage(input_tokens=1000, output_tokens=1000)
    p = project(catalog, "old", usage, datetime(2025, 5, 31, 12, tzinfo=UTC), datetime(2025, 6, 2, tzinfo=UTC),
                requests_per_hour=Decimal(1))
    # 12 hours of "old" at 0.003 a request, then "new": 6 night hours (03:00-09:00 UTC) at 0.003
    # and 18 hours at 0.006.
    assert p.total == Decimal("0.162") and p.exact
    assert [(x.window, x.starts.hour, x.until.hour) for x in p.parts] == [
        (None, 12, 0), (None, 0, 3), ("night", 3, 9), (None, 9, 0)]
    assert [x.model for x in p.parts] == ["old", "new", "new", "new"]

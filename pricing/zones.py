"""Instants where a time zone's offset changes, found from the zone itself (no table of rules).

zoneinfo exposes no list of transitions, so they are found by sampling the offset once a day and
bisecting to the second where it differs (transitions fall on whole seconds). Two transitions less
than a day apart would be missed; no zone in the tz database has them.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo

_DAY = timedelta(days=1)


def _offset(zone: tzinfo, at: datetime) -> timedelta | None:
    return at.astimezone(zone).utcoffset()


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def offset_changes(zone: tzinfo, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """The UTC instants in ``(start, end)`` at which ``zone``'s UTC offset changes, in order."""
    found: list[datetime] = []
    low = start.astimezone(UTC)
    end = end.astimezone(UTC)
    before = _offset(zone, low)
    while low < end:
        high = min(low + _DAY, end)
        after = _offset(zone, high)
        if after != before:
            lo = math.floor(low.timestamp())
            hi = math.ceil(high.timestamp())
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(zone, _at(mid)) == before:
                    lo = mid
                else:
                    hi = mid
            change = _at(hi)
            if start < change < end:
                found.append(change)
            before = after
        low = high
    return tuple(found)

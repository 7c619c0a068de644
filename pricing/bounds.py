"""One check for every decimal a caller gives the engine: finite, few places, bounded magnitude.

Projections, budgets and plans turn decimals into ``Fraction`` and multiply them exactly; a value
like ``1e99999999`` (a huge exponent) or ``1e-99999999`` would make that arithmetic run for minutes,
and a rate of 81 digits would overflow the 80-digit exact context. So every caller decimal is at most
``MAX_PLACES`` digits after the point and below ``LIMIT``, hence at most 35 significant digits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from pricing.errors import InvalidWorkloadError, PricingError

#: Most digits after the decimal point of a caller's number.
MAX_PLACES = 20
#: Every caller's number is below this (amounts, rates, request counts, weights).
LIMIT = Decimal("1e15")
#: The instants a caller may give: a year short of each end of ``datetime``'s range, so the local time
#: in any zone, a month's end or a day's span around them is still a ``datetime`` (the quote engine
#: refuses the same years).
EARLIEST = datetime(2, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def bounded(field: str, value: object, *, positive: bool = False, limit: Decimal = LIMIT,
            error: Callable[[str, str], PricingError] = InvalidWorkloadError) -> Decimal:
    """``value`` if it is a finite Decimal >= 0 (> 0 when ``positive``), at most ``MAX_PLACES``
    places and below ``limit``; else ``error(field, reason)``."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise error(field, f"must be a finite decimal number, got {value!r}")
    if value < 0 or (positive and value == 0):
        wanted = "greater than 0 (a positive number)" if positive else "a non-negative number"
        raise error(field, f"must be {wanted}, got {value}")
    # These tests read the exponent only: no arithmetic on a value that could be enormous.
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise error(field, f"{value} has more than {MAX_PLACES} digits after the point")
    if value >= limit:
        raise error(field, f"must be below {limit:f}, got {value}")
    return value


def within_calendar(field: str, at: datetime,
                    error: Callable[[str, str], PricingError] = InvalidWorkloadError) -> datetime:
    """``at`` (aware) if it lies between the years 0002 and 9998; else ``error(field, reason)``."""
    # Compared, not converted: converting 0001-01-01T00:00:00+14:00 to UTC is itself out of range.
    if not EARLIEST <= at <= LATEST:
        raise error(field, f"{at.isoformat()} is too far from today to price: use an instant between "
                    "the years 0002 and 9998")
    return at

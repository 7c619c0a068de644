"""One check for every decimal a caller gives the engine: finite, few places, bounded magnitude.

Projections, budgets and plans turn decimals into ``Fraction`` and multiply them exactly; a value
like ``1e99999999`` (a huge exponent) or ``1e-99999999`` would make that arithmetic run for minutes,
and a rate of 81 digits would overflow the 80-digit exact context. So every caller decimal is at most
``MAX_PLACES`` digits after the point and below ``LIMIT``, hence at most 35 significant digits.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from pricing.errors import InvalidWorkloadError, PricingError

#: Most digits after the decimal point of a caller's number.
MAX_PLACES = 20
#: Every caller's number is below this (amounts, rates, request counts, weights).
LIMIT = Decimal("1e15")


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

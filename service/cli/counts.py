"""Human token counts for the CLI: ``350k``, ``1.2M``, ``2B``, ``1_200_000``, ``1,200,000``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIX = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
# Digits, grouped by threes with ',' or '_' if at all (so a decimal comma, "1,5M", is refused rather
# than read as 15M), an optional fraction, an optional k/M/B suffix.
_COUNT = re.compile(
    r"^(?P<number>(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:_\d{3})+|\d+)(?:\.\d+)?|\.\d+)\s*(?P<suffix>[kKmMbB]?)$",
    re.ASCII,
)


def parse_count(text: str) -> int:
    """The whole number ``text`` means; ``ValueError`` with a one-line reason otherwise.

    Suffixes are decimal (k = 1,000, M = 1,000,000, B = 1,000,000,000), any case; the value is
    computed exactly, so ``1.2M`` is 1,200,000 and ``1.2345k`` is refused (1,234.5 is not whole).
    """
    match = _COUNT.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a token count: use a whole number like 350000, 350k, 1.2M or 2B")
    try:
        number = Decimal(match["number"].replace("_", "").replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern only lets decimal digits through
        raise ValueError(f"{text!r} is not a number") from None
    value = number * _SUFFIX[match["suffix"].lower()]
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} is {value.normalize():f}: not a whole number")
    return int(value)


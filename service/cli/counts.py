"""Human token counts for the CLI: ``350k``, ``1.2M``, ``2B``, ``1_200_000``, ``1,200,000``."""

from __future__ import annotations

import re

_SUFFIX = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
# Digits, grouped by threes with ',' or '_' if at all (so a decimal comma, "1,5M", is refused rather
# than read as 15M), an optional fraction, an optional k/M/B suffix.
_COUNT = re.compile(
    r"^(?P<number>(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:_\d{3})+|\d+)(?:\.\d+)?|\.\d+)\s*(?P<suffix>[kKmMbB]?)$",
    re.ASCII,
)


#: Most digits read in a count: ten billion tokens (the engine's limit per field) has 11.
_MAX_DIGITS = 30


def parse_count(text: str) -> int:
    """The whole number ``text`` means; ``ValueError`` with a one-line reason otherwise.

    Suffixes are decimal (k = 1,000, M = 1,000,000, B = 1,000,000,000), any case; the value is
    computed exactly, in integers, so ``1.2M`` is 1,200,000 and ``1.2345k`` is refused (1,234.5 is
    not whole), however many digits the fraction has.
    """
    if len(text) > 200:
        raise ValueError(f"{text[:40]!r}... ({len(text):,} characters) is not a token count")
    match = _COUNT.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a token count: use a whole number like 350000, 350k, 1.2M or 2B")
    whole, _, fraction = match["number"].replace("_", "").replace(",", "").partition(".")
    whole = whole.lstrip("0")
    fraction = fraction.rstrip("0")
    if len(whole) + len(fraction) > _MAX_DIGITS:
        raise ValueError(f"{text!r} has more digits than any token count ({_MAX_DIGITS} at most)")
    scale = _SUFFIX[match["suffix"].lower()]
    numerator: int = int(whole or "0") * 10 ** len(fraction) + int(fraction or "0")
    value, remainder = divmod(numerator * scale, int(10 ** len(fraction)))
    if remainder:
        exact = f"{value}.{str(remainder).rjust(len(fraction), '0').rstrip('0')}"
        raise ValueError(f"{text!r} is {exact}: not a whole number")
    return value


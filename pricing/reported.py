"""What a provider says it billed, made comparable with what we price: pure and exact.

Cost reports give amounts per bucket (a day, a model, a line kind), in the currency's minor units;
usage rows are finer (a bucket is priced as several rows of equal-sized requests). These functions
turn a report's amount into the currency's major units and share a bucket's amount over its rows,
without ever losing a digit of the bucket's total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_DOWN, Context, Decimal, Inexact, InvalidOperation, Rounded

from pricing.catalog import EXACT

#: ISO 4217 minor-unit digits of the currencies a cost report is known to use.
MINOR_DIGITS = {"USD": 2}
#: An apportioned share is cut toward zero at this many places (the digits ``reported_cost`` is read to).
SHARE_PLACES = 18
# Cutting a share is the one rounding here; whatever it cuts goes to the bucket's last row.
_CUT = Context(prec=80, rounding=ROUND_DOWN, traps=[InvalidOperation])


def from_minor_units(text: str, currency: str) -> Decimal:
    """``text`` ("123.45", cents of USD) as an amount in the currency's major units ($1.2345), exactly.

    Raises ``ValueError`` for text that is not a finite decimal, or a currency whose minor unit is unknown.
    """
    digits = MINOR_DIGITS.get(currency)
    if digits is None:
        raise ValueError(f"amounts in {currency!r} cannot be converted (known: {', '.join(MINOR_DIGITS)})")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal amount") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a decimal amount")
    return value.scaleb(-digits, context=EXACT)


def total(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of ``amounts``."""
    out = Decimal(0)
    for amount in amounts:
        out = EXACT.add(out, amount)
    return out


def apportion(amount: Decimal, weights: Sequence[int]) -> list[Decimal]:
    """``amount`` shared over rows in proportion to ``weights`` (their token counts), adding up to
    ``amount`` exactly.

    Each share is ``amount * weight / sum(weights)`` cut toward zero at ``SHARE_PLACES`` places; the
    last row with a weight takes what is left, so the shares' sum is ``amount`` to the last digit.
    With no weight at all (a bill for tokens the usage does not show) the first row takes it all.
    """
    if not weights:
        raise ValueError("no rows to share an amount over")
    whole = sum(weights)
    if whole == 0:
        return [amount] + [Decimal(0)] * (len(weights) - 1)
    last = max(i for i, w in enumerate(weights) if w)
    quantum = Decimal(1).scaleb(-SHARE_PLACES)
    shares = []
    for weight in weights:
        try:
            share = EXACT.divide(EXACT.multiply(amount, weight), whole)
        except (Inexact, Rounded):
            share = _CUT.divide(_CUT.multiply(amount, weight), whole)
        shares.append(share.quantize(quantum, context=_CUT))
    shares[last] = EXACT.subtract(amount, total(s for i, s in enumerate(shares) if i != last))
    return shares

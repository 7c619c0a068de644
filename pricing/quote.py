"""The result of pricing: a ``Quote`` of itemised ``Line``s, and rounding on request."""

from __future__ import annotations

from datetime import date, datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Annotated, Literal

import msgspec

LineKind = Literal["input", "cached_input", "cache_write", "cache_write_1h", "output"]


# gc=False: quotes hold only strings, numbers, dates and each other, never a cycle, so the garbage
# collector need not track them (a 10,000-workload batch makes 50,000 of these).
class Line(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One priced part of a workload: ``tokens`` over all requests at ``rate`` per million."""

    kind: LineKind
    tokens: int
    rate: Decimal
    amount: Decimal


class Quote(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An exact, itemised price, and everything needed to reproduce it.

    ``total`` is the exact sum of the line amounts: nothing is rounded (see ``round_quote``).
    ``source``, ``checked``, ``period_from``/``period_until``, ``window`` and ``tier`` say which
    published price was used; ``catalog_digest`` identifies the catalog that held it.
    """

    model: str
    provider: str
    currency: str
    at: datetime
    requests: int
    batch: bool
    lines: tuple[Line, ...]
    total: Decimal
    source: str
    checked: date
    period_from: datetime
    period_until: datetime | None
    #: The recurring window whose rates applied (an off-peak discount), if any.
    window: str | None
    #: The prompt-size tier that applied, as ``">200000"``, if any.
    tier: str | None
    catalog_digest: str
    routed_from: Annotated[str | None, msgspec.Meta(description=(
        "When the name asked for is billed as another model (a route in the catalog): the canonical "
        "id of the model asked for; `model` is then the model it is billed as. None otherwise."
    ))] = None


class RankedQuote(Quote, frozen=True, kw_only=True):
    """A quote in a comparison, with its saving against the baseline in percent.

    ``savings_percent`` is ``(baseline - total) / baseline * 100`` rounded half-even to 2 places
    (negative when dearer); ``None`` without a baseline, when the baseline costs nothing, or when
    the currencies differ.
    """

    savings_percent: Decimal | None = None


#: Digits after the decimal point of each currency's minor unit; others default to 2.
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "CNY": 2, "JPY": 0, "KRW": 0}


#: Rounding runs in this context, not the caller's: a caller's low precision (or traps turned off)
#: would otherwise fail the quantize or turn the result into NaN. quantize needs as many digits as
#: the amount has, and allocates only those, so the maximal precision costs nothing.
_ROUNDING = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation])


def round_money(amount: Decimal, currency: str, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``amount`` rounded to ``currency``'s minor unit (cents for USD), half-even by default."""
    unit = Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2), context=_ROUNDING)
    return amount.quantize(unit, rounding=rounding, context=_ROUNDING)


def round_quote(quote: Quote, rounding: str = ROUND_HALF_EVEN) -> Quote:
    """A copy of ``quote`` with every amount and the total rounded to the currency's minor unit.

    The total is rounded from the exact total, not summed from rounded lines, so the rounded lines
    can differ from the rounded total by a minor unit or so; rates are left exact.
    """
    lines = tuple(
        msgspec.structs.replace(line, amount=round_money(line.amount, quote.currency, rounding))
        for line in quote.lines
    )
    return msgspec.structs.replace(
        quote, lines=lines, total=round_money(quote.total, quote.currency, rounding)
    )

"""The result of pricing: a ``Quote`` of itemised ``Line``s, and rounding on request."""

from __future__ import annotations

from datetime import date, datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Annotated, Literal

import msgspec

from pricing.schema import doc

_MONEY = 'an exact decimal in a JSON string, e.g. "2.19"; never rounded'



LineKind = Literal["input", "cached_input", "cache_write", "cache_write_1h", "output"]


# gc=False: quotes hold only strings, numbers, dates and each other, never a cycle, so the garbage
# collector need not track them (a 10,000-workload batch makes 50,000 of these).
class Line(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One priced part of a workload: ``tokens`` over all requests at ``rate`` per million."""

    kind: Annotated[LineKind, doc(
        "What the tokens are: uncached `input`, `cached_input` (cache reads), `cache_write` (5-minute cache "
        "writes), `cache_write_1h` (1-hour cache writes) or `output` (reasoning included).")]
    tokens: Annotated[int, doc("Tokens of this kind over all requests (per-request count times `requests`).")]
    rate: Annotated[Decimal, doc(f"Price per million tokens in the quote's currency: {_MONEY}.")]
    amount: Annotated[Decimal, doc(f"`tokens` x `rate` / 1,000,000: {_MONEY}.")]


class Quote(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An exact, itemised price, and everything needed to reproduce it.

    ``total`` is the exact sum of the line amounts: nothing is rounded (see ``round_quote``).
    ``source``, ``checked``, ``period_from``/``period_until``, ``window`` and ``tier`` say which
    published price was used; ``catalog_digest`` identifies the catalog that held it.
    """

    model: Annotated[str, doc("Canonical id of the model priced.")]
    provider: Annotated[str, doc("The provider selling it.")]
    currency: Annotated[str, doc("ISO 4217 currency of every amount in this quote.")]
    at: Annotated[datetime, doc("The instant priced (RFC 3339): the request's `at`, or the time of the request.")]
    requests: Annotated[int, doc("Number of requests priced.")]
    batch: Annotated[bool, doc("Whether the provider's batch-API rates were used.")]
    lines: Annotated[tuple[Line, ...], doc("The itemised lines; their amounts add up to `total`.")]
    total: Annotated[Decimal, doc(f"The exact sum of the line amounts: {_MONEY}.")]
    source: Annotated[str, doc("URL of the published price this quote used.")]
    checked: Annotated[date, doc("Date the price was last checked against `source`.")]
    period_from: Annotated[datetime, doc("Start of the price period used.")]
    period_until: Annotated[datetime | None, doc(
        "End of the price period used (exclusive); null while the price is current.")]
    window: Annotated[str | None, doc(
        "Name of the recurring window whose rates applied (an off-peak discount, e.g. `off-peak`), if any.")]
    tier: Annotated[str | None, doc("The prompt-size tier that applied, as `>200000`, if any.")]
    catalog_digest: Annotated[str, doc("SHA-256 of the catalog that held the price (see `GET /healthz`).")]
    routed_from: Annotated[str | None, doc(
        "When the name asked for is billed as another model (a route in the catalog): the canonical id of "
        "the model asked for; `model` is then the model it is billed as. Null otherwise.")] = None


class RankedQuote(Quote, frozen=True, kw_only=True):
    """A quote in a comparison, with its saving against the baseline in percent.

    ``savings_percent`` is ``(baseline - total) / baseline * 100`` rounded half-even to 2 places
    (negative when dearer); ``None`` without a baseline, when the baseline costs nothing, or when
    the currencies differ.
    """

    savings_percent: Annotated[Decimal | None, doc(
        "(baseline total - this total) / baseline total x 100, rounded half-even to 2 places, as a decimal "
        "string (negative: dearer than the baseline); null without a baseline, when the baseline costs "
        "nothing, or in another currency.")] = None


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

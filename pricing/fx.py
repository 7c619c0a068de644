"""Currency conversion at the caller's own rates: nothing fetched, nothing guessed, nothing mixed.

A rate is written as a pair, ``{"USD/VND": "25000"}``: one US dollar is 25,000 dong. Only the pair
asked for converts (an inverse pair is not inverted: the division would not be exact); amounts in
different currencies are never added without one.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from fractions import Fraction

import msgspec

from pricing.bounds import bounded
from pricing.catalog import EXACT
from pricing.errors import PricingError
from pricing.quote import Line, Quote

#: ISO 4217 active codes and the digits of their minor unit (list one of the standard, as
#: maintained by SIX: https://www.six-group.com/en/products-services/financial-information/data-standards.html,
#: transcribed 2026-12-01). Funds codes (BOV, CHE, ...) are included; precious metals (XAU...) are not.
ISO_4217: dict[str, int] = {
    **dict.fromkeys(
        ["AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "USN", "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG"], 2),
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


class CurrencyError(PricingError, ValueError):
    """An unknown currency code, a malformed rate, or a conversion no rate was given for."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class MissingRateError(CurrencyError):
    """No rate for a pair a conversion needs; ``pair`` names it (``"USD/VND"``)."""

    def __init__(self, pair: str) -> None:
        self.pair = pair
        super().__init__("fx", f"no rate for {pair}: add it, e.g. \"fx\": {{\"{pair}\": \"...\"}} "
                               f"(1 {pair.split('/')[0]} in {pair.split('/')[1]})")


def check_currency(code: str, field: str = "currency") -> str:
    """``code`` if it is an ISO 4217 currency code (upper case), else a ``CurrencyError``."""
    if not isinstance(code, str) or code not in ISO_4217:
        raise CurrencyError(field, f"{code!r} is not an ISO 4217 currency code (e.g. USD, EUR, CNY, VND)")
    return code


def check_rates(fx: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """The caller's rates, each pair ``"AAA/BBB"`` of known codes with a finite positive rate."""
    checked: dict[str, Decimal] = {}
    for pair, rate in fx.items():
        field = f"fx.{pair}"
        base, slash, quote = pair.partition("/")
        if not slash:
            raise CurrencyError(field, "a rate is named by its pair, e.g. \"USD/VND\"")
        check_currency(base, field)
        check_currency(quote, field)
        checked[pair] = bounded(field, rate, positive=True, error=CurrencyError)
    return checked


def rate(source: str, target: str, fx: Mapping[str, Decimal]) -> Decimal:
    """The rate converting ``source`` amounts into ``target`` (1 for the same currency)."""
    if source == target:
        return Decimal(1)
    pair = f"{source}/{target}"
    if pair not in fx:
        raise MissingRateError(pair)
    return fx[pair]


def convert(amount: Decimal, source: str, target: str, fx: Mapping[str, Decimal]) -> Decimal:
    """``amount`` in ``source`` expressed in ``target``: exact multiplication by the caller's rate."""
    return EXACT.multiply(amount, rate(source, target, fx))


def convert_fraction(amount: Fraction, source: str, target: str, fx: Mapping[str, Decimal]) -> Fraction:
    """``convert`` for an exact rational amount (projections)."""
    return amount * Fraction(rate(source, target, fx))


def convert_quote(quote: Quote, target: str, fx: Mapping[str, Decimal]) -> Quote:
    """``quote`` with its rates, line amounts and total in ``target`` (exact, nothing rounded)."""
    check_currency(target)
    factor = rate(quote.currency, target, check_rates(fx))
    lines = tuple(
        Line(kind=line.kind, tokens=line.tokens, rate=EXACT.multiply(line.rate, factor),
             amount=EXACT.multiply(line.amount, factor))
        for line in quote.lines
    )
    return msgspec.structs.replace(quote, currency=target, lines=lines, total=EXACT.multiply(quote.total, factor))


_ROUNDING = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation])


def round_minor(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half-even to ``currency``'s ISO 4217 minor unit (none for VND and JPY)."""
    unit = Decimal(1).scaleb(-ISO_4217[check_currency(currency)], context=_ROUNDING)
    return amount.quantize(unit, rounding=ROUND_HALF_EVEN, context=_ROUNDING)

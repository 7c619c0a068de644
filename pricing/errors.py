"""Every error the engine raises is a ``PricingError``; each says what to do about it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


class PricingError(Exception):
    """Base class of every error raised by :mod:`pricing`."""

    #: Position of the workload that failed, when raised by ``Catalog.quote_many``.
    index: int | None = None


class UnknownModelError(PricingError, LookupError):
    """The model name matches no model or alias in the catalog."""

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown model {name!r}{hint}")


class AmbiguousModelError(UnknownModelError):
    """The name is sold by several providers; a provider-qualified name picks one."""

    def __init__(self, name: str, candidates: Sequence[str]) -> None:
        self.name = name
        self.suggestions = tuple(candidates)
        PricingError.__init__(
            self,
            f"model {name!r} is sold by several providers; "
            f"name one of: {', '.join(self.suggestions)}",
        )


class InvalidWorkloadError(PricingError, ValueError):
    """A workload field has a value the engine cannot price."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class NoPriceError(PricingError):
    """The model has no price for this workload at that instant (or no batch price)."""

    def __init__(self, model: str, at: datetime | None, reason: str) -> None:
        self.model = model
        self.at = at
        self.reason = reason
        super().__init__(f"no price for {model!r}: {reason}")


class NoBatchPriceError(NoPriceError):
    """The model has a price at that instant, but no batch-API price."""


class NoCurrencyPriceError(NoPriceError):
    """The model has no price list in the currency asked for; ``available`` lists the ones it has."""

    def __init__(
        self, model: str, at: datetime | None, currency: str, available: Sequence[str], reason: str | None = None
    ) -> None:
        self.currency = currency
        self.available = tuple(available)
        super().__init__(model, at, reason or (
            f"{model} has no price list in {currency}; it is priced in {', '.join(self.available)} "
            f"(set currency to one of them, or leave it out for {self.available[0]})"))


class CatalogError(PricingError):
    """A catalog file is malformed; the message names the file and the field."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        self.file = file
        self.path = path
        self.reason = reason
        where = f"{file}: {path}" if path else file
        super().__init__(f"{where}: {reason}")

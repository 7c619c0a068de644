"""Checks of a usage run's options against the catalog, before any row is read.

Light (no DuckDB, no Arrow): ``POST /v1/usage`` runs them to answer 400 naming the parameter, and
``price_usage`` runs them for the CLI and the Python API.
"""

from __future__ import annotations

import re

from pricing import AmbiguousModelError, Catalog, UnknownModelError
from service.usage.errors import UsageInputError


def check_currency(currency: str | None, catalog: Catalog) -> None:
    """Refuse a currency that is not an ISO 4217 code, or that no model of ``catalog`` is priced in
    (every row would fail)."""
    if currency is None:
        return
    if not isinstance(currency, str) or re.fullmatch("[A-Z]{3}", currency) is None:
        raise UsageInputError("--currency", f"must be an ISO 4217 code in capitals such as 'USD' or 'CNY', "
                              f"got {currency!r}")
    listed = sorted({p.currency for m in catalog.models() for p in m.periods})
    if currency not in listed:
        raise UsageInputError("--currency", f"no model of the catalog has a price list in {currency!r}: "
                              f"give one of {', '.join(listed)}")


#: Models one run may be repriced on: each is one more pass of the engine over the whole input.
MAX_REPRICE = 10


def check_reprice_on(names: tuple[str, ...], catalog: Catalog) -> None:
    """Refuse a ``--reprice-on`` name the catalog cannot resolve to one model, naming close matches,
    and more than ``MAX_REPRICE`` models."""
    if len(names) > MAX_REPRICE:
        raise UsageInputError("--reprice-on", f"at most {MAX_REPRICE} models at a time (each is one more pass "
                              f"over the input), got {len(names)}")
    seen: set[str] = set()
    for name in names:
        if not name.strip():
            raise UsageInputError("--reprice-on", "an empty model name: give MODEL[,MODEL...]")
        try:
            model = catalog.model(name)
        except (UnknownModelError, AmbiguousModelError) as exc:
            raise UsageInputError("--reprice-on", f"{name!r}: {exc}") from None
        key = f"{model.provider}/{model.id}"
        if key in seen:
            raise UsageInputError("--reprice-on", f"{name!r} names {key} a second time")
        seen.add(key)

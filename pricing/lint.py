"""``catalog check``: the warnings a maintainer wants before shipping a catalog.

Hard errors (a file that does not load) come from the loader; this module looks for what loads but is
probably wrong: cache reads dearer than input, prices or routes not checked for a long time, two
models with the same history to the letter (a copy-paste), gaps in a model's history, a model still
priced after its announced shutdown, and an alias another provider's model also answers to.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import msgspec

from pricing.catalog import Catalog
from pricing.errors import PricingError
from pricing.schema import Model, Period, Pricing, Rates

#: A price not checked against its source for this long gets a warning.
STALE_AFTER_DAYS = 180


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """One lint warning: which model and where, and what looks wrong."""

    model: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.model}: {self.where}: {self.message}"


def lint(catalog: Catalog, today: date, stale_after_days: int = STALE_AFTER_DAYS) -> list[Finding]:
    """Every warning for ``catalog`` as of ``today``, model by model."""
    findings: list[Finding] = []
    histories: dict[tuple[object, ...], list[Model]] = {}
    for model in catalog.models():
        key = f"{model.provider}/{model.id}"
        findings.extend(Finding(model=key, where=w, message=m) for w, m in _model_findings(model, today, stale_after_days))
        twins = histories.setdefault(_history_fingerprint(model), [])
        undeclared = [t for t in twins if not _declared_twins(model, t)]
        if undeclared:
            other = undeclared[0]
            findings.append(Finding(
                model=key, where="periods",
                message=f"same rates and dates as {other.provider}/{other.id} in every period: a copy-paste? "
                        "(if deliberate, set same_prices_as on one of them)",
            ))
        twins.append(model)
    findings.extend(_shared_aliases(catalog))
    return findings


def _shared_aliases(catalog: Catalog) -> Iterator[Finding]:
    owners: dict[str, list[Model]] = {}
    for model in catalog.models():
        for label in {model.id.lower(), *(a.lower() for a in model.aliases)}:
            owners.setdefault(label, []).append(model)
    for model in catalog.models():
        for j, alias in enumerate(model.aliases):
            others = [f"{o.provider}/{o.id}" for o in owners[alias.lower()] if o.provider != model.provider]
            if not others:
                continue
            try:
                meant = catalog.model(alias)
                resolves = f"the bare name means {meant.provider}/{meant.id}"
            except PricingError:
                resolves = "the bare name is ambiguous: users must write provider/name"
            yield Finding(model=f"{model.provider}/{model.id}", where=f"aliases[{j}]",
                          message=f"alias {alias!r} is also a name of {', '.join(others)} ({resolves}); "
                                  "is it the same model, and the name the provider's API accepts?")


def _declared_twins(a: Model, b: Model) -> bool:
    if a.provider != b.provider:
        return False
    names = {a.id, *a.aliases, b.id, *b.aliases}
    # Twins of one model are twins of each other too.
    shared = a.same_prices_as is not None and a.same_prices_as == b.same_prices_as
    return shared or a.same_prices_as in names or b.same_prices_as in names


def _model_findings(model: Model, today: date, stale_after_days: int) -> Iterator[tuple[str, str]]:
    yield from _shutdown_findings(model, today)
    for k, route in enumerate(model.routes):
        age = (today - route.checked).days
        if age > stale_after_days:
            yield (f"routes[{k}] (from {route.starts.date()})",
                   f"checked {age} days ago ({route.checked}); check it against {route.source}")
    for i, period in enumerate(model.periods):
        where = f"periods[{i}] (from {period.starts.date()})"
        age = (today - period.checked).days
        if age > stale_after_days:
            yield where, f"checked {age} days ago ({period.checked}); check it against {period.source}"
        if age < 0:
            yield where, f"checked date {period.checked} is in the future"
        for label, pricing in _pricings(period):
            for tier_label, rates in _rates(pricing):
                yield from ((f"{where}{label}{tier_label}", m) for m in _rate_findings(rates))
        # Each currency is its own price list: a gap is between two periods of one currency.
        following_period = next((p for p in model.periods[i + 1:] if p.currency == period.currency), None)
        if following_period is not None and period.until is not None:
            following = following_period.starts
            if period.until < following:
                yield where, f"gap in the history: no price from {period.until.isoformat()} to {following.isoformat()}"


def _shutdown_findings(model: Model, today: date) -> Iterator[tuple[str, str]]:
    shutdown = model.shutdown
    if shutdown is None or shutdown.date() > today:
        return
    if any(route.starts <= shutdown for route in model.routes):
        return  # billed as another model from the shutdown on: its own periods no longer price it
    for i, period in enumerate(model.periods):
        end = _end(model, i)
        if end is None or end > shutdown:
            ends = "is open-ended" if end is None else f"runs until {end.isoformat()}"
            yield (f"periods[{i}] (from {period.starts.date()})",
                   f"the model was shut down on {shutdown.date()} ({model.shutdown_source}) but this period "
                   f"{ends}: end it there (until = {shutdown.isoformat()}) or add a route to the model "
                   "that replaces it")


def _end(model: Model, i: int) -> datetime | None:
    period = model.periods[i]
    if period.until is not None:
        return period.until
    following = next((p for p in model.periods[i + 1:] if p.currency == period.currency), None)
    return None if following is None else following.starts


def _pricings(period: Period) -> Iterator[tuple[str, Pricing]]:
    yield "", period
    if period.batch is not None:
        yield ".batch", period.batch
    for k, window in enumerate(period.windows):
        yield f".windows[{k}]", window


def _rates(pricing: Pricing) -> Iterator[tuple[str, Rates]]:
    yield "", pricing
    for k, tier in enumerate(pricing.tiers):
        yield f".tiers[{k}]", tier


def _rate_findings(rates: Rates) -> Iterator[str]:
    if rates.cached_input is not None and rates.cached_input > rates.input:
        yield f"cached input {rates.cached_input} costs more than input {rates.input}"
    if rates.input == 0 and rates.output == 0:
        yield "input and output are both free: is this right?"


def _history_fingerprint(model: Model) -> tuple[object, ...]:
    # Everything that prices a request, and nothing that documents it (source, checked, note).
    return tuple(
        msgspec.structs.astuple(msgspec.structs.replace(p, source="", checked=date.min, note=""))
        for p in model.periods
    )

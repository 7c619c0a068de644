"""The load mix never aims at an instant the service must refuse: after a route or a shutdown, or in a
price list a workload without ``currency`` does not use."""

from __future__ import annotations

from datetime import UTC, datetime

from load.mix import parse_models, priced_at, spans
from pricing import Catalog, NoPriceError, Workload
from service import responses
from tests.test_engine_routes_currency import CATALOG


def test_spans_and_priced_at_follow_routes_shutdowns_and_the_default_currency() -> None:
    catalog = Catalog.loads(CATALOG, names=["acme.toml"])
    models = parse_models(responses.encode_models(catalog, catalog.models()))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    found = spans(models, now)
    assert found
    for span in found:
        for at in (span.lo, span.hi - (span.hi - span.lo) / 1000):
            quote = catalog.quote(Workload(model=span.model, input_tokens=1, at=at))
            assert quote.routed_from is None and quote.currency == "USD", (span, at)
    for at in (datetime(2025, 2, 15, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC), now):
        for key in priced_at(models, at):
            catalog.quote(Workload(model=key, input_tokens=1, at=at))
        unpriced = {f"{m.provider}/{m.id}" for m in catalog.models()} - set(priced_at(models, at))
        for key in unpriced:
            try:
                quote = catalog.quote(Workload(model=key, input_tokens=1, at=at))
            except NoPriceError:
                continue
            assert quote.routed_from is not None, (key, at)

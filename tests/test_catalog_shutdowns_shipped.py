"""Announced shutdowns in the shipped catalog: priced to the last instant, no price from the shutdown on."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pricing import Catalog, NoPriceError, Workload

CATALOG = Catalog.default()
TICK = timedelta(microseconds=1)
#: Providers that fail requests to a retired model (none of them routes a retired name elsewhere).
NO_ROUTES = {"openai", "anthropic", "azure", "bedrock", "groq", "together", "fireworks"}
WITH_SHUTDOWN = [pytest.param(m, id=f"{m.provider}/{m.id}") for m in CATALOG.models()
                 if m.shutdown is not None and m.provider in NO_ROUTES]


def _quote(name: str, at: datetime) -> object:
    return CATALOG.quote(Workload(model=name, input_tokens=1000, output_tokens=1000, at=at))


def test_the_announced_shutdowns_are_data() -> None:
    names = {f"{m.provider}/{m.id}": m.shutdown for m in CATALOG.models() if m.shutdown is not None}
    assert names["openai/gpt-5"] == datetime.fromisoformat("2026-12-11T00:00:00+00:00")
    assert names["openai/gpt-4.1"] == datetime.fromisoformat("2027-01-14T00:00:00+00:00")
    assert names["anthropic/claude-opus-4"] == datetime.fromisoformat("2026-06-15T16:00:00+00:00")
    assert names["anthropic/claude-sonnet-4-5"] == datetime.fromisoformat("2026-11-30T00:00:00+00:00")
    assert names["groq/llama-3.3-70b"] == datetime.fromisoformat("2026-08-16T00:00:00+00:00")


@pytest.mark.parametrize("model", WITH_SHUTDOWN)
def test_priced_until_the_shutdown_and_not_after(model) -> None:  # type: ignore[no-untyped-def]
    assert model.shutdown_source.startswith("https://")
    assert not model.routes
    name = f"{model.provider}/{model.id}"
    last = model.periods[-1]
    assert last.until == model.shutdown
    _quote(name, model.shutdown - TICK)
    with pytest.raises(NoPriceError):
        _quote(name, model.shutdown)

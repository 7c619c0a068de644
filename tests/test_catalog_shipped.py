"""The shipped catalog: every model prices across its whole history, and nothing before it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pricing import Catalog, Model, NoPriceError, Workload

CATALOG = Catalog.default()
MODELS = [pytest.param(m, id=f"{m.provider}/{m.id}") for m in CATALOG.models()]
TICK = timedelta(microseconds=1)


def _workload(model: Model, at, batch: bool = False, currency: str | None = None) -> Workload:  # type: ignore[no-untyped-def]
    return Workload(model=f"{model.provider}/{model.id}", input_tokens=10_000, cached_input_tokens=4_000,
                    cache_write_tokens=1_000, output_tokens=2_000, requests=3, at=at, batch=batch,
                    currency=currency)


def _following(model: Model, i: int):  # type: ignore[no-untyped-def]
    """The start of the next period in period ``i``'s price list (each currency is its own timeline)."""
    currency = model.periods[i].currency
    return next((p.starts for p in model.periods[i + 1:] if p.currency == currency), None)


def test_the_catalog_is_broad() -> None:
    assert len(CATALOG.models()) >= 40
    assert {"openai", "anthropic", "google", "deepseek", "mistral", "xai"} <= set(CATALOG.providers())
    hosts = {"together", "fireworks", "groq", "bedrock"} & set(CATALOG.providers())
    assert len(hosts) >= 2


@pytest.mark.parametrize("model", MODELS)
def test_model_prices_in_every_period_and_not_before_launch(model: Model) -> None:
    for i, period in enumerate(model.periods):
        instants = [period.starts]
        following = _following(model, i)
        end = period.until or following
        if end is not None:
            instants += [period.starts + (end - period.starts) / 2, end - TICK]
        for at in instants:
            quote = CATALOG.quote(_workload(model, at, currency=period.currency))
            assert quote.period_from == period.starts
            assert quote.source == period.source
            assert quote.currency == period.currency
            assert quote.total > 0 or (period.input == 0 and period.output == 0)
            if period.batch is not None:
                assert CATALOG.quote(_workload(model, at, batch=True, currency=period.currency)).batch
    firsts = {}
    for period in model.periods:
        firsts.setdefault(period.currency, period.starts)
    for currency, first in firsts.items():
        named = f"{currency} " if len(firsts) > 1 else ""
        with pytest.raises(NoPriceError, match=f"no {named}price before"):
            CATALOG.quote(_workload(model, first - TICK, currency=currency))


WINDOWED = [p for p in MODELS if any(period.windows for period in p.values[0].periods)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", WINDOWED)
def test_windows_apply_at_their_first_start(model: Model) -> None:
    """At the first local start time of each window, a quote names an active window and uses its rates."""
    for i, period in enumerate(model.periods):
        following = _following(model, i)
        end = min(filter(None, [period.until, following]), default=None)
        for window in period.windows:
            zone = ZoneInfo(window.timezone)
            begin = max(filter(None, [period.starts, window.starts]))
            day = begin.astimezone(zone).date()
            at = None
            for offset in range(15):
                candidate = datetime.combine(day + timedelta(days=offset), window.start, zone)
                weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[candidate.weekday()]
                if (candidate >= begin and (not window.days or weekday in window.days)
                        and candidate.date() not in window.except_dates):
                    at = candidate
                    break
            assert at is not None, f"window {window.name!r} never starts within two weeks of {begin}"
            if (end is not None and at >= end) or (window.until is not None and at >= window.until):
                continue  # the window ends before it first opens: nothing to price
            quote = CATALOG.quote(_workload(model, at, currency=period.currency))
            assert quote.window is not None, f"{window.name!r} should be active at {at}"
            active = next(w for w in period.windows if w.name == quote.window)
            assert {line.kind: line.rate for line in quote.lines}["output"] == active.output

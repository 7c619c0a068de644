"""The load test's request mix: drawn from the catalog the service serves, it only sends requests the
service must answer 200, and it covers what real traffic has (price history, off-peak windows,
long-context tiers, batch rates, caches, reasoning-heavy outputs)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from load.mix import HORIZON, Mix, Span, _instant, parse_models, priced_at
from pricing import Catalog, Usage, Workload
from service import responses
from service.api import bodies

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def mix_of(catalog: Catalog, seed: int = 1, now: datetime = NOW) -> Mix:
    return Mix(parse_models(responses.encode_models(catalog, catalog.models())), now, seed)


def as_workload(spec: object) -> Workload:
    return msgspec.convert(msgspec.to_builtins(spec), Workload)


def test_every_pooled_workload_of_the_shipped_catalog_is_priced() -> None:
    catalog = Catalog.default()
    mix = mix_of(catalog)
    seen: Counter[str] = Counter()
    periods = set()
    for spec, body in mix.pool:
        # The pre-encoded body is exactly the workload, as the service decodes it.
        workload = bodies.WORKLOAD_DECODER.decode(body)
        assert workload == as_workload(spec)
        quote = catalog.quote(workload)  # raises if the service would refuse it
        periods.add((quote.provider, quote.model, quote.period_from))
        seen["window"] += quote.window is not None
        seen["tier"] += quote.tier is not None
        seen["batch"] += quote.batch
        seen["cached"] += spec.cached_input_tokens > 0
        seen["cache writes"] += spec.cache_write_tokens > 0
        seen["1h cache writes"] += spec.cache_write_1h_tokens > 0
        seen["reasoning-heavy"] += spec.output_tokens > 8_000
        seen["short prompt"] += spec.input_tokens < 1_000
        seen["past 200k"] += spec.input_tokens > 200_000
        seen["a month of requests"] += spec.requests >= 10_000
    for kind in ("window", "tier", "batch", "cached", "cache writes", "1h cache writes", "reasoning-heavy",
                 "short prompt", "past 200k", "a month of requests"):
        assert seen[kind] >= 10, (kind, seen)
    # Across the price history: most models' periods are drawn from, not only the current price.
    all_periods = {(m.provider, m.id, p.starts) for m in catalog.models() for p in m.periods}
    assert len(periods) >= 0.8 * len(all_periods)


def test_every_drawn_comparison_is_priced_with_exactly_the_expected_models() -> None:
    catalog = Catalog.default()
    mix = mix_of(catalog)
    rng = random.Random(4)
    for _ in range(200):
        _label, request, expected = mix.compare(rng)
        usage = msgspec.convert(msgspec.to_builtins(request.workload), Usage)
        ranked = catalog.compare(usage, None if request.models is None else list(request.models), request.baseline)
        assert sorted(f"{q.provider}/{q.model}" for q in ranked) == sorted(expected)


def test_the_same_seed_draws_the_same_mix() -> None:
    catalog = Catalog.default()
    one, again, other = mix_of(catalog, 3), mix_of(catalog, 3), mix_of(catalog, 4)
    assert [body for _, body in one.pool] == [body for _, body in again.pool]
    assert [body for _, body in one.pool] != [body for _, body in other.pool]
    assert one.compare(random.Random(1)) == again.compare(random.Random(1))


SMALL = """
    provider = "acme"

    [[models]]
    id = "night-owl"
    aliases = ["owl"]

    [[models.periods]]
    from = 2025-01-01T00:00:00Z
    source = "https://example.com/prices"
    checked = 2026-11-28
    input = 1
    cached_input = 0.5
    output = 2

    [[models.periods.windows]]
    name = "weekday-nights"
    timezone = "America/New_York"
    start = 22:00:00
    end = 06:00:00
    days = ["mon", "wed", "fri"]
    from = 2025-03-01T00:00:00Z
    until = 2025-11-15T00:00:00Z
    input = 0.5
    output = 1

    [[models.periods]]
    from = 2025-12-01T00:00:00Z
    until = 2026-02-01T00:00:00Z
    source = "https://example.com/prices"
    checked = 2026-11-28
    input = 2
    output = 4

    [[models.periods.tiers]]
    threshold = 128000
    boundary = ">="
    input = 4
    output = 8

    [models.periods.batch]
    input = 1
    output = 2

    [[models]]
    id = "from-next-year"

    [[models.periods]]
    from = 2027-03-01T00:00:00Z
    source = "https://example.com/prices"
    checked = 2026-11-28
    input = 3
    output = 3
"""


def test_spans_follow_periods_gaps_retirement_windows_and_future_prices(
    make_catalog: Callable[..., Catalog],
) -> None:
    catalog = make_catalog(SMALL)
    mix = mix_of(catalog)
    owl = [s for s in mix.spans if s.model == "acme/night-owl"]
    base = [s for s in owl if s.window is None]
    # [2025-01-01, 2025-12-01) until the next period; [2025-12-01, 2026-02-01): retired then, no horizon.
    assert [(s.lo, s.hi) for s in base] == [
        (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC)),
        (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)),
    ]
    assert (base[0].cached, base[0].batch, base[0].tiers) == (True, False, ())
    assert (base[1].cached, base[1].batch, base[1].tiers) == (False, True, (128_000,))
    # A price that starts in the future is drawn from too, up to HORIZON past its start.
    (future,) = [s for s in mix.spans if s.model == "acme/from-next-year"]
    assert (future.lo, future.hi) == (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC) + HORIZON)
    # A current price is drawn up to HORIZON past now.
    current = mix_of(make_catalog(SMALL.replace("until = 2026-02-01T00:00:00Z\n", "")))
    (last,) = [s for s in current.spans if s.model == "acme/night-owl" and s.lo.year == 2025 and s.lo.month == 12]
    assert last.hi == NOW + HORIZON


def test_window_spans_land_in_the_window_across_dst_and_weekdays(make_catalog: Callable[..., Catalog]) -> None:
    catalog = make_catalog(SMALL)
    mix = mix_of(catalog)
    windows = [s for s in mix.spans if s.window is not None]
    assert len(windows) == 3  # near the window's start, middle and end
    rng = random.Random(0)
    for span in windows:
        for _ in range(200):
            at = _instant(rng, span)
            assert span.lo <= at < span.hi
            quote = catalog.quote(Workload(model=span.model, input_tokens=100, at=at))
            assert quote.window == "weekday-nights", (span, at)


def test_every_drawn_instant_is_priced_and_batch_only_where_sold(make_catalog: Callable[..., Catalog]) -> None:
    catalog = make_catalog(SMALL)
    mix = mix_of(catalog)
    batch: Counter[int] = Counter()
    for spec, _ in mix.pool:
        quote = catalog.quote(as_workload(spec))
        batch[quote.period_from.year] += spec.batch
        assert not spec.batch or quote.period_from == datetime(2025, 12, 1, tzinfo=UTC)
    assert batch[2025] > 0


def test_priced_at_matches_the_engine(make_catalog: Callable[..., Catalog]) -> None:
    catalog = make_catalog(SMALL)
    models = parse_models(responses.encode_models(catalog, catalog.models()))
    cases = [datetime(2024, 6, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC),
             datetime(2026, 2, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC) + timedelta(days=400)]
    for at in cases:
        for batch in (False, True):
            usage = Usage(input_tokens=1, at=at, batch=batch)
            expected = sorted(f"{q.provider}/{q.model}" for q in catalog.compare(usage))
            assert sorted(priced_at(models, at, batch)) == expected, (at, batch)


def test_names_include_aliases_and_resolve_to_their_model(make_catalog: Callable[..., Catalog]) -> None:
    mix = mix_of(make_catalog(SMALL))
    assert "acme/owl" in mix.names and "acme/night-owl" in mix.names
    assert mix.model_id("acme/owl") == "night-owl"
    assert mix.providers == ("acme",)


def test_a_catalog_with_nothing_to_quote_is_refused() -> None:
    with pytest.raises(ValueError, match="nothing to load-test"):
        Mix((), NOW, 1)


def test_spans_are_never_empty() -> None:
    for span in mix_of(Catalog.default()).spans:
        assert isinstance(span, Span) and span.lo < span.hi

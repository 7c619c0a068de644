"""What the simulated clients send: workloads drawn from the catalog the service itself serves.

The mix is built at start-up from ``GET /v1/models``, so it stays valid as prices are added or
retired: every workload names a model at an instant inside one of its price periods (and, where a
period has off-peak windows, also inside a window), asks for batch rates only where the period sells
them, and a comparison names only models priced at its instant. Nothing the service should reject
is sent. Token counts are drawn to look like real traffic: prompts from a few hundred tokens to past
the long-context tiers, cached shares, cache writes where they are billed, reasoning-heavy outputs,
single calls and month-long aggregates.

Everything here is pure and seeded: the same catalog, ``now`` and seed give the same mix.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# -- the catalog, as GET /v1/models returns it --------------------------------------------------------
# Only what the mix needs, and unknown fields allowed: the load test keeps working while the catalog
# format grows. Prices are not needed (the checks verify arithmetic, not the catalog's numbers).


class TierView(msgspec.Struct, frozen=True):
    threshold: int
    boundary: str = ">"


class RatesView(msgspec.Struct, frozen=True):
    cached_input: Any = None
    cache_write: Any = None
    cache_write_1h: Any = None
    tiers: tuple[TierView, ...] = ()


class WindowView(RatesView, frozen=True, kw_only=True):
    name: str
    start: time
    end: time
    timezone: str = "UTC"
    days: tuple[str, ...] = ()
    starts: datetime | None = msgspec.field(default=None, name="from")
    until: datetime | None = None
    except_dates: tuple[date, ...] = ()


class PeriodView(RatesView, frozen=True, kw_only=True):
    starts: datetime = msgspec.field(name="from")
    until: datetime | None = None
    currency: str = "USD"
    batch: RatesView | None = None
    windows: tuple[WindowView, ...] = ()


class RouteView(msgspec.Struct, frozen=True, kw_only=True):
    starts: datetime = msgspec.field(name="from")


class ModelView(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    provider: str
    periods: tuple[PeriodView, ...]
    aliases: tuple[str, ...] = ()
    routes: tuple[RouteView, ...] = ()
    shutdown: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.id}"

    @property
    def price_list(self) -> tuple[PeriodView, ...]:
        """The periods a workload without ``currency`` is priced from: the first-listed currency's."""
        first = self.periods[0].currency
        return tuple(p for p in self.periods if p.currency == first)

    @property
    def ends(self) -> datetime | None:
        """Where the model's own prices stop: its first route starts, or it is shut down."""
        stops = [r.starts for r in self.routes[:1]] + ([self.shutdown] if self.shutdown is not None else [])
        return min(stops) if stops else None


class ModelsView(msgspec.Struct, frozen=True, kw_only=True):
    models: tuple[ModelView, ...]
    count: int
    catalog_digest: str


def parse_models(body: bytes) -> tuple[ModelView, ...]:
    """The models of a ``GET /v1/models`` body; raises ``msgspec.ValidationError`` naming the field."""
    return msgspec.json.decode(body, type=ModelsView).models


# -- where prices are: spans of time, per model ---------------------------------------------------------

#: How far past ``now`` instants are drawn in a period that has no end yet (a current price).
HORIZON = timedelta(days=30)


class Span(msgspec.Struct, frozen=True, kw_only=True):
    """A slice of one model's price history that the mix draws instants from: ``[lo, hi)``."""

    model: str
    lo: datetime
    hi: datetime
    tiers: tuple[int, ...] = ()
    batch: bool = False
    cached: bool = False
    cache_write: bool = False
    cache_write_1h: bool = False
    #: The off-peak window this span lies in, if it was drawn for one.
    window: str | None = None


def _period_end(periods: Sequence[PeriodView], i: int, ends: datetime | None) -> datetime | None:
    """Where period ``i`` ends (``None``: it has not). ``until`` defaults to the next period's start;
    nothing is priced from ``ends`` (a route or a shutdown) on."""
    period = periods[i]
    end = period.until if period.until is not None else periods[i + 1].starts if i + 1 < len(periods) else None
    if ends is None:
        return end
    return ends if end is None else min(end, ends)


def _window_occurrence(window: WindowView, zone: ZoneInfo, day: date) -> tuple[datetime, datetime] | None:
    """The window's run that starts on local ``day``, in UTC, or ``None`` if it does not run that day."""
    if (window.days and WEEKDAYS[day.weekday()] not in window.days) or day in window.except_dates:
        return None
    start = datetime.combine(day, window.start, tzinfo=zone)
    end_day = day if window.end > window.start else day + timedelta(days=1)
    end = datetime.combine(end_day, window.end, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _window_spans(window: WindowView, lo: datetime, hi: datetime, per_window: int = 3) -> list[tuple[datetime, datetime]]:
    """Up to ``per_window`` runs of ``window`` inside ``[lo, hi)``: near its start, middle and end."""
    if window.starts is not None:
        lo = max(lo, window.starts)
    if window.until is not None:
        hi = min(hi, window.until)
    if lo >= hi:
        return []
    try:
        zone = ZoneInfo(window.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return []  # the service would not have loaded it; nothing to aim at
    found: list[tuple[datetime, datetime]] = []
    span = hi - lo
    for anchor in (lo, lo + span / 2, hi - timedelta(days=8)):
        first = max(anchor, lo).astimezone(zone).date() - timedelta(days=1)
        for offset in range(10):  # a window runs at least one day a week
            run = _window_occurrence(window, zone, first + timedelta(days=offset))
            if run is None:
                continue
            start, end = max(run[0], lo), min(run[1], hi)
            if start < end and (start, end) not in found:
                found.append((start, end))
                break
    return found[:per_window]


def spans(models: Sequence[ModelView], now: datetime) -> tuple[Span, ...]:
    """For each model, each price period and each off-peak window in it: the slices of time the mix
    draws instants from. A period with no end yet is drawn from up to ``HORIZON`` past ``now`` (or
    past its start, for a price announced for later)."""
    out: list[Span] = []
    for model in models:
        periods, ends = model.price_list, model.ends
        for i, period in enumerate(periods):
            end = _period_end(periods, i, ends)
            hi = end if end is not None else max(now, period.starts) + HORIZON
            if hi <= period.starts:
                continue
            whole = Span(
                model=model.key, lo=period.starts, hi=hi,
                tiers=tuple(t.threshold for t in period.tiers),
                batch=period.batch is not None,
                cached=period.cached_input is not None,
                cache_write=period.cache_write is not None,
                cache_write_1h=period.cache_write_1h is not None,
            )
            out.append(whole)
            for window in period.windows:
                for lo, w_hi in _window_spans(window, period.starts, hi):
                    out.append(msgspec.structs.replace(whole, lo=lo, hi=w_hi, window=window.name))
    return tuple(out)


def priced_at(models: Sequence[ModelView], at: datetime, batch: bool = False) -> tuple[str, ...]:
    """The models with a price at ``at`` (a batch price, for batch), as the service's compare finds them."""
    keys = []
    for model in models:
        periods, ends = model.price_list, model.ends
        for i, period in enumerate(periods):
            end = _period_end(periods, i, ends)
            if period.starts <= at and (end is None or at < end):
                if not batch or period.batch is not None:
                    keys.append(model.key)
                break
    return tuple(keys)


# -- token profiles ------------------------------------------------------------------------------------


class UsageSpec(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A token profile as the API takes it (``Usage``); encoded as it is, it is the request body."""

    input_tokens: int
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    requests: int = 1
    at: datetime
    batch: bool = False


class WorkloadSpec(UsageSpec, frozen=True, kw_only=True, omit_defaults=True):
    """A workload as the API takes it: a token profile on one model (``provider/id``)."""

    model: str


class CompareSpec(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A ``POST /v1/compare`` body; ``models`` ``None`` compares every model priced at the instant."""

    workload: UsageSpec
    models: tuple[str, ...] | None = None
    baseline: str | None = None


#: The long-context thresholds prompts of a comparison are drawn around (Gemini/Claude 200k, GPT 272k).
COMMON_TIERS = (200_000, 272_000)


def _instant(rng: random.Random, span: Span) -> datetime:
    """A whole second in ``[span.lo, span.hi)``, in UTC."""
    seconds = int((span.hi - span.lo).total_seconds())
    return (span.lo + timedelta(seconds=int(rng.random() * seconds))).astimezone(UTC)


def _prompt(rng: random.Random, tiers: Sequence[int]) -> int:
    roll = rng.random()
    if tiers and roll < 0.12:
        threshold = rng.choice(tiers)
        # Exactly on the threshold now and then: whether it is in the tier is the boundary's job.
        return threshold if rng.random() < 0.15 else threshold + rng.randint(1, 150_000)
    if roll < 0.40:
        return rng.randint(200, 2_000)  # a chat turn
    if roll < 0.75:
        return rng.randint(2_000, 32_000)  # retrieval context, a source file
    if roll < 0.94:
        return rng.randint(32_000, 128_000)  # long documents
    return rng.randint(128_000, 1_000_000)  # whole repositories, past the 200k/272k tiers


def _output(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.55:
        return rng.randint(20, 1_500)
    if roll < 0.85:
        return rng.randint(1_500, 8_000)
    return rng.randint(8_000, 100_000)  # reasoning-heavy: chain-of-thought is billed as output


def _requests(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.70:
        return 1
    if roll < 0.90:
        return rng.randint(2, 1_000)
    return rng.randint(10_000, 50_000_000)  # a month of traffic priced at once


def draw_usage(rng: random.Random, span: Span, at: datetime | None = None) -> UsageSpec:
    """A realistic token profile priced at an instant of ``span`` (or ``at``)."""
    prompt = _prompt(rng, span.tiers)
    cached = int(prompt * rng.choice((0.1, 0.25, 0.5, 0.75, 0.9))) if span.cached and rng.random() < 0.6 else 0
    writes = writes_1h = 0
    if span.cache_write and rng.random() < 0.3:
        writes = int((prompt - cached) * rng.choice((0.1, 0.3, 0.5, 1.0)))
        if span.cache_write_1h and rng.random() < 0.3:
            writes_1h = writes // 2
            writes -= writes_1h
    return UsageSpec(
        input_tokens=prompt,
        cached_input_tokens=cached,
        cache_write_tokens=writes,
        cache_write_1h_tokens=writes_1h,
        output_tokens=_output(rng),
        requests=_requests(rng),
        at=at if at is not None else _instant(rng, span),
        batch=span.batch and rng.random() < 0.2,
    )


def draw_workload(rng: random.Random, span: Span) -> WorkloadSpec:
    usage = draw_usage(rng, span)
    return WorkloadSpec(model=span.model, **msgspec.structs.asdict(usage))


# -- the mix ------------------------------------------------------------------------------------------

#: Batch sizes, as (request-name label, smallest, largest, weight): mostly small, a few large.
BATCH_SIZES = (("2-10", 2, 10, 60), ("11-100", 11, 100, 30), ("101-500", 101, 500, 9), ("1000", 1000, 1000, 1))


class Mix:
    """The requests the simulated clients draw from, built once per load-generator process.

    Workloads are drawn ahead of time (``pool``, each with its encoded body) so a request costs the
    load generator a random pick, not a draw and an encode; batches are joined from the pool.
    """

    def __init__(self, models: Sequence[ModelView], now: datetime, seed: int, pool_size: int = 2_000) -> None:
        self.models = tuple(models)
        self.spans = spans(self.models, now)
        if not self.spans:
            raise ValueError("the catalog has no model with a price to quote: nothing to load-test")
        rng = random.Random(seed)
        pool = [draw_workload(rng, rng.choice(self.spans)) for _ in range(pool_size)]
        self.pool: tuple[tuple[WorkloadSpec, bytes], ...] = tuple((w, msgspec.json.encode(w)) for w in pool)
        self.names = tuple(sorted({m.key for m in self.models} | {f"{m.provider}/{a}" for m in self.models
                                                                   for a in m.aliases}))
        self.providers = tuple(sorted({m.provider for m in self.models}))
        self._by_name = {m.key: m for m in self.models}
        self._by_name.update({f"{m.provider}/{a}": m for m in self.models for a in m.aliases})

    def model_id(self, name: str) -> str:
        """The id the service answers for ``name`` (a ``provider/id`` or ``provider/alias``)."""
        return self._by_name[name].id

    def workload(self, rng: random.Random) -> tuple[WorkloadSpec, bytes]:
        return rng.choice(self.pool)

    def batch(self, rng: random.Random) -> tuple[str, list[WorkloadSpec], bytes]:
        """``(size label, workloads, body)`` of a batch request of a size drawn from ``BATCH_SIZES``."""
        label, low, high, _ = rng.choices(BATCH_SIZES, weights=[b[3] for b in BATCH_SIZES])[0]
        chosen = rng.choices(self.pool, k=rng.randint(low, high))
        body = b'{"workloads":[' + b",".join(body for _, body in chosen) + b"]}"
        return label, [w for w, _ in chosen], body

    def compare(self, rng: random.Random) -> tuple[str, CompareSpec, tuple[str, ...]]:
        """``(label, request, expected models)``: a comparison and the ``provider/id`` of every model
        its answer must hold (the named ones and the baseline, or every model priced then)."""
        span = rng.choice(self.spans)
        at = _instant(rng, span)
        batch = rng.random() < 0.1
        candidates = priced_at(self.models, at, batch) if batch else ()
        if not candidates:
            batch = False
            candidates = priced_at(self.models, at)
        usage = msgspec.structs.replace(draw_usage(rng, msgspec.structs.replace(span, tiers=COMMON_TIERS), at),
                                        batch=batch)
        roll = rng.random()
        if roll < 0.12:
            label, models = "all", None
        elif roll < 0.25:
            label, models = "10-40", tuple(rng.sample(candidates, min(len(candidates), rng.randint(10, 40))))
        else:
            label, models = "2-6", tuple(rng.sample(candidates, min(len(candidates), rng.randint(2, 6))))
        baseline = None
        roll = rng.random()
        if models and roll < 0.6:
            baseline = rng.choice(models)
        elif roll < 0.85:
            baseline = rng.choice(candidates)  # possibly not among the named ones: it is added
        expected = set(candidates if models is None else models)
        if baseline is not None:
            expected.add(baseline)
        return label, CompareSpec(workload=usage, models=models, baseline=baseline), tuple(sorted(expected))

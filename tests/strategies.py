"""Shared hypothesis strategies: token profiles, instants, prices and whole catalog files.

Everything generated here is valid: a ``Usage`` passes its own checks and a ``CatalogFile`` passes
every loader rule, so tests can write it with ``pricing.tomlwrite.dumps`` and load it back. Tests of
the error paths build their bad input by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from hypothesis import strategies as st

from pricing import MAX_TOKENS, CatalogFile, Model, Period, Pricing, Tier, Usage, Window, Workload
from pricing.schema import WEEKDAYS

#: The span generated instants and price periods fall in.
MIN_INSTANT = datetime(2023, 1, 1)
MAX_INSTANT = datetime(2029, 12, 31)

#: Fixed offsets for the datetimes inside catalog files: TOML keeps an offset, not a zone, and Python
#: never compares a datetime whose offset depends on ``fold`` equal to one in another zone, so
#: zone-aware datetimes would not load back equal.
OFFSETS: tuple[tzinfo, ...] = (
    UTC,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=-9, minutes=-30)),
)
#: IANA zones for windows and for the instants quoted: no DST, US and EU DST, a 30-minute DST shift
#: (Lord Howe) and a 45-minute offset (Kathmandu).
ZONE_NAMES = ("UTC", "Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe",
              "Asia/Kathmandu")
ZONES: tuple[tzinfo, ...] = tuple(ZoneInfo(name) for name in ZONE_NAMES)

#: Prices seen on real price pages, mixed in with arbitrary ones.
REAL_PRICES = tuple(Decimal(p) for p in ("0", "0.014", "0.035", "0.07", "0.135", "0.14", "0.27", "0.55",
                                          "1.10", "1.68", "2.19", "2.50", "3.75", "7.5", "15", "60"))
#: The loader's bounds on a written price: at most this many decimals, and below 10**12.
MAX_PRICE_PLACES = 20
PRICE_LIMIT_DIGITS = 12

CURRENCIES = ("USD", "EUR", "CNY", "JPY")
_ID = r"[a-z0-9][a-z0-9._:-]{0,12}"
# No '/': "provider/name" is how names are qualified, an alias with one could collide with that.
_ALIAS_CHARS = st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters="/")
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)


# -- instants ----------------------------------------------------------------------------------------


def instants(
    min_value: datetime = MIN_INSTANT,
    max_value: datetime = MAX_INSTANT,
    zones: tuple[tzinfo, ...] = (*OFFSETS, *ZONES),
) -> st.SearchStrategy[datetime]:
    """Timezone-aware instants, in fixed offsets and in IANA zones (some in a DST gap or fold)."""
    return st.datetimes(min_value, max_value, timezones=st.sampled_from(zones))


def fixed_offset_instants(
    min_value: datetime = MIN_INSTANT, max_value: datetime = MAX_INSTANT
) -> st.SearchStrategy[datetime]:
    """Instants with a fixed UTC offset: they survive TOML, JSON and msgpack as equal values."""
    return instants(min_value, max_value, OFFSETS)


_NUDGES = tuple(timedelta(**kw) for kw in (
    {}, {"microseconds": 1}, {"microseconds": -1}, {"seconds": 1}, {"seconds": -1},
    {"minutes": 30}, {"minutes": -30}, {"hours": 1}, {"hours": -1}, {"days": 1}, {"days": -1},
))


def period_spans(model: Model) -> list[tuple[Period, datetime, datetime]]:
    """Each period with the instants it covers; an open end is taken as a year after its start."""
    spans = []
    for i, period in enumerate(model.periods):
        end = period.until or (model.periods[i + 1].starts if i + 1 < len(model.periods) else None)
        spans.append((period, period.starts, end or period.starts + timedelta(days=365)))
    return spans


@st.composite
def instants_between(draw: st.DrawFn, start: datetime, end: datetime) -> datetime:
    """An instant in ``[start, end)``, in ``start``'s zone (integer microseconds: no float involved)."""
    span = max((end - start) // timedelta(microseconds=1), 1)
    return start + timedelta(microseconds=draw(st.integers(0, span - 1)))


_KINDS = st.sampled_from(("inside", "inside", "edge", "window", "window", "window", "any"))


@st.composite
def instants_near(draw: st.DrawFn, model: Model) -> datetime:
    """An instant where ``model``'s price is interesting, expressed in a random zone.

    Mostly inside one of its periods: anywhere, or at a window's daily start or end on a day the
    period covers; else at a period's or window's limit; each moved by nothing, a microsecond, a
    second, half an hour, an hour or a day. Sometimes any instant around its history (often one
    without a price).
    """
    spans = period_spans(model)
    kind = draw(_KINDS)
    with_windows = [(p, s, e) for p, s, e in spans if p.windows]
    if kind == "window" and with_windows:
        period, start, end = draw(st.sampled_from(with_windows))
        window = draw(st.sampled_from(period.windows))
        zone = ZoneInfo(window.timezone)
        day = draw(instants_between(start, end)).astimezone(zone).date()
        local = datetime.combine(day, draw(st.sampled_from((window.start, window.end))))
        base = local.replace(tzinfo=zone)
    elif kind == "edge":
        edges = [t for p, s, e in spans for t in (s, e)]
        edges += [t for p in model.periods for w in p.windows for t in (w.starts, w.until) if t is not None]
        base = draw(st.sampled_from(edges))
    elif kind == "any":
        first, last = spans[0][1], spans[-1][2]
        base = draw(instants_between(first - timedelta(days=30), last + timedelta(days=30)))
    else:
        _, start, end = draw(st.sampled_from(spans))
        base = draw(instants_between(start, end))
    at = base.astimezone(UTC) + draw(st.sampled_from(_NUDGES))
    return at.astimezone(draw(st.sampled_from((*OFFSETS, *ZONES))))


# -- token profiles --------------------------------------------------------------------------------


def token_counts(max_value: int = MAX_TOKENS) -> st.SearchStrategy[int]:
    """Token counts: mostly realistic sizes, sometimes anything up to ``max_value``."""
    return st.one_of(st.integers(0, min(max_value, 2_000_000)), st.integers(0, max_value))


@st.composite
def usages(
    draw: st.DrawFn,
    input_tokens: st.SearchStrategy[int] | None = None,
    output_tokens: st.SearchStrategy[int] | None = None,
    requests: st.SearchStrategy[int] | None = None,
    at: st.SearchStrategy[datetime | None] | None = None,
    batch: st.SearchStrategy[bool] | None = None,
) -> Usage:
    """A valid ``Usage``: the cached and cache-write counts are parts of ``input_tokens``."""
    prompt = draw(input_tokens if input_tokens is not None else token_counts())
    # Split the prompt: each part is drawn from what the earlier ones left.
    parts = []
    left = prompt
    for _ in range(3):
        part = draw(st.one_of(st.just(0), st.integers(0, left)))
        parts.append(part)
        left -= part
    cached, write, write_1h = draw(st.permutations(parts))
    return Usage(
        input_tokens=prompt,
        cached_input_tokens=cached,
        cache_write_tokens=write,
        cache_write_1h_tokens=write_1h,
        output_tokens=draw(output_tokens if output_tokens is not None else token_counts()),
        requests=draw(requests if requests is not None else st.integers(1, 1000)),
        at=draw(at if at is not None else st.one_of(st.none(), instants())),
        batch=draw(batch if batch is not None else st.booleans()),
    )


def workloads(models: st.SearchStrategy[str], **usage_strategies: Any) -> st.SearchStrategy[Workload]:
    """A ``Workload`` on a model name drawn from ``models``; other arguments go to ``usages``."""
    return st.builds(
        lambda name, usage: Workload(model=name, **msgspec.structs.asdict(usage)),
        models,
        usages(**usage_strategies),
    )


# -- prices and catalogs ---------------------------------------------------------------------------


# Strategies are built once, here: building them inside a draw costs hypothesis a validation each time.
_EXPONENTS = st.integers(-MAX_PRICE_PLACES, 3)
_COEFFICIENTS = {e: st.integers(0, 10 ** (PRICE_LIMIT_DIGITS - e) - 1) for e in range(-MAX_PRICE_PLACES, 4)}


@st.composite
def _any_price(draw: st.DrawFn) -> Decimal:
    exponent = draw(_EXPONENTS)
    return Decimal(f"{draw(_COEFFICIENTS[exponent])}E{exponent}")


_PRICES = st.one_of(st.sampled_from(REAL_PRICES), _any_price())


def prices() -> st.SearchStrategy[Decimal]:
    """A price per million tokens the loader accepts: >= 0, at most 20 decimals, below 10**12.

    Built from a digit string, never a float: half real prices, half anything from 1E+3-scaled
    integers down to 1E-20.
    """
    return _PRICES


_OPTIONAL_PRICE = st.one_of(st.none(), _PRICES)
_RATES = st.fixed_dictionaries({
    "input": _PRICES,
    "output": _PRICES,
    "cached_input": _OPTIONAL_PRICE,
    "cache_write": _OPTIONAL_PRICE,
    "cache_write_1h": _OPTIONAL_PRICE,
})
# one_of(empty, non-empty): left to itself hypothesis draws mostly empty lists, and tiers and
# windows would rarely be tested.
_SOME_THRESHOLDS = st.lists(st.integers(1, 1_000_000), min_size=1, max_size=3, unique=True)
_THRESHOLDS = st.one_of(st.just([]), _SOME_THRESHOLDS)
_BOUNDARIES = st.sampled_from((">", ">="))


@st.composite
def tier_lists(draw: st.DrawFn, at_least_one: bool = False) -> tuple[Tier, ...]:
    """Up to three long-context tiers, thresholds strictly increasing."""
    thresholds = draw(_SOME_THRESHOLDS if at_least_one else _THRESHOLDS)
    return tuple(Tier(threshold=t, boundary=draw(_BOUNDARIES), **draw(_RATES)) for t in sorted(thresholds))


_TIER_LISTS = tier_lists()


@st.composite
def pricings(draw: st.DrawFn) -> Pricing:
    """Base rates with optional tiers (a period's batch prices, say)."""
    return Pricing(tiers=draw(_TIER_LISTS), **draw(_RATES))


_ONE_IN_THREE = st.sampled_from((False, False, True))
_TIMES = st.one_of(st.builds(time, st.integers(0, 23), st.sampled_from((0, 1, 29, 30, 59))), st.times())
_OPTIONAL_INSTANT = st.one_of(st.none(), fixed_offset_instants())
_ZONE_NAMES = st.sampled_from(ZONE_NAMES)
_DAYS = st.lists(st.sampled_from(WEEKDAYS), unique=True, max_size=7)
_WINDOW_SOURCE = st.one_of(st.none(), st.just("https://example.com/off-peak"))


@st.composite
def windows(draw: st.DrawFn, name: str = "off-peak", within: tuple[datetime, datetime] | None = None) -> Window:
    """A recurring window: any zone, start != end (end before start: past midnight), some weekdays.

    Its from/until limits are anywhere, or with ``within`` (a period's span) mostly absent and
    otherwise inside that span, so that the window still applies some of the time.
    """
    start = draw(_TIMES)
    end = draw(_TIMES)
    if end == start:
        end = (datetime.combine(date.min, start) + timedelta(minutes=1)).time()
    if within is None:
        starts, until = draw(_OPTIONAL_INSTANT), draw(_OPTIONAL_INSTANT)
    else:
        inside = instants_between(*within)
        starts = draw(inside) if draw(_ONE_IN_THREE) else None
        until = draw(inside) if draw(_ONE_IN_THREE) else None
    if starts is not None and until is not None and until <= starts:
        starts, until = (until, starts) if until < starts else (starts, None)
    return Window(
        name=name,
        start=start,
        end=end,
        timezone=draw(_ZONE_NAMES),
        days=tuple(draw(_DAYS)),
        starts=starts,
        until=until,
        source=draw(_WINDOW_SOURCE),
        tiers=draw(_TIER_LISTS),
        **draw(_RATES),
    )


_PERIOD_STARTS = {n: st.lists(fixed_offset_instants(), min_size=1, max_size=n, unique=True) for n in range(1, 6)}
_OFFSET_ZONES = st.sampled_from(OFFSETS)
_WINDOW_NAMES = st.one_of(
    st.just([]), st.lists(st.sampled_from(("off-peak", "night", "weekend")), unique=True, min_size=1, max_size=2)
)
_SOURCES = st.builds(lambda path: "https://example.com/pricing" + path, _TEXT)
_CHECKED = st.dates(date(2024, 1, 1), date(2026, 11, 28))
_CURRENCIES = st.sampled_from(CURRENCIES)
_BATCH = st.one_of(st.none(), pricings())


@st.composite
def periods(draw: st.DrawFn, max_periods: int = 3) -> tuple[Period, ...]:
    """A price history: starts strictly increasing, each ``until`` (if set) at or before the next start."""
    starts = sorted(draw(_PERIOD_STARTS[max_periods]))
    # One price list: each currency is a timeline of its own (see pricing.schema.Period.currency).
    currency = draw(_CURRENCIES)
    result = []
    for i, start in enumerate(starts):
        limit = starts[i + 1] if i + 1 < len(starts) else start + timedelta(days=2 * 365)
        until = None
        if draw(st.booleans()):
            # Up to the next start, or some days (weeks of windows to price), or a few microseconds
            # (an edge case); integer steps, so no float is involved.
            span = (limit - start) // timedelta(microseconds=1)
            step = draw(st.one_of(
                st.just(span),
                st.integers(1, 400).map(lambda days: days * 86_400_000_000),
                st.integers(1, 1000),
            ))
            until = (start + timedelta(microseconds=min(step, span))).astimezone(draw(_OFFSET_ZONES))
        result.append(Period(
            starts=start,
            until=until,
            source=draw(_SOURCES),
            checked=draw(_CHECKED),
            currency=currency,
            batch=draw(_BATCH),
            windows=tuple(draw(windows(name, (start, until or limit))) for name in draw(_WINDOW_NAMES)),
            note=draw(_TEXT),
            tiers=draw(_TIER_LISTS),
            **draw(_RATES),
        ))
    return tuple(result)


_ALIASES = st.text(_ALIAS_CHARS, min_size=1, max_size=12).filter(lambda a: a == a.strip())
# A few common ids, so that generated providers sometimes sell the same model id (ambiguous names).
_IDS = st.one_of(st.sampled_from(("m", "r1", "o1")), st.from_regex(_ID, fullmatch=True))
_ID_LISTS = {n: st.lists(_IDS, min_size=1, max_size=n, unique=True) for n in range(1, 6)}
_ALIAS_LISTS = st.lists(_ALIASES, max_size=2, unique_by=str.lower)
_PROVIDER_URLS = st.sampled_from(("", "https://example.com/"))


def aliases() -> st.SearchStrategy[str]:
    """Names users type: any characters but '/' and control characters, no surrounding spaces."""
    return _ALIASES


@st.composite
def catalog_files(
    draw: st.DrawFn, provider: str | None = None, max_models: int = 3, max_periods: int = 3
) -> CatalogFile:
    """A valid catalog file as the loader returns it (each model's ``provider`` filled in).

    Every id and alias is unique within the file, ignoring case, as the loader requires.
    """
    name = provider if provider is not None else draw(_IDS)
    ids = draw(_ID_LISTS[max_models])
    taken = {i.lower() for i in ids}
    models = []
    for model_id in ids:
        extra = [a for a in draw(_ALIAS_LISTS) if a.lower() not in taken]
        taken.update(a.lower() for a in extra)
        models.append(Model(
            id=model_id,
            name=draw(_TEXT),
            aliases=tuple(extra),
            periods=draw(periods(max_periods)),
            provider=name,
        ))
    if len(models) > 1 and draw(st.booleans()):
        # Mark one model as deliberately priced like another (a name of the same file).
        i, j = draw(st.permutations(range(len(models))))[:2]
        twin = draw(st.sampled_from((models[j].id, *models[j].aliases)))
        models[i] = msgspec.structs.replace(models[i], same_prices_as=twin)
    return CatalogFile(
        provider=name,
        provider_name=draw(_TEXT),
        provider_url=draw(_PROVIDER_URLS),
        models=tuple(models),
    )


@st.composite
def catalogs(
    draw: st.DrawFn, max_files: int = 3, max_models: int = 2, max_periods: int = 3
) -> tuple[CatalogFile, ...]:
    """Catalog files of distinct providers (the same model id is sometimes sold by several)."""
    providers = draw(st.lists(_IDS, min_size=1, max_size=max_files, unique=True))
    return tuple(draw(catalog_files(p, max_models, max_periods)) for p in providers)

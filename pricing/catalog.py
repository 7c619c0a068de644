"""The ``Catalog``: resolves model names, finds the price in force, and prices workloads exactly."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
    getcontext,
    setcontext,
)

import msgspec

from pricing import compiled
from pricing.errors import (
    AmbiguousModelError,
    CatalogError,
    InvalidWorkloadError,
    NoBatchPriceError,
    NoCurrencyPriceError,
    NoPriceError,
    PricingError,
    UnknownModelError,
)
from pricing.loader import digest_of, parse_catalog_file, read_catalog_files
from pricing.quote import Line, Quote, RankedQuote
from pricing.schema import WEEKDAYS, Model, Period, Pricing, Rates, Route, Window
from pricing.workload import Usage, Workload
from pricing.zones import offset_changes

#: Every amount is computed in this context. It traps Inexact and Rounded, so an amount that would
#: need rounding raises instead of being silently wrong. It cannot happen for a loaded catalog: the
#: loader bounds how prices are written so that any amount within the workload limits has at most
#: 55 digits.
EXACT = Context(
    prec=80,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact, Rounded],
)
#: Longest model name looked up; a longer one is unknown without a search for close matches.
MAX_NAME_LENGTH = 200
_PERCENT = Context(prec=80, rounding=ROUND_HALF_EVEN)
_MILLION = Decimal(1_000_000)
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")

#: The rates a quote uses, fallbacks applied: input, cached input, cache write, 1-hour cache write,
#: output, and the tier's name (None for base rates).
_Row = tuple[Decimal, Decimal, Decimal, Decimal, Decimal, str | None]
#: A pricing laid out for the quote path: its base row, and its tiers highest first as
#: (threshold, whether the threshold itself is in the tier, row).
_Plan = tuple[_Row, tuple[tuple[int, bool, _Row], ...]]
#: A window laid out for the quote path: name, from, until, zone name (None: UTC), weekdays it starts on,
#: start and end as microseconds of the local day, the local days it does not start on (as
#: ``date.toordinal()``), and its plan.
_WindowPlan = tuple[
    str, datetime | None, datetime | None, str | None, frozenset[int], int, int, frozenset[int], _Plan
]
#: A period laid out for the quote path: from, until (explicit, or the next period's from), the
#: period, its windows, its plan and its batch plan.
_PeriodSlot = tuple[datetime, datetime | None, Period, tuple[_WindowPlan, ...], _Plan, _Plan | None]


def _row(rates: Rates, name: str | None) -> _Row:
    # A rate the provider does not sell bills those tokens as plain (uncached) input.
    base = rates.input
    return (
        base,
        base if rates.cached_input is None else rates.cached_input,
        base if rates.cache_write is None else rates.cache_write,
        base if rates.cache_write_1h is None else rates.cache_write_1h,
        rates.output,
        name,
    )


def _plan(pricing: Pricing) -> _Plan:
    tiers = tuple(
        (t.threshold, t.boundary == ">=", _row(t, f"{t.boundary}{t.threshold}")) for t in reversed(pricing.tiers)
    )
    return _row(pricing, None), tiers


def _micros(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _window_plan(w: Window) -> _WindowPlan:
    return (
        w.name,
        None if w.starts is None else w.starts.astimezone(UTC),
        None if w.until is None else w.until.astimezone(UTC),
        None if w.timezone == "UTC" else w.timezone,
        frozenset(WEEKDAYS.index(d) for d in (w.days or WEEKDAYS)),
        _micros(w.start),
        _micros(w.end),
        frozenset(d.toordinal() for d in w.except_dates),
        _plan(w),
    )


def _slots(periods: Sequence[Period]) -> tuple[_PeriodSlot, ...]:
    """One price list (one currency's periods, oldest first) laid out newest first."""
    slots: list[_PeriodSlot] = []
    for i, period in enumerate(periods):
        until = period.until
        if until is None and i + 1 < len(periods):
            until = periods[i + 1].starts
        # One tzinfo object for every instant makes the comparisons on the quote path cheap.
        slots.append((
            period.starts.astimezone(UTC),
            None if until is None else until.astimezone(UTC),
            period,
            tuple(_window_plan(w) for w in period.windows),
            _plan(period),
            None if period.batch is None else _plan(period.batch),
        ))
    # Newest first: most quotes are for recent instants.
    return tuple(reversed(slots))


class _Entry:
    """A model with its price lists laid out for the quote path.

    The lists are laid out on the model's first use, not when the catalog is built: a process that
    prices a few models (a CLI run) does not pay for the other ~200 at start-up.
    """

    __slots__ = ("currency", "ends", "key", "lists", "model", "periods", "routes", "shutdown")
    #: Each currency's price list; the first-listed currency is the default.
    lists: dict[str, tuple[_PeriodSlot, ...]]
    #: The default currency's price list.
    periods: tuple[_PeriodSlot, ...]

    def __init__(self, model: Model) -> None:
        self.key = f"{model.provider}/{model.id}"
        self.model = model
        self.currency = model.periods[0].currency
        self.shutdown = None if model.shutdown is None else model.shutdown.astimezone(UTC)
        #: (from, target, route), newest first; filled in by the Catalog, which knows every entry.
        self.routes: tuple[tuple[datetime, _Entry, Route], ...] = ()
        #: The first instant at which the model's own prices stop applying (a route starts or the
        #: model is shut down): the quote path compares against this one instant only.
        self.ends: datetime | None = self.shutdown

    def __getattr__(self, name: str) -> object:
        # Python calls this only for an attribute not set yet: the lists, before their first use.
        # Laying them out twice (two threads at once) gives equal values, so no lock is needed.
        if name not in ("lists", "periods"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        by_currency: dict[str, list[Period]] = {}
        for period in self.model.periods:
            by_currency.setdefault(period.currency, []).append(period)
        self.lists = {currency: _slots(periods) for currency, periods in by_currency.items()}
        self.periods = self.lists[self.currency]
        return getattr(self, name)


@functools.cache
def _zone(name: str) -> tzinfo:
    """The IANA time zone ``name``, resolved on first use: importing zoneinfo and reading the zone
    files at every start-up cost more than a compiled catalog takes to load. The loader checked the name."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _window_active(window: _WindowPlan, at: datetime) -> bool:
    _, starts, until, zone, days, start, end, excepted, _ = window
    if (starts is not None and at < starts) or (until is not None and at >= until):
        return False
    local = at if zone is None and at.tzinfo is UTC else at.astimezone(UTC if zone is None else _zone(zone))
    now = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond
    weekday = local.weekday()
    if start < end:
        return start <= now < end and weekday in days and not (excepted and local.toordinal() in excepted)
    # The window runs past midnight: the evening part starts today, the morning part began yesterday.
    if now >= start:
        return weekday in days and not (excepted and local.toordinal() in excepted)
    return (now < end and (weekday - 1) % 7 in days
            and not (excepted and local.toordinal() - 1 in excepted))


def _window_boundaries(window: _WindowPlan, start: datetime, end: datetime) -> set[datetime]:
    _, starts, until, zone, _, begin, finish, _, _ = window
    found = {t for t in (starts, until) if t is not None}
    if (starts is not None and starts >= end) or (until is not None and until <= start):
        return found
    local_zone = UTC if zone is None else _zone(zone)
    found.update(offset_changes(local_zone, start, end))
    day = start.astimezone(local_zone).date() - timedelta(days=1)
    last = end.astimezone(local_zone).date() + timedelta(days=1)
    offsets = [timedelta(microseconds=begin), timedelta(microseconds=finish)]
    while day <= last:
        midnight = datetime(day.year, day.month, day.day)
        for offset in offsets:
            wall = midnight + offset
            for fold in (0, 1):
                found.add(wall.replace(tzinfo=local_zone, fold=fold).astimezone(UTC))
        day += timedelta(days=1)
    return found


class Catalog:
    """A loaded, validated price catalog. Immutable and safe to share between threads."""

    __slots__ = ("_by_key", "_entries", "_names", "digest", "sources")

    def __init__(self, models: Iterable[Model], digest: str, sources: Sequence[str] = ()) -> None:
        self.digest = digest
        #: The file names the catalog was read from.
        self.sources = tuple(sources)
        self._entries: tuple[_Entry, ...] = tuple(
            sorted((_Entry(m) for m in models), key=lambda e: e.key)
        )
        self._by_key: dict[str, _Entry] = {}
        names: dict[str, set[str]] = {}
        for entry in self._entries:
            if entry.key in self._by_key:
                raise CatalogError(entry.key, "", f"model {entry.key!r} is defined twice")
            self._by_key[entry.key] = entry
            m = entry.model
            for label in (m.id, *m.aliases):
                for name in (label, f"{m.provider}/{label}"):
                    names.setdefault(name.lower(), set()).add(entry.key)
        self._names: dict[str, _Entry | tuple[str, ...]] = {}
        for name, keys in names.items():
            # A name several providers sell means the maker's own model when exactly one of those
            # providers is the name's first word: "deepseek-r1" is DeepSeek's, hosts are named as
            # "together/deepseek-r1". A name no seller is named in ("llama-3.1-405b", sold only by
            # hosts) stays ambiguous and the error lists the choices.
            makers = [k for k in keys if name.startswith(k.partition("/")[0] + "-")] if len(keys) > 1 else []
            if len(keys) == 1 or len(makers) == 1:
                self._names[name] = self._by_key[(makers or list(keys))[0]]
            else:
                self._names[name] = tuple(sorted(keys))
        routed = [entry for entry in self._entries if entry.model.routes]
        # Each provider's names (lower-cased) and their entries, built once, not once a routed model.
        by_provider: dict[str, dict[str, _Entry]] = {}
        for entry in self._entries if routed else ():
            own = by_provider.setdefault(entry.model.provider, {})
            for label in (entry.model.id, *entry.model.aliases):
                own[label.lower()] = entry
        for entry in routed:
            self._link_routes(entry, by_provider[entry.model.provider])

    def _link_routes(self, entry: _Entry, own: dict[str, _Entry]) -> None:
        model = entry.model
        routes = []
        for route in model.routes:
            target = own.get(route.to.lower())
            if target is None or target is entry:
                # The loader checks this per file; a Catalog built from Models directly is checked here.
                raise CatalogError(entry.key, "routes", f"route to {route.to!r}: not another model of "
                                   f"provider {model.provider!r}")
            routes.append((route.starts.astimezone(UTC), target, route))
        entry.routes = tuple(reversed(routes))
        first = routes[0][0]
        entry.ends = first if entry.shutdown is None else min(first, entry.shutdown)

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Catalog:
        """A catalog from a TOML file, or a folder of them (one file a provider, say)."""
        contents, digest = read_catalog_files(path)
        # The compiled form of this exact TOML (same digest), if one was made: no parsing, no checks.
        models = compiled.read(digest)
        if models is not None:
            return cls(models, digest, [name for name, _ in contents])
        return cls._from_contents(contents, digest)

    @classmethod
    def loads(cls, *documents: str | bytes, names: Sequence[str] = ()) -> Catalog:
        """A catalog from TOML text, one document a file; ``names`` label them in errors."""
        labels = list(names) or [f"<catalog {i}>" for i in range(len(documents))]
        contents = [(label, doc.encode() if isinstance(doc, str) else doc)
                    for label, doc in zip(labels, documents, strict=True)]
        return cls._from_contents(contents, digest_of(contents))

    @classmethod
    def _from_contents(cls, contents: list[tuple[str, bytes]], digest: str) -> Catalog:
        models: list[Model] = []
        # Several files may hold one provider's models; a name must still mean one model there,
        # and the error must name the file (the parser only sees one file at a time).
        claimed: dict[tuple[str, str], str] = {}
        for name, data in contents:
            parsed = parse_catalog_file(name, data)
            for i, model in enumerate(parsed.models):
                labels = [(f"$.models[{i}].id", model.id)]
                labels += [(f"$.models[{i}].aliases[{j}]", a) for j, a in enumerate(model.aliases)]
                for path, label in labels:
                    key = (parsed.provider, label.lower())
                    if key in claimed:
                        raise CatalogError(name, path, f"name {label!r} of provider {parsed.provider!r} "
                                           f"is already used in {claimed[key]}")
                    claimed[key] = name
            models.extend(parsed.models)
        return cls(models, digest, [name for name, _ in contents])

    @staticmethod
    @functools.cache
    def default() -> Catalog:
        """The catalog shipped inside the package (``pricing/data/*.toml``), loaded once."""
        # os.path, not pathlib: importing pathlib is a noticeable share of a CLI run's start-up.
        return Catalog.load(os.path.join(os.path.dirname(__file__), "data"))

    # -- look-ups -------------------------------------------------------------------------------

    def models(self, provider: str | None = None) -> tuple[Model, ...]:
        """Every model, ordered by ``provider/id``; only ``provider``'s when given."""
        return tuple(e.model for e in self._entries if provider is None or e.model.provider == provider)

    def providers(self) -> tuple[str, ...]:
        return tuple(sorted({e.model.provider for e in self._entries}))

    def model(self, name: str) -> Model:
        """The model a user's name means: its id, an alias, or ``provider/name``, any case."""
        return self._entry(name).model

    def names(self) -> tuple[str, ...]:
        """Every name that resolves, lower-cased."""
        return tuple(sorted(self._names))

    def period_at(self, name: str, at: datetime, currency: str | None = None) -> Period:
        """The price period a quote for ``name`` at ``at`` (timezone aware) would use.

        After a route starts that is the target model's period; after a shutdown there is none.
        ``currency`` picks the price list as ``Workload.currency`` does.
        """
        if at.tzinfo is None or at.utcoffset() is None:
            raise NoPriceError(name, at, "the instant must be timezone aware")
        entry = self._entry(name)
        if entry.ends is not None and at >= entry.ends:
            entry = self._redirect(entry, at)
        _starts, _until, period, _windows, _rates, _batch_rates = self._period(
            entry, self._price_list(entry, currency, at), at)
        return period

    def _entry(self, name: str) -> _Entry:
        if not isinstance(name, str):
            raise InvalidWorkloadError("model", f"must be a model name (a string), got {type(name).__name__}")
        found = self._names.get(name)
        if found is None and len(name) > MAX_NAME_LENGTH:
            # No look-up and no fuzzy matching (quadratic in the name's length) for a name this long.
            raise UnknownModelError(name, ())
        if found is None:
            found = self._names.get(name.strip().lower())
        if found is None:
            import difflib  # only for the error: keeps `import pricing` light

            close = difflib.get_close_matches(name.strip().lower(), self._names, n=5, cutoff=0.6)
            raise UnknownModelError(name, close)
        if isinstance(found, tuple):
            raise AmbiguousModelError(name, found)
        return found

    @staticmethod
    def _price_list(entry: _Entry, currency: str | None, at: datetime) -> tuple[_PeriodSlot, ...]:
        if currency is None or currency == entry.currency:
            return entry.periods
        slots = entry.lists.get(currency)
        if slots is None:
            raise NoCurrencyPriceError(entry.key, at, currency, tuple(entry.lists))
        return slots

    @staticmethod
    def _period(entry: _Entry, slots: tuple[_PeriodSlot, ...], at: datetime) -> _PeriodSlot:
        for slot in slots:
            starts, until, _period, _windows, _rates, _batch_rates = slot
            if at >= starts:
                if until is not None and at >= until:
                    raise NoPriceError(entry.key, at, f"{entry.key} has no {_list_name(entry, slot)}price "
                                       f"after {until.isoformat()} (retired, or a gap in its sourced history)")
                return slot
        first = slots[-1]
        starts, _until, _period, _windows, _rates, _batch_rates = first
        raise NoPriceError(entry.key, at, f"{entry.key} has no {_list_name(entry, first)}price before "
                           f"{starts.isoformat()} (its launch, or the earliest price a source shows)")

    @staticmethod
    def _route_in_force(entry: _Entry, at: datetime) -> tuple[datetime, _Entry, Route] | None:
        for route in entry.routes:
            starts, _target, _route = route
            if at >= starts:
                return route
        return None

    def _redirect(self, entry: _Entry, at: datetime) -> _Entry:
        """The entry that prices ``entry``'s name at ``at``, once ``at`` is past ``entry.ends``."""
        found = self._route_in_force(entry, at)
        if found is None:
            shutdown = entry.shutdown
            assert shutdown is not None  # ends is the first route's start or the shutdown
            raise NoPriceError(entry.key, at, f"{entry.key} was shut down on {shutdown.date()} "
                               f"({shutdown.isoformat()}, {entry.model.shutdown_source}): it has no price "
                               f"after that; price the model that replaces it")
        starts, target, _ = found
        if target.ends is not None and at >= target.ends:
            if self._route_in_force(target, at) is not None:
                raise NoPriceError(entry.key, at, f"{entry.key} is billed as {target.key} from "
                                   f"{starts.isoformat()}, and {target.key} is itself billed as another model "
                                   f"at {at.isoformat()}: a route must name the model that prices it (fix "
                                   "the catalog: route to the final model)")
            try:
                self._redirect(target, at)
            except NoPriceError as exc:
                raise NoPriceError(entry.key, at, f"{entry.key} is billed as {target.key} from "
                                   f"{starts.isoformat()}, but {exc.reason}") from None
        return target

    def price_boundaries(self, name: str, start: datetime, end: datetime) -> tuple[datetime, ...]:
        """The UTC instants in ``(start, end)`` at which the price of ``name`` may change, in order.

        A superset: period and window limits, every daily start and end of every window (both
        readings of an ambiguous local time), the offset changes of each window's zone, the
        model's shutdown and routes, and the boundaries of each route's target while it is in
        force. Between two consecutive boundaries one quote, at any instant, holds for the whole
        stretch.
        """
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidWorkloadError("from", "must be timezone aware")
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        found: set[datetime] = set()
        self._boundaries(self._entry(name), start, end, found, depth=0)
        return tuple(sorted(t for t in found if start < t < end))

    def _boundaries(self, entry: _Entry, start: datetime, end: datetime, found: set[datetime], depth: int) -> None:
        for starts, until, _, windows, _, _ in entry.periods:
            found.add(starts)
            if until is not None:
                found.add(until)
            if (until is not None and until <= start) or starts >= end:
                continue
            for window in windows:
                found.update(_window_boundaries(window, max(start, starts), min(end, until or end)))
        model = entry.model
        if model.shutdown is not None:
            found.add(model.shutdown.astimezone(UTC))
        routes = model.routes
        for i, route in enumerate(routes):
            begins = route.starts.astimezone(UTC)
            ends = routes[i + 1].starts.astimezone(UTC) if i + 1 < len(routes) else end
            found.add(begins)
            if depth < 8 and begins < end and ends > start:
                target = self._names.get(f"{model.provider}/{route.to}".lower())
                if isinstance(target, _Entry):
                    self._boundaries(target, max(start, begins), min(end, ends), found, depth + 1)

    # -- pricing --------------------------------------------------------------------------------

    def quote(self, workload: Workload) -> Quote:
        """The exact, itemised price of ``workload`` at the instant it names (now if none)."""
        return self._quote(self._entry(workload.model), workload, workload.at or datetime.now(UTC))

    def quote_many(self, workloads: Iterable[Workload], now: datetime | None = None) -> list[Quote]:
        """``quote`` of each workload, in order; a workload without ``at`` is priced at ``now``.

        ``now`` (default: the current time, read once) lets a caller price a long list in chunks
        at one shared instant. The first workload that cannot be priced raises its error, with its
        position in ``workloads`` as the error's ``index``.
        """
        if now is None:
            now = datetime.now(UTC)
        elif now.tzinfo is None or now.utcoffset() is None:
            raise InvalidWorkloadError("now", "must be timezone aware")
        quotes: list[Quote] = []
        append = quotes.append
        try:
            for w in workloads:
                append(self._quote(self._entry(w.model), w, w.at or now))
        except PricingError as exc:
            exc.index = len(quotes)
            raise
        return quotes

    def _quote(self, entry: _Entry, usage: Usage, at: datetime) -> Quote:
        routed_from = None
        if entry.ends is not None and at >= entry.ends:
            asked = entry
            entry = self._redirect(entry, at)
            routed_from = asked.model.id
            try:
                slots = self._price_list(entry, usage.currency, at)
                _, until, period, windows, plan, batch = self._period(entry, slots, at)
            except NoPriceError as exc:
                raise _routed_error(asked, entry, at, exc) from None
        else:
            currency = usage.currency
            # The default price list without a call: this is the path almost every quote takes.
            slots = (entry.periods if currency is None or currency == entry.currency
                     else self._price_list(entry, currency, at))
            _, until, period, windows, plan, batch = self._period(entry, slots, at)
        window_name = None
        if usage.batch:
            if batch is None:
                error = NoBatchPriceError(entry.key, at, f"{entry.key} has no batch price at {at.isoformat()}")
                raise error if routed_from is None else _routed_error(asked, entry, at, error)
            plan = batch
        else:
            try:
                for window in windows:
                    if _window_active(window, at):
                        window_name, _starts, _until, _zone, _days, _start, _end, _excepted, plan = window
                        break
            except OverflowError:
                # The instant is valid, but its local time in the window's zone is past year 9999 (or
                # before year 1): no price list reaches that far.
                raise InvalidWorkloadError(
                    "at", f"{at.isoformat()} is too far from today to price: use an instant between "
                    "the years 0002 and 9998") from None
        row, tiers = plan
        prompt = usage.input_tokens
        for threshold, inclusive, tier_row in tiers:
            if prompt > threshold or (inclusive and prompt == threshold):
                row = tier_row
                break
        input_rate, cached_rate, write_rate, long_rate, output_rate, tier_name = row

        n = usage.requests
        cached = usage.cached_input_tokens * n
        written = usage.cache_write_tokens * n
        written_1h = usage.cache_write_1h_tokens * n
        uncached = prompt * n - cached - written - written_1h
        output = usage.output_tokens * n
        # Operators under the trapping context are much cheaper than EXACT.multiply & co.; the
        # caller's context is put back whatever happens.
        caller = getcontext()
        setcontext(EXACT)
        try:
            a_input = uncached * input_rate / _MILLION if uncached else _ZERO
            a_cached = cached * cached_rate / _MILLION if cached else _ZERO
            a_written = written * write_rate / _MILLION if written else _ZERO
            a_output = output * output_rate / _MILLION if output else _ZERO
            total = a_input + a_cached + a_written + a_output
            if written_1h:
                a_written_1h = written_1h * long_rate / _MILLION
                total += a_written_1h
        finally:
            setcontext(caller)
        lines = [
            Line(kind="input", tokens=uncached, rate=input_rate, amount=a_input),
            Line(kind="cached_input", tokens=cached, rate=cached_rate, amount=a_cached),
            Line(kind="cache_write", tokens=written, rate=write_rate, amount=a_written),
            Line(kind="output", tokens=output, rate=output_rate, amount=a_output),
        ]
        if written_1h:
            lines.insert(3, Line(kind="cache_write_1h", tokens=written_1h, rate=long_rate, amount=a_written_1h))
        model = entry.model
        return Quote(
            model=model.id,
            provider=model.provider,
            currency=period.currency,
            at=at,
            requests=n,
            batch=usage.batch,
            lines=tuple(lines),
            total=total,
            source=period.source,
            checked=period.checked,
            period_from=period.starts,
            period_until=until,
            window=window_name,
            tier=tier_name,
            catalog_digest=self.digest,
            routed_from=routed_from,
        )

    def compare(
        self,
        workload: Usage,
        models: Sequence[str] | None = None,
        baseline: str | None = None,
    ) -> tuple[RankedQuote, ...]:
        """The same token profile priced on each model, cheapest first.

        With ``models`` None, every model with a price at that instant (a batch price, for a batch
        workload) is priced; named models must all have one. The baseline is always included, and
        each quote carries its saving against it in percent (2 places, half-even). Quotes in
        different currencies are never compared: they sort by currency first.
        """
        at = workload.at or datetime.now(UTC)
        chosen: dict[str, _Entry] = {}
        base_entry = self._entry(baseline) if baseline is not None else None
        if isinstance(models, str):
            # A lone string is a sequence of one-letter "names": refuse it rather than look those up.
            raise InvalidWorkloadError("models", f"must be a list of model names, got the string {models!r}")
        if models is None:
            # A name billed as another model at that instant would list the other model twice.
            candidates = [e for e in self._entries if self._route_in_force(e, at) is None]
        else:
            candidates = [self._entry(name) for name in models]
        quotes: dict[str, Quote] = {}
        for entry in candidates:
            if entry.key in chosen:
                continue
            chosen[entry.key] = entry
            try:
                quotes[entry.key] = self._quote(entry, workload, at)
            except NoPriceError:
                if models is not None:
                    raise
        if base_entry is not None and base_entry.key not in quotes:
            quotes[base_entry.key] = self._quote(base_entry, workload, at)
        base = quotes[base_entry.key] if base_entry is not None else None
        ranked = [
            RankedQuote(**msgspec.structs.asdict(q), savings_percent=_savings(q, base))
            for q in quotes.values()
        ]
        ranked.sort(key=lambda q: (q.currency, q.total, q.provider, q.model))
        return tuple(ranked)


def _list_name(entry: _Entry, slot: _PeriodSlot) -> str:
    """The currency to name in an error (``"CNY "``), when the model has several price lists."""
    _starts, _until, period, _windows, _rates, _batch_rates = slot
    return f"{period.currency} " if len(entry.lists) > 1 else ""


def _routed_error(asked: _Entry, target: _Entry, at: datetime, exc: NoPriceError) -> NoPriceError:
    """``exc`` (raised pricing ``target``) as the error of the name asked for, saying it was routed."""
    route = Catalog._route_in_force(asked, at)
    assert route is not None
    starts, _target, _route = route
    reason = f"{asked.key} is billed as {target.key} from {starts.isoformat()}, and {exc.reason}"
    if isinstance(exc, NoCurrencyPriceError):
        return NoCurrencyPriceError(asked.key, at, exc.currency, exc.available, reason=reason)
    return type(exc)(asked.key, at, reason)


def _savings(quote: Quote, base: Quote | None) -> Decimal | None:
    if base is None or base.currency != quote.currency or not base.total:
        return None
    ratio = _PERCENT.divide(_PERCENT.multiply(_PERCENT.subtract(base.total, quote.total), _HUNDRED), base.total)
    return ratio.quantize(_CENT, rounding=ROUND_HALF_EVEN, context=_PERCENT)


def totals_by_currency(quotes: Iterable[Quote], totals: dict[str, Decimal] | None = None) -> dict[str, Decimal]:
    """The exact sum of the quotes' totals per currency (never added across currencies), added into
    ``totals`` when given (to sum a long list a chunk at a time)."""
    totals = {} if totals is None else totals
    caller = getcontext()
    setcontext(EXACT)  # a sum that would need rounding raises instead
    try:
        for q in quotes:
            totals[q.currency] = totals.get(q.currency, _ZERO) + q.total
    finally:
        setcontext(caller)
    return totals

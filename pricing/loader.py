"""Reading catalog files: TOML to frozen Structs, with every rule checked and named on failure.

Start-up cost matters here (every CLI run and worker reads the catalog, mostly its compiled form):
reading the files and their digest use only ``os``, and the modules only parsing and checking TOML
needs (``tomllib``, ``zoneinfo``) are imported when a file is parsed.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from pricing.errors import CatalogError
from pricing.schema import CatalogFile, Model, Period, Pricing, Rates, Route, Tier, Window

_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
Fail = Callable[[str, str], CatalogError]
_RATE_FIELDS = ("input", "output", "cached_input", "cache_write", "cache_write_1h")
#: Bounds on how a price is written. With them every amount (at most 10**22 tokens a line, see
#: pricing.workload) has at most 55 digits, so the engine's exact 80-digit context never has to round;
#: an unbounded price (1e100, or 80 decimals) made quoting fail with a bare decimal.Rounded.
_MAX_RATE_PLACES = 20
_RATE_LIMIT = Decimal("1e12")


def read_catalog_files(path: str | os.PathLike[str]) -> tuple[list[tuple[str, bytes]], str]:
    """The ``(name, bytes)`` of the catalog at ``path`` (a file, or a folder of ``*.toml``) and its digest.

    The digest is SHA-256 over every file's name and bytes, in name order, so the same catalog
    gives the same digest wherever it is installed.
    """
    where = os.fspath(path)
    if os.path.isdir(where):
        try:
            names = sorted(name for name in os.listdir(where) if name.endswith(".toml"))
        except OSError as exc:
            raise CatalogError(where, "", f"cannot list this folder: {exc.strerror or exc}") from None
        if not names:
            raise CatalogError(where, "", "no *.toml catalog files in this folder")
        files = [os.path.join(where, name) for name in names]
    elif os.path.lexists(where):
        files = [where]  # the reader refuses what is not a regular file, naming it
    else:
        raise CatalogError(where, "", "no such file or folder")
    contents = [(os.path.basename(f), _read_regular_file(f)) for f in files]
    return contents, digest_of(contents)


def _require_regular(path: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        what = ("a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise CatalogError(str(path), "", f"is {what}; a catalog entry must be a regular *.toml file")


def _read_regular_file(path: str) -> bytes:
    """The bytes of ``path``, which must be a regular file: a FIFO would block the reader for ever."""
    try:
        _require_regular(path, os.stat(path).st_mode)
        # O_NONBLOCK: should a FIFO be swapped in after the check, opening it does not wait for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise CatalogError(str(path), "", f"cannot read it: {exc.strerror or exc}") from None
    try:
        _require_regular(path, os.fstat(fd).st_mode)
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read()
    except OSError as exc:
        raise CatalogError(str(path), "", f"cannot read it: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def digest_of(contents: Iterable[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in contents:
        h.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return "sha256:" + h.hexdigest()


def parse_catalog_file(name: str, data: bytes | str) -> CatalogFile:
    """Decode and validate one catalog file; ``CatalogError`` names the file and the field."""
    import tomllib  # only a TOML parse needs it: a compiled catalog loads without

    try:
        # Decoded inside the try: a file that is not UTF-8 must fail as a CatalogError naming it.
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        # parse_float=Decimal: a TOML number like 0.55 never passes through a binary float.
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(name, "", f"not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(name, "", f"not UTF-8 text: {exc}") from None
    except RecursionError:
        raise CatalogError(name, "", "not a catalog: its tables or arrays nest too deeply") from None
    try:
        catalog = msgspec.convert(raw, CatalogFile)
    except RecursionError:
        raise CatalogError(name, "", "not a catalog: its tables or arrays nest too deeply") from None
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `")
        raise CatalogError(name, where.rstrip("`") or "$", message) from None
    _check_file(name, catalog)
    return msgspec.structs.replace(
        catalog,
        models=tuple(msgspec.structs.replace(m, provider=catalog.provider) for m in catalog.models),
    )


def _check_file(name: str, catalog: CatalogFile) -> None:
    def fail(path: str, reason: str) -> CatalogError:
        return CatalogError(name, path, reason)

    if not _ID.match(catalog.provider):
        raise fail("$.provider", f"{catalog.provider!r} is not an id: use lower-case letters, digits, '.', '-', '_'")
    seen: set[str] = set()
    #: Each lower-cased name of the file, and the id of the model it names.
    owners: dict[str, str] = {}
    for i, model in enumerate(catalog.models):
        where = f"$.models[{i}]"
        if not _ID.match(model.id):
            raise fail(f"{where}.id", f"{model.id!r} is not an id: use lower-case letters, digits, '.', '-', '_', ':'")
        if model.provider:
            raise fail(f"{where}.provider", "set the provider once, at the top of the file")
        if not model.periods:
            raise fail(f"{where}.periods", f"model {model.id!r} has no price periods")
        for j, alias in enumerate(model.aliases):
            if not alias.strip() or alias != alias.strip():
                raise fail(f"{where}.aliases[{j}]", f"alias {alias!r} is empty or has surrounding spaces")
        labels = [(f"{where}.id", model.id)]
        labels += [(f"{where}.aliases[{j}]", alias) for j, alias in enumerate(model.aliases)]
        for path, label in labels:
            key = label.lower()
            if key in seen:
                raise fail(path, f"name {label!r} is used twice in provider {catalog.provider!r}")
            seen.add(key)
            owners[key] = model.id
        _check_periods(fail, where, model)
        _check_shutdown(fail, where, model)
    for i, model in enumerate(catalog.models):
        twin = model.same_prices_as
        if twin is not None and (twin.lower() not in seen or twin in (model.id, *model.aliases)):
            raise fail(f"$.models[{i}].same_prices_as",
                       f"{twin!r} must name another model of provider {catalog.provider!r}")
        _check_routes(fail, f"$.models[{i}]", model, owners, catalog.provider)


def _check_shutdown(fail: Fail, where: str, model: Model) -> None:
    if model.shutdown is None:
        if model.shutdown_source is not None:
            raise fail(f"{where}.shutdown_source", f"{model.id}: shutdown_source without shutdown; "
                       "give the announced shutdown instant too")
        return
    _check_instant(fail, f"{where}.shutdown", model.shutdown)
    if model.shutdown_source is None:
        raise fail(f"{where}.shutdown_source", f"{model.id}: give the URL where the shutdown was announced")
    if not model.shutdown_source.startswith(("https://", "http://")):
        raise fail(f"{where}.shutdown_source",
                   f"{model.id}: shutdown_source must be a URL, got {model.shutdown_source!r}")


def _check_routes(fail: Fail, where: str, model: Model, owners: dict[str, str], provider: str) -> None:
    previous: Route | None = None
    for k, route in enumerate(model.routes):
        at = f"{where}.routes[{k}]"
        _check_instant(fail, f"{at}.from", route.starts)
        if previous is not None and route.starts <= previous.starts:
            raise fail(f"{at}.from", f"{model.id}: routes must be in time order; {route.starts} is not "
                       f"after the previous route's start {previous.starts}")
        target = owners.get(route.to.lower())
        if target is None:
            raise fail(f"{at}.to", f"{route.to!r} is not a model of provider {provider!r} in this file; "
                       "a route names an id or alias of the same provider's file")
        if target == model.id:
            raise fail(f"{at}.to", f"{model.id}: a route must name another model, not the model itself")
        if not route.source.startswith(("https://", "http://")):
            raise fail(f"{at}.source", f"{model.id}: source must be the URL the route was read from, "
                       f"got {route.source!r}")
        previous = route


def _check_periods(fail: Fail, where: str, model: Model) -> None:
    # Each currency is its own price list: periods are ordered and must not overlap within one.
    latest: dict[str, Period] = {}
    for j, period in enumerate(model.periods):
        previous = latest.get(period.currency)
        at = f"{where}.periods[{j}]"
        _check_instant(fail, f"{at}.from", period.starts)
        if period.until is not None:
            _check_instant(fail, f"{at}.until", period.until)
            if period.until <= period.starts:
                raise fail(f"{at}.until", f"{model.id}: until {period.until} is not after from {period.starts}")
        if previous is not None:
            if period.starts <= previous.starts:
                raise fail(f"{at}.from", f"{model.id}: periods must be in time order; {period.starts} is not after the previous period's start {previous.starts}")
            if previous.until is not None and previous.until > period.starts:
                raise fail(f"{at}.from", f"{model.id}: overlaps the previous period, which runs until {previous.until}")
        if not period.source.startswith(("https://", "http://")):
            raise fail(f"{at}.source", f"{model.id}: source must be the URL the price was read from, got {period.source!r}")
        if not _CURRENCY.match(period.currency):
            raise fail(f"{at}.currency", f"{period.currency!r} is not an ISO 4217 code such as 'USD'")
        _check_pricing(fail, at, period)
        if period.batch is not None:
            _check_pricing(fail, f"{at}.batch", period.batch)
        names: set[str] = set()
        for k, window in enumerate(period.windows):
            wat = f"{at}.windows[{k}]"
            if window.name in names:
                raise fail(f"{wat}.name", f"window name {window.name!r} is used twice in this period")
            names.add(window.name)
            _check_window(fail, wat, window)
        latest[period.currency] = period


def _check_instant(fail: Fail, path: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise fail(path, f"{value} has no UTC offset; write it as e.g. 2025-01-20T00:00:00Z")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise fail(path, f"{value} is outside the years 1 to 9999 in UTC") from None


def _check_rates(fail: Fail, path: str, rates: Rates) -> None:
    for field in _RATE_FIELDS:
        value: Decimal | None = getattr(rates, field)
        if value is None:
            continue
        # is_signed: a "-0.0" price would print its amounts as -0E-7.
        if not value.is_finite() or value < 0 or value.is_signed():
            raise fail(f"{path}.{field}", f"price must be a finite number >= 0, got {value}")
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -_MAX_RATE_PLACES:
            raise fail(f"{path}.{field}", f"price {value} has more than {_MAX_RATE_PLACES} digits after the point")
        if value >= _RATE_LIMIT:
            raise fail(f"{path}.{field}", f"price {value} per million tokens is not below {_RATE_LIMIT:f}")


def _check_pricing(fail: Fail, path: str, pricing: Pricing) -> None:
    _check_rates(fail, path, pricing)
    previous: Tier | None = None
    for i, tier in enumerate(pricing.tiers):
        at = f"{path}.tiers[{i}]"
        _check_rates(fail, at, tier)
        if tier.threshold <= 0:
            raise fail(f"{at}.threshold", f"threshold must be a positive token count, got {tier.threshold}")
        if previous is not None and tier.threshold <= previous.threshold:
            raise fail(f"{at}.threshold", "tiers must be listed in increasing threshold order")
        previous = tier


def _check_window(fail: Fail, path: str, window: Window) -> None:
    _check_pricing(fail, path, window)
    if window.source is not None and not window.source.startswith(("https://", "http://")):
        raise fail(f"{path}.source", f"source must be the URL the price was read from, got {window.source!r}")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # only checking a TOML file needs it

    try:
        ZoneInfo(window.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"{path}.timezone", f"unknown time zone {window.timezone!r}; use an IANA name such as 'UTC' or 'Asia/Shanghai'") from None
    for field in ("start", "end"):
        value = getattr(window, field)
        if value.tzinfo is not None:
            raise fail(f"{path}.{field}", "give a local time without offset; the zone is set by 'timezone'")
    if window.start == window.end:
        raise fail(f"{path}.end", "end equals start: a window must not be empty or the whole day")
    if len(set(window.days)) != len(window.days):
        raise fail(f"{path}.days", "a weekday is listed twice")
    if window.starts is not None:
        _check_instant(fail, f"{path}.from", window.starts)
    if window.until is not None:
        _check_instant(fail, f"{path}.until", window.until)
    if window.starts is not None and window.until is not None and window.until <= window.starts:
        raise fail(f"{path}.until", "until must be after from")
    for k in range(1, len(window.except_dates)):
        if window.except_dates[k] <= window.except_dates[k - 1]:
            raise fail(f"{path}.except_dates[{k}]", "list the dates once each, in ascending order")

"""The catalog's data types: what a TOML catalog file holds, and what the engine prices from.

Every rate is a ``Decimal`` per million tokens. The same frozen Structs are decoded from the file
and used at run time, so there is one description of the format: this module.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Each class spells out its Struct options (not a shared ** dict): mypy only sees kw_only written
# out, and without it reports every required field after a defaulted one as an error.


class Rates(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Prices per million tokens. A missing cache rate bills those tokens as plain input."""

    input: Decimal
    output: Decimal
    #: Cache reads ("cache hit").
    cached_input: Decimal | None = None
    #: Cache writes (Anthropic's 5-minute cache, Google's cache creation).
    cache_write: Decimal | None = None
    #: Writes to a longer-lived cache (Anthropic's 1-hour cache).
    cache_write_1h: Decimal | None = None


class Tier(Rates, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Rates for a request whose prompt (``input_tokens``) is above a size.

    The whole request is priced at the tier's rates. ``boundary`` says whether a prompt of exactly
    ``threshold`` tokens is in the tier (``">="``) or not (``">"``); the file must say which.
    """

    threshold: int
    boundary: Literal[">", ">="]


class Pricing(Rates, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base rates and the prompt-size tiers above them, lowest threshold first."""

    tiers: tuple[Tier, ...] = ()


class Window(Pricing, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A recurring time of day with its own rates (an off-peak discount, say).

    ``start``/``end`` are local times in ``timezone``; ``end`` at or before ``start`` means the
    window runs past midnight into the next day. ``days`` lists the weekdays a window *starts* on
    (empty: every day). ``from``/``until`` limit the window to a range of instants.
    """

    name: str
    start: time
    end: time
    timezone: str = "UTC"
    days: tuple[Weekday, ...] = ()
    starts: datetime | None = msgspec.field(default=None, name="from")
    until: datetime | None = None
    source: str | None = None
    except_dates: Annotated[tuple[date, ...], msgspec.Meta(description=(
        "Local dates (in the window's timezone), ascending, on which a window starting that day does "
        "not apply: public holidays on which a weekday peak window is off, say."
    ))] = ()


class Period(Pricing, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The prices in force over ``[from, until)``; ``until`` defaults to the next period's start."""

    starts: datetime = msgspec.field(name="from")
    source: str
    checked: date
    until: datetime | None = None
    currency: str = "USD"
    batch: Pricing | None = None
    windows: tuple[Window, ...] = ()
    note: str = ""


class Route(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """From ``from`` on, requests for the model's names are billed as another model of the provider.

    A provider that retires a name and serves it with a newer model "billed at the new model's
    rates" is written as a route: a quote for the old name at or after ``from`` is priced exactly as
    ``to`` at that instant, and says so (``Quote.routed_from``).
    """

    starts: Annotated[datetime, msgspec.Meta(description=(
        "The instant (with its UTC offset) from which the name is billed as `to`."
    ))] = msgspec.field(name="from")
    to: Annotated[str, msgspec.Meta(description=(
        "The model the requests are billed as: an id or alias in the same provider's file."
    ))]
    source: Annotated[str, msgspec.Meta(description="The URL where the provider announced the route.")]
    checked: Annotated[date, msgspec.Meta(description="The date the route was last checked against its source.")]
    note: Annotated[str, msgspec.Meta(description="What the provider says, quoted where possible.")] = ""


class Model(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One model at one provider, with its price history, oldest period first."""

    id: str
    periods: tuple[Period, ...]
    name: str = ""
    aliases: tuple[str, ...] = ()
    #: Another model of the same provider that is deliberately priced exactly like this one
    #: (a reasoning and a non-reasoning variant, say): ``catalog check`` then does not flag the pair.
    same_prices_as: str | None = None
    routes: Annotated[tuple[Route, ...], msgspec.Meta(description=(
        "Where the provider bills this model's names as another model, oldest first; the last one "
        "started is in force."
    ))] = ()
    shutdown: Annotated[datetime | None, msgspec.Meta(description=(
        "The shutdown instant the provider announced (kept as announced, even when past): after it, "
        "without a route, the model has no price."
    ))] = None
    shutdown_source: Annotated[str | None, msgspec.Meta(description=(
        "The URL where the shutdown was announced; required with `shutdown`."
    ))] = None
    #: Filled in by the loader from the file's ``provider``.
    provider: str = ""


class CatalogFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One TOML file: a provider and the models it sells."""

    provider: str
    models: tuple[Model, ...] = ()
    provider_name: str = ""
    provider_url: str = ""

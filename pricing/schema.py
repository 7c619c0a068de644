"""The catalog's data types: what a TOML catalog file holds, and what the engine prices from.

Every rate is a ``Decimal`` per million tokens. The same frozen Structs are decoded from the file
and used at run time, so there is one description of the format: this module.

No ``from __future__ import annotations`` here, on purpose: msgspec must resolve every field's type
before the first decode, and evaluating string annotations took most of a compiled catalog's load.
"""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_MONEY = 'an exact decimal in a JSON string, e.g. "2.19"; never rounded'
_RATE = f"Price per million tokens in the period's currency: {_MONEY}."
_TIERS = "Prompt-size tiers above the base rates, lowest threshold first."


def doc(text: str) -> msgspec.Meta:
    """A field's description, here once for the API document and the reader; it constrains nothing."""
    return msgspec.Meta(description=text)


# Each class spells out its Struct options (not a shared ** dict): mypy only sees kw_only written
# out, and without it reports every required field after a defaulted one as an error.


class Rates(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Prices per million tokens. A missing cache rate bills those tokens as plain input."""

    input: Annotated[Decimal, doc(f"Uncached prompt tokens. {_RATE}")]
    output: Annotated[Decimal, doc(f"Output tokens, reasoning included. {_RATE}")]
    cached_input: Annotated[Decimal | None, doc(f"Cache reads (cache hits); null: billed as input. {_RATE}")] = None
    cache_write: Annotated[Decimal | None, doc(
        f"Cache writes (Anthropic's 5-minute cache, Google's cache creation); null: billed as input. {_RATE}")] = None
    cache_write_1h: Annotated[Decimal | None, doc(
        f"Writes to a longer-lived cache (Anthropic's 1-hour cache); null: billed as input. {_RATE}")] = None


class Tier(Rates, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Rates for a request whose prompt (``input_tokens``) is above a size.

    The whole request is priced at the tier's rates. ``boundary`` says whether a prompt of exactly
    ``threshold`` tokens is in the tier (``">="``) or not (``">"``); the file must say which.
    """

    threshold: Annotated[int, doc("Prompt size (input tokens) the tier starts at.")]
    boundary: Annotated[Literal[">", ">="], doc("`>`: prompts above `threshold`; `>=`: from `threshold` on.")]


class Pricing(Rates, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base rates and the prompt-size tiers above them, lowest threshold first."""

    tiers: Annotated[tuple[Tier, ...], doc(_TIERS)] = ()


class Window(Pricing, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A recurring time of day with its own rates (an off-peak discount, say).

    ``start``/``end`` are local times in ``timezone``; ``end`` at or before ``start`` means the
    window runs past midnight into the next day. ``days`` lists the weekdays a window *starts* on
    (empty: every day). ``from``/``until`` limit the window to a range of instants.
    """

    name: Annotated[str, doc("Name of the window, e.g. `off-peak`.")]
    start: Annotated[time, doc("Local start time in `timezone`, `HH:MM:SS` (no offset).")]
    end: Annotated[time, doc("Local end time, `HH:MM:SS`; at or before `start` means the window runs past midnight.")]
    timezone: Annotated[str, doc("IANA time zone of `start` and `end`.")] = "UTC"
    days: Annotated[tuple[Weekday, ...], doc("Weekdays the window starts on; empty: every day.")] = ()
    starts: Annotated[datetime | None, doc("First instant the window applies, if limited.")] = msgspec.field(
        default=None, name="from")
    until: Annotated[datetime | None, doc("Instant the window stops applying (exclusive), if limited.")] = None
    source: Annotated[str | None, doc("Where the window was published, if not the period's source.")] = None
    except_dates: Annotated[tuple[date, ...], doc(
        "Local dates (in the window's timezone), ascending, on which a window starting that day does "
        "not apply: public holidays on which a weekday peak window is off, say.")] = ()


class Period(Pricing, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The prices in force over ``[from, until)``; ``until`` defaults to the next period's start."""

    starts: Annotated[datetime, doc("Start of the period (RFC 3339).")] = msgspec.field(name="from")
    source: Annotated[str, doc("URL the price was read from.")]
    checked: Annotated[date, doc("Date the price was last checked against `source`.")]
    until: Annotated[datetime | None, doc(
        "End of the period (exclusive); null: until the next period, or current if last.")] = None
    currency: Annotated[str, doc("ISO 4217 currency of every rate in the period.")] = "USD"
    batch: Annotated[Pricing | None, doc("Batch-API rates; null: the model has no batch price in this period.")] = None
    windows: Annotated[tuple[Window, ...], doc(
        "Recurring windows (an off-peak discount, say) whose rates replace the period's while they run.")] = ()
    note: Annotated[str, doc("Why the period exists, and where each fact came from (free text).")] = ""


class Route(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """From ``from`` on, requests for the model's names are billed as another model of the provider.

    A provider that retires a name and serves it with a newer model "billed at the new model's
    rates" is written as a route: a quote for the old name at or after ``from`` is priced exactly as
    ``to`` at that instant, and says so (``Quote.routed_from``).
    """

    starts: Annotated[datetime, doc(
        "The instant (with its UTC offset) from which the name is billed as `to`.")] = msgspec.field(name="from")
    to: Annotated[str, doc("The model the requests are billed as: an id or alias in the same provider's file.")]
    source: Annotated[str, doc("The URL where the provider announced the route.")]
    checked: Annotated[date, doc("The date the route was last checked against its source.")]
    note: Annotated[str, doc("What the provider says, quoted where possible.")] = ""


class Model(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One model at one provider, with its price history, oldest period first."""

    id: Annotated[str, doc("Canonical id, unique within the provider.")]
    periods: Annotated[tuple[Period, ...], doc("Price periods, oldest first.")]
    name: Annotated[str, doc("Display name.")] = ""
    aliases: Annotated[tuple[str, ...], doc(
        "Other names that resolve to this model (`provider/name` resolves too).")] = ()
    same_prices_as: Annotated[str | None, doc(
        "Id of another model of the same provider deliberately priced exactly like this one (a reasoning "
        "and a non-reasoning variant, say), so that `catalog check` does not flag the pair; null if none.")] = None
    routes: Annotated[tuple[Route, ...], doc(
        "Where the provider bills this model's names as another model, oldest first; the last one "
        "started is in force.")] = ()
    shutdown: Annotated[datetime | None, doc(
        "The shutdown instant the provider announced (kept as announced, even when past): after it, "
        "without a route, the model has no price.")] = None
    shutdown_source: Annotated[str | None, doc(
        "The URL where the shutdown was announced; required with `shutdown`.")] = None
    provider: Annotated[str, doc("Id of the provider selling the model (the loader sets it from the file).")] = ""


class CatalogFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One TOML file: a provider and the models it sells."""

    provider: Annotated[str, doc("Id of the provider, e.g. `openai`.")]
    models: Annotated[tuple[Model, ...], doc("The provider's models.")] = ()
    provider_name: Annotated[str, doc("Display name of the provider.")] = ""
    provider_url: Annotated[str, doc("The provider's pricing page.")] = ""

"""Self-hosting quote: open weights on rented GPUs, sized from prefill and decode throughput, beside the APIs.

The sizing (all of it exact, in ``Fraction``s)::

    node-seconds = prefill tokens / prefill rate + output tokens / decode rate
    nodes        = node-seconds / (span seconds * utilisation) * peak ratio
    billed nodes = max(nodes, the profile's smallest deployment)
    total        = billed nodes * GPUs per node * hours * price per GPU-hour

Prefill tokens are all input tokens when the profile's prefill rate includes cache hits, else only the
uncached ones. Division cannot be avoided here (tokens / rate), so results are rounded once, half-even,
to the places in ``PLACES``; everything before that rounding is exact. API quotes come from
``Catalog.quote`` unrounded.

Break-even: self-hosting costs at least ``min_nodes`` nodes all day, and beyond that grows with volume
at the profile's marginal rate, while an API grows linearly from zero. When the API's marginal cost is
above self-hosting's, the daily token volume (input + output, in this usage's mix) at which the API's
bill reaches the smallest deployment's daily cost is the break-even: above it self-hosting is cheaper.
Otherwise there is none (the API is cheaper at every volume).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal, Inexact, InvalidOperation, Rounded
from fractions import Fraction
from typing import Annotated, Literal

import msgspec

from pricing import fx as fxrates
from pricing.bounds import bounded
from pricing.catalog import EXACT, Catalog
from pricing.errors import InvalidWorkloadError, NoPriceError, PricingError
from pricing.schema import doc
from pricing.selfhost_data import RATE_LIMIT, GpuOffer, SelfhostData, ServingProfile
from pricing.workload import MAX_REQUESTS, MAX_TOKENS, Usage, Workload

#: Decimal places of each rounded result (half-even).
PLACES = {"nodes": 6, "gpu_hours": 6, "money": 6, "percent": 2, "node_seconds": 3}
#: Largest token total accepted in one field: 10**16 (ten quadrillion).
MAX_TOTAL_TOKENS = 10**16
#: Largest node accepted (an NVL72 rack is 72).
MAX_GPUS_PER_NODE = 100_000
#: Default request shape of the API quotes: the totals are spread over enough requests that none has
#: more than this many input or output tokens, below every prompt-size tier in the catalog.
DEFAULT_REQUEST_TOKENS = 10_000
_MILLION = 1_000_000
#: The one subtraction done on Decimals (API total minus the rounded self-hosting total): exact at any
#: size in this context, and it would raise rather than round.
_WIDE = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[InvalidOperation, Inexact, Rounded])
_SECONDS_PER_HOUR = 3600



class InlineProfile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A serving profile given in the request instead of by id: rates per node."""

    gpu: Annotated[str, doc("The GPU model, e.g. `H800`.")]
    gpus_per_node: Annotated[int, doc("GPUs in one node (the unit the rates are measured on).")]
    prefill_tokens_per_second: Annotated[Decimal, doc("Input tokens one node prefills per second.")]
    decode_tokens_per_second: Annotated[Decimal, doc("Output tokens one node decodes per second.")]
    prefill_includes_cache_hits: Annotated[bool, doc(
        "True (default): the prefill rate counts cache hits too, so every input token costs prefill time. "
        "False: cache hits cost no prefill time.")] = True
    min_nodes: Annotated[Decimal, doc("The smallest deployment, in nodes (default 1).")] = Decimal(1)


class ApiComparison(msgspec.Struct, frozen=True, kw_only=True):
    """The same token totals quoted on one API model, against the self-hosting total."""

    name: Annotated[str, doc("The catalog name compared, as given.")]
    model: Annotated[str, doc("The model's canonical id.")]
    provider: Annotated[str, doc("The API's provider.")]
    currency: Annotated[str, doc("Currency of `total`.")]
    total: Annotated[Decimal, doc("The API's exact price for the same token totals (Catalog.quote, unrounded).")]
    saving: Annotated[Decimal | None, doc("API total minus self-hosting total: positive when self-hosting is cheaper, negative a premium; none across currencies.")]
    saving_percent: Annotated[Decimal | None, doc("`saving` as a percent of the API total (2 places, half-even).")]
    markup_percent: Annotated[Decimal | None, doc("How far the API's price is above self-hosting's cost, percent of the self-hosting total (DeepSeek's 'cost profit margin'; 2 places).")]
    cheaper: Annotated[Literal["self-hosting", "api", "equal"] | None, doc("Which is cheaper at this volume; none across currencies.")]
    break_even_daily_tokens: Annotated[int | None, doc("Daily input + output tokens (this usage's mix) above which self-hosting is cheaper than this API; none when it never is, or across currencies. Rounded up to a whole token.")]
    window: Annotated[str | None, doc("The API's off-peak window that applied at `at`, if any.")]
    source: Annotated[str, doc("Where the API price was read.")]
    checked: Annotated[date, doc("When the API price was last checked.")]


class Unpriced(msgspec.Struct, frozen=True, kw_only=True):
    """A served-by name left out of the comparison because it has no price at the quote's instant."""

    name: Annotated[str, doc("The catalog name.")]
    reason: Annotated[str, doc("Why it has no price then.")]


class SelfhostQuote(msgspec.Struct, frozen=True, kw_only=True):
    """What serving the usage on rented GPUs costs, sized from the profile, and the APIs beside it."""

    profile: Annotated[str, doc("The serving profile's id, or `inline`.")]
    model: Annotated[str | None, doc("The open-weight model the profile serves, when it names one.")]
    gpu: Annotated[str, doc("The profile's GPU model.")]
    gpus_per_node: Annotated[int, doc("GPUs per node.")]
    hours: Annotated[Decimal, doc("The span the token totals cover.")]
    input_tokens: Annotated[int, doc("Input tokens over the span, cached included.")]
    cached_input_tokens: Annotated[int, doc("The cached part of `input_tokens`.")]
    output_tokens: Annotated[int, doc("Output tokens over the span.")]
    prefill_node_seconds: Annotated[Decimal, doc("Node-seconds of prefill (3 places).")]
    decode_node_seconds: Annotated[Decimal, doc("Node-seconds of decode (3 places).")]
    utilisation: Annotated[Decimal, doc("Share of provisioned time doing useful work.")]
    peak_ratio: Annotated[Decimal, doc("Peak-to-average ratio provisioned for (1: the average).")]
    nodes: Annotated[Decimal, doc("Nodes needed on average over the span, after utilisation and peak ratio (6 places).")]
    billed_nodes: Annotated[Decimal, doc("`nodes`, but at least the profile's smallest deployment (6 places).")]
    gpus: Annotated[Decimal, doc("`billed_nodes` times GPUs per node (6 places).")]
    gpu_hours: Annotated[Decimal, doc("GPU-hours paid for over the span (6 places).")]
    offer: Annotated[str | None, doc("The GPU offer's id, when one was named.")]
    gpu_hour_price: Annotated[Decimal, doc("Price of one GPU-hour, in `currency`.")]
    currency: Annotated[str, doc("Currency of every amount of the self-hosting side.")]
    total: Annotated[Decimal, doc("Self-hosting cost over the span (6 places, half-even).")]
    per_million_input: Annotated[Decimal | None, doc("Cost of the prefill share per million input tokens (6 places); none without input.")]
    per_million_output: Annotated[Decimal | None, doc("Cost of the decode share per million output tokens (6 places); none without output.")]
    daily_tokens: Annotated[int, doc("Input + output tokens per 24 hours at this usage's rate (rounded half-even).")]
    at: Annotated[datetime, doc("The instant the API prices were read at.")]
    compare: Annotated[tuple[ApiComparison, ...], doc("The API quotes, cheapest first.")]
    unpriced: Annotated[tuple[Unpriced, ...], doc("Served-by names with no price at `at`.")] = ()
    notes: Annotated[tuple[str, ...], doc("Caveats about this quote (dates of the offer against `at`, say).")] = ()


def _round(value: Fraction, places: int) -> Decimal:
    """``value`` rounded half-even to ``places`` decimals, as an exact Decimal."""
    scaled = round(value * 10**places)  # Fraction.__round__ rounds half to even
    # Built from its digits, not computed: exact whatever its size, no context involved.
    return Decimal(f"{scaled}E-{places}")


def _fraction(value: Decimal) -> Fraction:
    return Fraction(value)


def _positive(field: str, value: Decimal, *, limit: Decimal = RATE_LIMIT) -> Fraction:
    return _fraction(bounded(field, value, positive=True, limit=limit))


def _tokens(field: str, value: int) -> int:
    if type(value) is not int:
        raise InvalidWorkloadError(field, f"must be a whole number, got {type(value).__name__} {value!r}")
    if value < 0:
        raise InvalidWorkloadError(field, f"must be >= 0, got {value}")
    if value > MAX_TOTAL_TOKENS:
        raise InvalidWorkloadError(field, f"must be <= {MAX_TOTAL_TOKENS:_}, got {value:_}")
    return value


def api_workloads(model: str, input_tokens: int, cached: int, output: int, requests: int,
                  at: datetime, batch: bool = False) -> list[Workload]:
    """Workloads whose totals are exactly the given ones, spread as evenly as whole tokens allow over
    ``requests`` requests (at most four groups: the remainders go one token each to the first requests)."""
    q_in, r_in = divmod(input_tokens, requests)
    q_ca, r_ca = divmod(cached, requests)
    q_out, r_out = divmod(output, requests)
    cuts = sorted({0, r_in, r_ca, r_out, requests})
    return [
        Workload(model=model, input_tokens=q_in + (a < r_in), cached_input_tokens=q_ca + (a < r_ca),
                 output_tokens=q_out + (a < r_out), requests=b - a, at=at, batch=batch)
        for a, b in itertools.pairwise(cuts)
    ]


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    """Token totals over a span, and the number of requests they came from."""

    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    requests: int


def totals_from_rate(per_request: Usage, requests_per_second: Decimal, hours: Decimal) -> Totals:
    """The totals of ``per_request`` (its token counts; its ``requests`` ignored) arriving at
    ``requests_per_second`` for ``hours``: requests over the span rounded half-even to a whole number."""
    rate = _positive("requests_per_second", requests_per_second)
    span = _positive("hours", hours, limit=Decimal(10**6))
    n = round(rate * span * _SECONDS_PER_HOUR)
    if n < 1:
        raise InvalidWorkloadError("requests_per_second", f"{requests_per_second} requests/s for {hours} h is "
                                   "less than one request")
    if n > MAX_REQUESTS:
        raise InvalidWorkloadError("requests_per_second", f"gives {n:_} requests over the span; at most "
                                   f"{MAX_REQUESTS:_}")
    biggest = max(per_request.input_tokens, per_request.output_tokens) * n
    if biggest > MAX_TOTAL_TOKENS:
        raise InvalidWorkloadError("requests_per_second", f"gives {biggest:_} tokens in one field over the span; "
                                   f"at most {MAX_TOTAL_TOKENS:_}")
    return Totals(input_tokens=per_request.input_tokens * n, cached_input_tokens=per_request.cached_input_tokens * n,
                  output_tokens=per_request.output_tokens * n, requests=n)


def default_requests(input_tokens: int, output_tokens: int) -> int:
    """Enough requests that none has more than ``DEFAULT_REQUEST_TOKENS`` input or output tokens."""
    return max(1, math.ceil(max(input_tokens, output_tokens) / DEFAULT_REQUEST_TOKENS))


def quote_selfhost(
    *,
    input_tokens: int,
    output_tokens: int,
    hours: Decimal,
    profile: str | InlineProfile,
    data: SelfhostData,
    catalog: Catalog,
    cached_input_tokens: int = 0,
    offer: str | None = None,
    gpu_hour_price: Decimal | None = None,
    currency: str | None = None,
    exchange_rate: Decimal | None = None,
    utilisation: Decimal = Decimal(1),
    peak_ratio: Decimal = Decimal(1),
    compare: Sequence[str] | None = None,
    requests: int | None = None,
    at: datetime | None = None,
    batch: bool = False,
) -> SelfhostQuote:
    """The self-hosting quote; ``InvalidWorkloadError`` names the argument at fault.

    ``profile``: an id of ``data`` or an inline profile. The GPU price: ``offer`` (an id of ``data``)
    or ``gpu_hour_price`` (in ``currency``, default USD), exactly one. ``currency`` with an offer in
    another currency needs ``exchange_rate`` (units of ``currency`` per unit of the offer's).
    ``compare``: API model names (None: the profile's model's served-by list; names without a price at
    ``at`` are then listed as unpriced instead of failing). ``requests``: how many requests the totals
    come from, for the API quotes' prompt-size tiers (default: see ``default_requests``).
    """
    inp = _tokens("input_tokens", input_tokens)
    cached = _tokens("cached_input_tokens", cached_input_tokens)
    out = _tokens("output_tokens", output_tokens)
    if cached > inp:
        raise InvalidWorkloadError("cached_input_tokens",
                                   f"{cached} exceeds input_tokens ({inp}): the cached tokens are part of the input")
    span = _positive("hours", hours, limit=Decimal(10**6))
    if isinstance(utilisation, Decimal) and utilisation.is_finite() and not 0 < utilisation <= 1:
        raise InvalidWorkloadError("utilisation", f"must be in (0, 1], got {utilisation}")
    util = _positive("utilisation", utilisation, limit=Decimal(2))
    peak = _positive("peak_ratio", peak_ratio, limit=Decimal(10**6))
    if peak < 1:
        raise InvalidWorkloadError("peak_ratio", f"is peak over average, so at least 1, got {peak_ratio}")
    if at is None:
        at = datetime.now(UTC)
    elif at.utcoffset() is None:
        raise InvalidWorkloadError("at", "must be timezone aware (e.g. 2025-02-27T04:00:00Z)")

    # -- the profile
    if isinstance(profile, str):
        found = data.profiles.get(profile)
        if found is None:
            raise InvalidWorkloadError("profile", f"unknown serving profile {profile!r}; known: {', '.join(sorted(data.profiles))}")
        chosen: ServingProfile | InlineProfile = found
        profile_id, model = found.id, found.model
    else:
        chosen, profile_id, model = profile, "inline", None
    if type(chosen.gpus_per_node) is not int or not 1 <= chosen.gpus_per_node <= MAX_GPUS_PER_NODE:
        raise InvalidWorkloadError("profile.gpus_per_node",
                                   f"must be a whole number from 1 to {MAX_GPUS_PER_NODE:_}, got {chosen.gpus_per_node!r}")
    prefill_rate = _positive("profile.prefill_tokens_per_second", chosen.prefill_tokens_per_second)
    decode_rate = _positive("profile.decode_tokens_per_second", chosen.decode_tokens_per_second)
    min_nodes = _positive("profile.min_nodes", chosen.min_nodes, limit=Decimal(10**6))

    # -- the GPU price
    notes: list[str] = []
    if (offer is None) == (gpu_hour_price is None):
        raise InvalidWorkloadError("offer", "give exactly one of offer (an offer id) and gpu_hour_price")
    chosen_offer: GpuOffer | None = None
    if offer is not None:
        chosen_offer = data.offers.get(offer)
        if chosen_offer is None:
            raise InvalidWorkloadError("offer", f"unknown GPU offer {offer!r}; known: {', '.join(sorted(data.offers))}")
        price_currency = chosen_offer.currency
        price_decimal = chosen_offer.gpu_hour
        answer_currency = currency or price_currency
        if answer_currency != price_currency:
            if exchange_rate is None:
                raise InvalidWorkloadError(
                    "exchange_rate", f"offer {offer!r} is priced in {price_currency}; give exchange_rate "
                    f"({answer_currency} per {price_currency}) to quote in {answer_currency}")
            _positive("exchange_rate", exchange_rate)
            # Both are bounded decimals, so the product is exact in the 80-digit context.
            price_decimal = EXACT.multiply(price_decimal, exchange_rate)
        elif exchange_rate is not None:
            raise InvalidWorkloadError("exchange_rate", f"offer {offer!r} is already in {answer_currency}: leave "
                                       "exchange_rate out")
        price = _fraction(price_decimal)
        if at < chosen_offer.starts or (chosen_offer.until is not None and at >= chosen_offer.until):
            span_text = f"from {chosen_offer.starts.date()}" + (
                f" until {chosen_offer.until.date()}" if chosen_offer.until else "")
            notes.append(f"GPU offer {offer} is dated {span_text}; the API prices are read at {at.isoformat()}")
    else:
        assert gpu_hour_price is not None
        price = _positive("gpu_hour_price", gpu_hour_price)
        price_decimal = gpu_hour_price
        answer_currency = currency or "USD"
        if exchange_rate is not None:
            raise InvalidWorkloadError("exchange_rate", "applies to an offer's price only; give gpu_hour_price in currency")
    try:
        fxrates.check_currency(answer_currency)
    except fxrates.CurrencyError as exc:
        # The self-hosting callers report InvalidWorkloadError by field; keep to that one kind.
        raise InvalidWorkloadError("currency", exc.reason) from None

    # -- sizing, exact
    prefill_tokens = inp if chosen.prefill_includes_cache_hits else inp - cached
    prefill_s = Fraction(prefill_tokens) / prefill_rate
    decode_s = Fraction(out) / decode_rate
    node_seconds = prefill_s + decode_s
    span_seconds = span * _SECONDS_PER_HOUR
    nodes = node_seconds / (span_seconds * util) * peak
    billed = max(nodes, min_nodes)
    gpus = billed * chosen.gpus_per_node
    gpu_hours = gpus * span
    total = gpu_hours * price
    share_in = prefill_s / node_seconds if node_seconds else Fraction(0)
    per_m_in = total * share_in / inp * _MILLION if inp else None
    per_m_out = total * (1 - share_in) / out * _MILLION if out else None
    per_day = Fraction(24) / span
    daily_tokens = (inp + out) * per_day
    day_cost_marginal = nodes * chosen.gpus_per_node * 24 * price
    day_cost_floor = min_nodes * chosen.gpus_per_node * 24 * price
    total_rounded = _round(total, PLACES["money"])

    # -- the APIs
    if compare is None:
        names: Sequence[str] = data.served_by(model) if model else ()
        skip_unpriced = True
    else:
        if isinstance(compare, str):
            raise InvalidWorkloadError("compare", f"must be a list of model names, got the string {compare!r}")
        names, skip_unpriced = compare, False
    if requests is None:
        n = default_requests(inp, out)
    else:
        if type(requests) is not int or requests < 1:
            raise InvalidWorkloadError("requests", f"must be a whole number >= 1, got {requests!r}")
        n = requests
    if n > MAX_REQUESTS or max(inp, out) > n * MAX_TOKENS:
        raise InvalidWorkloadError("requests", f"{n} requests cannot carry these totals within the engine's "
                                   f"limits ({MAX_REQUESTS:_} requests, {MAX_TOKENS:_} tokens a request)")
    rows: list[ApiComparison] = []
    unpriced: list[Unpriced] = []
    for i, name in enumerate(names):
        try:
            quotes = [catalog.quote(w) for w in api_workloads(name, inp, cached, out, n, at, batch)]
        except NoPriceError as exc:
            if skip_unpriced:
                unpriced.append(Unpriced(name=name, reason=exc.reason))
                continue
            raise InvalidWorkloadError(f"compare[{i}]", str(exc)) from None
        except InvalidWorkloadError as exc:
            raise InvalidWorkloadError(f"compare[{i}]", str(exc)) from None
        except PricingError as exc:
            raise InvalidWorkloadError(f"compare[{i}]", str(exc)) from None
        api_total = sum((q.total for q in quotes), Decimal(0))
        first = quotes[0]
        rows.append(_comparison(name, first.model, first.provider, first.currency, api_total, answer_currency,
                                total, total_rounded, per_day, day_cost_marginal, day_cost_floor, daily_tokens,
                                first.window, first.source, first.checked))
    rows.sort(key=lambda r: (r.currency, r.total, r.provider, r.model))
    return SelfhostQuote(
        profile=profile_id,
        model=model,
        gpu=chosen.gpu,
        gpus_per_node=chosen.gpus_per_node,
        hours=hours,
        input_tokens=inp,
        cached_input_tokens=cached,
        output_tokens=out,
        prefill_node_seconds=_round(prefill_s, PLACES["node_seconds"]),
        decode_node_seconds=_round(decode_s, PLACES["node_seconds"]),
        utilisation=utilisation,
        peak_ratio=peak_ratio,
        nodes=_round(nodes, PLACES["nodes"]),
        billed_nodes=_round(billed, PLACES["nodes"]),
        gpus=_round(gpus, PLACES["nodes"]),
        gpu_hours=_round(gpu_hours, PLACES["gpu_hours"]),
        offer=offer,
        gpu_hour_price=price_decimal,
        currency=answer_currency,
        total=total_rounded,
        per_million_input=None if per_m_in is None else _round(per_m_in, PLACES["money"]),
        per_million_output=None if per_m_out is None else _round(per_m_out, PLACES["money"]),
        daily_tokens=round(daily_tokens),
        at=at,
        compare=tuple(rows),
        unpriced=tuple(unpriced),
        notes=tuple(notes),
    )


def _comparison(name: str, model: str, provider: str, currency: str, api_total: Decimal, own_currency: str,
                total: Fraction, total_rounded: Decimal, per_day: Fraction, day_marginal: Fraction,
                day_floor: Fraction, daily_tokens: Fraction, window: str | None, source: str,
                checked: date) -> ApiComparison:
    if currency != own_currency:
        return ApiComparison(name=name, model=model, provider=provider, currency=currency, total=api_total,
                             saving=None, saving_percent=None, markup_percent=None, cheaper=None,
                             break_even_daily_tokens=None, window=window, source=source, checked=checked)
    api = Fraction(api_total)
    saving = api - total
    api_day = api * per_day
    if api_day > day_marginal and api_day:
        # The volume at which the API's daily bill equals the smallest deployment's daily cost.
        break_even: int | None = math.ceil(day_floor / api_day * daily_tokens)
    else:
        break_even = None
    return ApiComparison(
        name=name, model=model, provider=provider, currency=currency, total=api_total,
        saving=_WIDE.subtract(api_total, total_rounded),
        saving_percent=_round(saving / api * 100, PLACES["percent"]) if api else None,
        markup_percent=_round(saving / total * 100, PLACES["percent"]) if total else None,
        cheaper="self-hosting" if saving > 0 else "api" if saving < 0 else "equal",
        break_even_daily_tokens=break_even, window=window, source=source, checked=checked,
    )

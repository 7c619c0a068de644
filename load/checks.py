"""What every response of the service must satisfy; a request whose response does not is failed.

The status alone proves little: a service can answer 200 with a wrong number. Each body is decoded
with msgspec into types where money is a ``str`` (a JSON number there fails the decode: a float
must never carry money), each amount must be a plain decimal string, and the arithmetic is redone
exactly with ``Decimal``: every line is ``tokens x rate / 1,000,000``, the total is the sum of the
lines, a batch's totals are the sums of its quotes per currency, savings are recomputed. The token
counts and the instant must be the ones that were asked about.

Every check raises ``CheckError`` with a short reason; locust groups failures by that text, so the
reasons name the rule broken first and the values after.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded
from typing import TypeVar

import msgspec

from load.mix import CompareSpec, UsageSpec, WorkloadSpec


class CheckError(Exception):
    """A response broke a rule; the message says which."""


# -- the wire, leniently: only what is checked, unknown fields allowed ----------------------------------


class LineWire(msgspec.Struct, frozen=True):
    kind: str
    tokens: int
    rate: str
    amount: str


class QuoteWire(msgspec.Struct, frozen=True):
    model: str
    provider: str
    currency: str
    at: datetime
    requests: int
    batch: bool
    lines: tuple[LineWire, ...]
    total: str
    savings_percent: str | None = None
    routed_from: str | None = None


class BatchWire(msgspec.Struct, frozen=True):
    quotes: tuple[QuoteWire, ...]
    totals: dict[str, str]


class CompareWire(msgspec.Struct, frozen=True):
    quotes: tuple[QuoteWire, ...]
    baseline: str | None


class ModelWire(msgspec.Struct, frozen=True):
    id: str
    provider: str
    periods: tuple[msgspec.Raw, ...]


class ModelsWire(msgspec.Struct, frozen=True):
    models: tuple[ModelWire, ...]
    count: int
    catalog_digest: str


class HealthWire(msgspec.Struct, frozen=True):
    status: str
    catalog_digest: str
    models: int


_QUOTE = msgspec.json.Decoder(QuoteWire)
_BATCH = msgspec.json.Decoder(BatchWire)
_COMPARE = msgspec.json.Decoder(CompareWire)
_MODEL = msgspec.json.Decoder(ModelWire)
_MODELS = msgspec.json.Decoder(ModelsWire)
_HEALTH = msgspec.json.Decoder(HealthWire)


T = TypeVar("T")


def _decode(body: bytes, decoder: msgspec.json.Decoder[T], what: str) -> T:
    try:
        return decoder.decode(body)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError: a float where money belongs
        raise CheckError(f"{what}: bad body: {exc}") from None


# -- exact money -------------------------------------------------------------------------------------

# Plain decimal notation or scientific (msgspec writes 0.00000027 as "2.7E-7"); no NaN, Infinity,
# spaces or underscores, which Decimal() would otherwise accept.
_DECIMAL = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
#: Sums and products are checked in a context that raises rather than rounds: a check is exact or fails.
_EXACT = Context(prec=500, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Overflow, Inexact, Rounded])
_PERCENT = Context(prec=80, rounding=ROUND_HALF_EVEN)
_MILLION = Decimal(1_000_000)
_CENT = Decimal("0.01")


def money(text: str, where: str, *, signed: bool = False) -> Decimal:
    """``text`` as a ``Decimal``, if it is a decimal string (non-negative unless ``signed``)."""
    if not _DECIMAL.fullmatch(text):
        raise CheckError(f"{where} is not a decimal string: {text!r}")
    value = Decimal(text)
    if value < 0 and not signed:
        raise CheckError(f"{where} is negative: {text}")
    return value


def _exact(operation: str, *args: Decimal) -> Decimal:
    try:
        result: Decimal = getattr(_EXACT, operation)(*args)
    except (Inexact, Rounded, Overflow, InvalidOperation) as exc:
        raise CheckError(f"cannot compute exactly ({operation} of {args}): {type(exc).__name__}") from None
    return result


# -- quotes ------------------------------------------------------------------------------------------

_KINDS = ("input", "cached_input", "cache_write", "cache_write_1h", "output")


def check_quote_arithmetic(quote: QuoteWire, where: str = "quote") -> Decimal:
    """Each line is ``tokens x rate / 1e6`` and the total is their sum; returns the total."""
    total = Decimal(0)
    for i, line in enumerate(quote.lines):
        if line.tokens < 0:
            raise CheckError(f"{where}.lines[{i}].tokens is negative: {line.tokens}")
        rate = money(line.rate, f"{where}.lines[{i}].rate")
        amount = money(line.amount, f"{where}.lines[{i}].amount")
        expected = _exact("divide", _exact("multiply", Decimal(line.tokens), rate), _MILLION)
        if amount != expected:
            raise CheckError(f"{where}: line amount != tokens x rate / 1e6 ({line.kind}: "
                             f"{line.amount} != {line.tokens} x {line.rate} / 1e6 = {expected})")
        total = _exact("add", total, amount)
    stated = money(quote.total, f"{where}.total")
    if stated != total:
        raise CheckError(f"{where}: total != sum of line amounts ({quote.total} != {total})")
    return stated


def check_quote_usage(quote: QuoteWire, usage: UsageSpec, where: str = "quote") -> None:
    """The quote prices the asked-for instant, request count, batch mode and tokens."""
    if quote.at != usage.at:
        raise CheckError(f"{where}: priced at {quote.at.isoformat()}, asked for {usage.at.isoformat()}")
    if quote.requests != usage.requests or quote.batch != usage.batch:
        raise CheckError(f"{where}: requests/batch {quote.requests}/{quote.batch}, "
                         f"asked for {usage.requests}/{usage.batch}")
    tokens: dict[str, int] = {}
    for line in quote.lines:
        if line.kind not in _KINDS or line.kind in tokens:
            raise CheckError(f"{where}: unknown or repeated line kind {line.kind!r}")
        tokens[line.kind] = line.tokens
    n = usage.requests
    uncached = usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens - usage.cache_write_1h_tokens
    asked = {"input": uncached * n, "cached_input": usage.cached_input_tokens * n,
             "cache_write": usage.cache_write_tokens * n, "cache_write_1h": usage.cache_write_1h_tokens * n,
             "output": usage.output_tokens * n}
    for kind, count in asked.items():
        if tokens.get(kind, 0) != count:
            raise CheckError(f"{where}: {kind} line has {tokens.get(kind, 0)} tokens, expected {count}")


def _check_model(quote: QuoteWire, name: str, where: str) -> None:
    # A name billed as another model (a route) is quoted as that model, saying what was asked for.
    asked = quote.model if quote.routed_from is None else quote.routed_from
    if f"{quote.provider}/{asked}" != name:
        raise CheckError(f"{where}: quoted {quote.provider}/{quote.model}, asked for {name}")


def check_quote(body: bytes, workload: WorkloadSpec) -> QuoteWire:
    """A ``POST /v1/quotes`` answer to ``workload``."""
    quote = _decode(body, _QUOTE, "quote")
    _check_model(quote, workload.model, "quote")
    check_quote_usage(quote, workload)
    check_quote_arithmetic(quote)
    return quote


def check_batch(body: bytes, workloads: Sequence[WorkloadSpec]) -> BatchWire:
    """A ``POST /v1/quotes/batch`` answer: one checked quote per workload, in order, and the totals
    per currency equal to the sums of the quotes' totals."""
    batch = _decode(body, _BATCH, "batch")
    if len(batch.quotes) != len(workloads):
        raise CheckError(f"batch: {len(batch.quotes)} quotes for {len(workloads)} workloads")
    sums: dict[str, Decimal] = {}
    for i, (quote, workload) in enumerate(zip(batch.quotes, workloads, strict=True)):
        where = f"batch.quotes[{i}]"
        _check_model(quote, workload.model, where)
        check_quote_usage(quote, workload, where)
        total = check_quote_arithmetic(quote, where)
        sums[quote.currency] = _exact("add", sums.get(quote.currency, Decimal(0)), total)
    if set(batch.totals) != set(sums):
        raise CheckError(f"batch: totals in {sorted(batch.totals)}, quotes in {sorted(sums)}")
    for currency, text in batch.totals.items():
        if money(text, f"batch.totals.{currency}") != sums[currency]:
            raise CheckError(f"batch: total != sum of quote totals ({currency} {text} != {sums[currency]})")
    return batch


def _savings(total: Decimal, base: Decimal) -> Decimal:
    """The documented saving: ``(base - total) / base * 100``, half-even to 2 places."""
    ratio = _PERCENT.divide(_PERCENT.multiply(_PERCENT.subtract(base, total), Decimal(100)), base)
    return ratio.quantize(_CENT, rounding=ROUND_HALF_EVEN, context=_PERCENT)


def check_compare(body: bytes, request: CompareSpec, expected: Sequence[str]) -> CompareWire:
    """A ``POST /v1/compare`` answer: exactly the ``expected`` models, each quote checked, cheapest
    first within a currency, savings against the baseline recomputed."""
    answer = _decode(body, _COMPARE, "compare")
    got = [f"{q.provider}/{q.model}" for q in answer.quotes]
    if sorted(got) != sorted(expected):
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        raise CheckError(f"compare: wrong models (missing {missing[:3]}, unexpected {extra[:3]}, "
                         f"{len(got)} for {len(expected)})")
    totals = []
    for i, quote in enumerate(answer.quotes):
        check_quote_usage(quote, request.workload, f"compare.quotes[{i}]")
        totals.append((quote.currency, check_quote_arithmetic(quote, f"compare.quotes[{i}]")))
    if totals != sorted(totals):
        raise CheckError("compare: quotes not cheapest first within each currency")
    if answer.baseline != request.baseline:
        raise CheckError(f"compare: baseline {answer.baseline!r}, asked for {request.baseline!r}")
    base = next(((c, t) for (c, t), name in zip(totals, got, strict=True) if name == request.baseline), None)
    for i, ((currency, total), quote) in enumerate(zip(totals, answer.quotes, strict=True)):
        want = None if base is None or base[0] != currency or not base[1] else _savings(total, base[1])
        have = None if quote.savings_percent is None else money(
            quote.savings_percent, f"compare.quotes[{i}].savings_percent", signed=True)
        if have != want:
            raise CheckError(f"compare: savings_percent {quote.savings_percent} != {want} "
                             f"({got[i]} against {request.baseline})")
    return answer


# -- the catalog and health --------------------------------------------------------------------------


def check_models(body: bytes, provider: str | None = None) -> ModelsWire:
    """A ``GET /v1/models`` answer: ``count`` models (only ``provider``'s when asked), each priced."""
    listing = _decode(body, _MODELS, "models")
    if listing.count != len(listing.models) or not listing.models:
        raise CheckError(f"models: count {listing.count} for {len(listing.models)} models")
    for model in listing.models:
        if provider is not None and model.provider != provider:
            raise CheckError(f"models: {model.provider}/{model.id} listed for provider {provider}")
        if not model.periods:
            raise CheckError(f"models: {model.provider}/{model.id} has no price periods")
    return listing


def check_model(body: bytes, model_id: str) -> ModelWire:
    """A ``GET /v1/models/{name}`` answer for the model whose id is ``model_id``."""
    model = _decode(body, _MODEL, "model")
    if model.id != model_id or not model.periods:
        raise CheckError(f"model: got {model.id!r} with {len(model.periods)} periods, asked for {model_id!r}")
    return model


def check_health(body: bytes) -> HealthWire:
    health = _decode(body, _HEALTH, "healthz")
    if health.status != "ok" or health.models < 1:
        raise CheckError(f"healthz: status {health.status!r} with {health.models} models")
    return health

"""Response bodies and their JSON, shared by the API and the CLI's ``--json`` (so both print the same
JSON). Money is a ``Decimal``, which msgspec writes as a JSON string holding the exact value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, localcontext

import msgspec

from pricing import Catalog, Model, Quote, RankedQuote, Workload
from pricing.catalog import EXACT


class BatchResponse(msgspec.Struct, frozen=True, kw_only=True):
    quotes: Sequence[Quote]
    totals: dict[str, Decimal]


class CompareResponse(msgspec.Struct, frozen=True, kw_only=True):
    quotes: Sequence[RankedQuote]
    baseline: str | None


class ModelsResponse(msgspec.Struct, frozen=True, kw_only=True):
    models: Sequence[Model]
    count: int
    catalog_digest: str


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    catalog_digest: str
    models: int


_ENCODER = msgspec.json.Encoder()


def totals_by_currency(quotes: Iterable[Quote], totals: dict[str, Decimal] | None = None) -> dict[str, Decimal]:
    """The exact sum of the quotes' totals, per currency (never added across currencies), added
    to ``totals`` when given."""
    totals = {} if totals is None else totals
    # The engine's trapping context: a sum that would need rounding raises instead.
    with localcontext(EXACT):
        for q in quotes:
            totals[q.currency] = totals.get(q.currency, Decimal(0)) + q.total
    return totals


def encode_quote(quote: Quote) -> bytes:
    return _ENCODER.encode(quote)


def encode_batch(quotes: Sequence[Quote]) -> bytes:
    return _ENCODER.encode(BatchResponse(quotes=quotes, totals=totals_by_currency(quotes)))


#: Workloads priced and encoded at a time by ``price_batch``.
BATCH_CHUNK = 500


def price_batch(catalog: Catalog, workloads: Sequence[Workload]) -> bytes:
    """The ``BatchResponse`` JSON of ``workloads``, priced a chunk at a time at one shared now.

    The same bytes as ``encode_batch(catalog.quote_many(workloads))``, without holding every
    ``Quote`` at once: a 10,000-workload batch would otherwise keep ~15 MB of them alive.
    """
    now = datetime.now(UTC)
    out = bytearray(b'{"quotes":[')
    totals: dict[str, Decimal] = {}
    for start in range(0, len(workloads), BATCH_CHUNK):
        quotes = catalog.quote_many(workloads[start:start + BATCH_CHUNK], now=now)
        for quote in quotes:
            _ENCODER.encode_into(quote, out, -1)
            out += b","
        totals_by_currency(quotes, totals)
    if workloads:
        out[-1:] = b"]"
    else:
        out += b"]"
    out += b',"totals":'
    _ENCODER.encode_into(totals, out, -1)
    out += b"}"
    return bytes(out)


def encode_compare(quotes: Sequence[RankedQuote], baseline: str | None) -> bytes:
    return _ENCODER.encode(CompareResponse(quotes=quotes, baseline=baseline))


def encode_models(catalog: Catalog, models: Sequence[Model]) -> bytes:
    return _ENCODER.encode(ModelsResponse(models=models, count=len(models), catalog_digest=catalog.digest))


def encode_model(model: Model) -> bytes:
    return _ENCODER.encode(model)


def encode_health(catalog: Catalog) -> bytes:
    return _ENCODER.encode(Health(status="ok", catalog_digest=catalog.digest, models=len(catalog.models())))

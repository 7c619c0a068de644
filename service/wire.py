"""What goes over the wire: request bodies decoded into engine types, and responses encoded.

The API and the CLI's ``--json`` both encode through the functions here, so they print the same
JSON. Money is a ``Decimal``, which msgspec writes as a JSON string holding the exact value.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import Annotated

import msgspec

from pricing import Catalog, Model, Quote, RankedQuote, Usage, Workload
from pricing.catalog import EXACT
from service.settings import MAX_BATCH, MAX_COMPARE_MODELS

_STRICT = {"frozen": True, "kw_only": True, "forbid_unknown_fields": True}


class BatchRequest(msgspec.Struct, **_STRICT):
    workloads: Annotated[list[Workload], msgspec.Meta(max_length=MAX_BATCH)]


class CompareRequest(msgspec.Struct, **_STRICT):
    workload: Usage
    models: Annotated[list[str], msgspec.Meta(min_length=1, max_length=MAX_COMPARE_MODELS)] | None = None
    baseline: str | None = None


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


WORKLOAD_DECODER = msgspec.json.Decoder(Workload)
BATCH_DECODER = msgspec.json.Decoder(BatchRequest)
COMPARE_DECODER = msgspec.json.Decoder(CompareRequest)
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

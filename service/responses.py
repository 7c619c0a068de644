"""Response bodies and their JSON, shared by the API and the CLI's ``--json`` (so both print the same
JSON). Money is a ``Decimal``, which msgspec writes as a JSON string holding the exact value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from pricing import Catalog, Model, PricingError, Quote, RankedQuote, Workload, totals_by_currency
from pricing.schema import doc


class BatchResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The quotes of a batch, in request order, and their totals."""

    quotes: Annotated[Sequence[Quote], doc("One quote per workload, in the order of the request.")]
    totals: Annotated[dict[str, Decimal], doc(
        'Sum of the quote totals per currency code: an exact decimal in a JSON string, e.g. "2.19"; '
        "never rounded.")]


class CompareResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A ranked comparison."""

    quotes: Annotated[Sequence[RankedQuote], doc(
        "Cheapest first (grouped by currency: totals in different currencies are not compared).")]
    baseline: Annotated[str | None, doc("The baseline's `provider/id`, or null.")]


class ModelsResponse(msgspec.Struct, frozen=True, kw_only=True):
    """The catalog's models."""

    models: Annotated[Sequence[Model], doc("Models ordered by `provider/id`.")]
    count: Annotated[int, doc("Number of models listed.")]
    catalog_digest: Annotated[str, doc("SHA-256 of the catalog.")]


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """Liveness, and which catalog is served."""

    status: Annotated[str, doc("`ok` while the service answers.")]
    catalog_digest: Annotated[str, doc(
        "SHA-256 over the catalog's files: the same catalog gives the same digest.")]
    models: Annotated[int, doc("Number of models in the catalog.")]


_ENCODER = msgspec.json.Encoder()


def encode_quote(quote: Quote) -> bytes:
    return _ENCODER.encode(quote)


#: Workloads priced and encoded at a time by ``price_batch``.
BATCH_CHUNK = 500


def price_batch(catalog: Catalog, workloads: Sequence[Workload]) -> bytes:
    """The ``BatchResponse`` JSON of ``workloads``, priced a chunk at a time at one shared now.

    The same bytes as encoding a ``BatchResponse`` of ``catalog.quote_many(workloads)``, without
    holding every ``Quote`` at once: a 10,000-workload batch would otherwise keep ~15 MB of them
    alive. A workload that cannot be priced raises its error with its ``index`` in ``workloads``.
    """
    return b"".join(price_batch_parts(catalog, workloads))


def price_batch_parts(catalog: Catalog, workloads: Sequence[Workload]) -> list[bytes]:
    """``price_batch``'s bytes in parts of ``BATCH_CHUNK`` quotes each (and a last one with the totals).

    Every workload is priced before this returns, so an error is still raised before any byte is
    sent. The service sends the parts one by one as the client reads them: a 10,000-workload answer
    (about 8 MB) never exists as one buffer, nor twice while it is copied into one.
    """
    now = datetime.now(UTC)
    parts: list[bytes] = []
    totals: dict[str, Decimal] = {}
    for start in range(0, len(workloads), BATCH_CHUNK):
        try:
            quotes = catalog.quote_many(workloads[start:start + BATCH_CHUNK], now=now)
        except PricingError as exc:
            exc.index = start + (exc.index or 0)
            raise
        part = bytearray(b'{"quotes":[' if start == 0 else b",")
        for quote in quotes:
            _ENCODER.encode_into(quote, part, -1)
            part += b","
        del part[-1:]  # the comma after this chunk's last quote
        parts.append(bytes(part))
        totals_by_currency(quotes, totals)
    end = bytearray(b"" if workloads else b'{"quotes":[')
    end += b'],"totals":'
    _ENCODER.encode_into(totals, end, -1)
    end += b"}"
    parts.append(bytes(end))
    return parts


def encode_compare(quotes: Sequence[RankedQuote], baseline: str | None) -> bytes:
    return _ENCODER.encode(CompareResponse(quotes=quotes, baseline=baseline))


def encode_models(catalog: Catalog, models: Sequence[Model]) -> bytes:
    return _ENCODER.encode(ModelsResponse(models=models, count=len(models), catalog_digest=catalog.digest))


def encode_model(model: Model) -> bytes:
    return _ENCODER.encode(model)


def encode_health(catalog: Catalog) -> bytes:
    return _ENCODER.encode(Health(status="ok", catalog_digest=catalog.digest, models=len(catalog.models())))

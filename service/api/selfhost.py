"""``POST /v1/selfhost``: open weights on rented GPUs against the API models that serve them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler

from pricing import Catalog, InvalidWorkloadError, PricingError
from pricing.selfhost import InlineProfile, SelfhostQuote, quote_selfhost
from pricing.selfhost_data import SelfhostData, default_selfhost
from service.api import openapi
from service.api.bodies import content_type, decode, require_json
from service.api.problems import problem

_STRICT = {"frozen": True, "kw_only": True, "forbid_unknown_fields": True}


def _d(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class TokenTotals(msgspec.Struct, **_STRICT):
    """Token totals over the span."""

    input_tokens: Annotated[int, _d("Input tokens over the span, the cached part included.")] = 0
    cached_input_tokens: Annotated[int, _d("The part of `input_tokens` that hit a prompt cache.")] = 0
    output_tokens: Annotated[int, _d("Output tokens over the span, reasoning included.")] = 0


class SelfhostRequest(msgspec.Struct, **_STRICT):
    """What to size: usage over a span, a serving profile, a GPU price, and optional provisioning factors."""

    usage: Annotated[TokenTotals, _d("The token totals.")]
    hours: Annotated[Decimal, _d("The span the totals cover, in hours (e.g. `24`), a decimal string or number.")]
    profile: Annotated[str | InlineProfile, _d("A serving profile id (`inference-cost selfhost --list`), or one given inline.")]
    offer: Annotated[str | None, _d("A GPU offer id; give this or `gpu_hour_price`.")] = None
    gpu_hour_price: Annotated[Decimal | None, _d("Price of one GPU-hour in `currency`, a decimal string.")] = None
    currency: Annotated[str | None, _d("Currency of the answer (default: the offer's, or USD).")] = None
    exchange_rate: Annotated[Decimal | None, _d("Units of `currency` per unit of the offer's currency; needed when they differ.")] = None
    utilisation: Annotated[Decimal, _d("Share of provisioned time doing useful work, in (0, 1] (default 1).")] = Decimal(1)
    peak_ratio: Annotated[Decimal, _d("Peak-to-average traffic ratio to provision for, at least 1 (default 1: the average).")] = Decimal(1)
    compare: Annotated[list[str] | None, _d("API models to compare (default: the catalog names that serve the profile's model).")] = None
    requests: Annotated[int | None, _d("How many requests the totals came from, for the APIs' prompt-size tiers (default: requests of at most 10,000 tokens).")] = None
    at: Annotated[datetime | None, _d("Instant the API prices are read at (default: now).")] = None
    batch: Annotated[bool, _d("Quote the APIs' batch prices.")] = False


_DECODER = msgspec.json.Decoder(SelfhostRequest)
_ENCODER = msgspec.json.Encoder()

#: The engine names a request field as it names its own arguments; these are where they sit in the body.
_BODY_FIELD = {"input_tokens": "usage.input_tokens", "cached_input_tokens": "usage.cached_input_tokens",
               "output_tokens": "usage.output_tokens"}


def _field(name: str) -> str:
    return "$." + _BODY_FIELD.get(name, name)


def price(body: SelfhostRequest, catalog: Catalog, data: SelfhostData) -> SelfhostQuote:
    """The engine's quote for ``body``; a ``ProblemError`` naming the field when it cannot be priced."""
    try:
        return quote_selfhost(
            input_tokens=body.usage.input_tokens, cached_input_tokens=body.usage.cached_input_tokens,
            output_tokens=body.usage.output_tokens, hours=body.hours, profile=body.profile, data=data,
            catalog=catalog, offer=body.offer, gpu_hour_price=body.gpu_hour_price, currency=body.currency,
            exchange_rate=body.exchange_rate, utilisation=body.utilisation, peak_ratio=body.peak_ratio,
            compare=body.compare, requests=body.requests, at=body.at, batch=body.batch,
        )
    except InvalidWorkloadError as exc:
        field = _field(exc.field)
        raise problem(422, "invalid_request", f"{field}: {exc.reason}", field=field) from None
    except PricingError as exc:
        raise problem(422, "invalid_request", str(exc), field="$") from None


def routes(current: Callable[[], Catalog], data: SelfhostData | None = None) -> list[HTTPRouteHandler]:
    """The route, over ``current()``'s catalog and ``data`` (default: the shipped self-hosting data,
    read now, at start, so a broken file fails the start rather than a request)."""
    selfhost_data = default_selfhost() if data is None else data

    @post("/v1/selfhost", status_code=200, tags=["self-hosting"], summary="Self-hosting against the APIs",
          dependencies=openapi.body_doc(SelfhostRequest, "The usage, serving profile and GPU price."),
          operation_class=openapi.ProblemOperation,
          responses=openapi.responses(SelfhostQuote, "GPUs, GPU-hours and cost, and the API quotes beside them.",
                                      not_found=None))
    async def selfhost(request: Request[Any, Any, Any]) -> Response[bytes]:
        """Token totals served on rented GPUs (prefill and decode sized separately from the profile's
        throughput), with the same totals quoted on the API models that serve that model, each with the
        saving and the break-even daily volume."""
        require_json(content_type(request.scope))
        body = decode(await request.body(), _DECODER)
        result = price(body, current(), selfhost_data)
        return Response(_ENCODER.encode(result), media_type="application/json")

    return [selfhost]

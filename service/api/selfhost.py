"""``POST /v1/selfhost``: open weights on rented GPUs against the API models that serve them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler

from pricing import Catalog, InvalidWorkloadError, PricingError, Usage
from pricing.selfhost import SelfhostQuote, quote_selfhost, totals_from_rate
from pricing.selfhost_data import SelfhostData, default_selfhost
from service.api import openapi
from service.api.bodies import content_type, decode, require_json
from service.api.problems import problem
from service.api.selfhost_bodies import SelfhostRequest

_DECODER = msgspec.json.Decoder(SelfhostRequest)
_ENCODER = msgspec.json.Encoder()

#: The engine names a request field as it names its own arguments; these are where they sit in the body.
_BODY_FIELD = {"input_tokens": "usage.input_tokens", "cached_input_tokens": "usage.cached_input_tokens",
               "output_tokens": "usage.output_tokens"}


def _field(name: str, body: SelfhostRequest) -> str:
    if body.usage is None and name in _BODY_FIELD:
        return "$.workload." + name
    return "$." + _BODY_FIELD.get(name, name)


def price(body: SelfhostRequest, catalog: Catalog, data: SelfhostData) -> SelfhostQuote:
    """The engine's quote for ``body``; a ``ProblemError`` naming the field when it cannot be priced."""
    try:
        if (body.usage is None) == (body.workload is None):
            raise InvalidWorkloadError("usage", "give usage (token totals), or workload and requests_per_second")
        requests = body.requests
        if body.usage is not None:
            if body.requests_per_second is not None:
                raise InvalidWorkloadError("requests_per_second", "goes with workload, not with usage")
            totals = (body.usage.input_tokens, body.usage.cached_input_tokens, body.usage.output_tokens)
        else:
            assert body.workload is not None
            if body.requests_per_second is None:
                raise InvalidWorkloadError("requests_per_second", "workload needs requests_per_second")
            one = Usage(input_tokens=body.workload.input_tokens, cached_input_tokens=body.workload.cached_input_tokens,
                        output_tokens=body.workload.output_tokens)
            t = totals_from_rate(one, body.requests_per_second, body.hours)
            totals = (t.input_tokens, t.cached_input_tokens, t.output_tokens)
            requests = t.requests if requests is None else requests
        return quote_selfhost(
            input_tokens=totals[0], cached_input_tokens=totals[1], output_tokens=totals[2],
            hours=body.hours, profile=body.profile, data=data,
            catalog=catalog, offer=body.offer, gpu_hour_price=body.gpu_hour_price, currency=body.currency,
            exchange_rate=body.exchange_rate, utilisation=body.utilisation, peak_ratio=body.peak_ratio,
            compare=body.compare, requests=requests, at=body.at, batch=body.batch,
        )
    except InvalidWorkloadError as exc:
        field = _field(exc.field, body)
        raise problem(422, "invalid_request", f"{field}: {exc.reason}", field=field) from None
    except PricingError as exc:
        raise problem(422, "invalid_request", str(exc), field="$") from None


def routes(current: Callable[[], Catalog], data: SelfhostData | None = None) -> list[HTTPRouteHandler]:
    """The route, over ``current()``'s catalog and ``data`` (default: the shipped self-hosting data,
    read now, at start, so a broken file fails the start rather than a request)."""
    selfhost_data = default_selfhost() if data is None else data

    @post("/v1/selfhost", status_code=200, tags=["quotes"], summary="Self-hosting against the APIs",
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

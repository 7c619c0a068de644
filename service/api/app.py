"""The Litestar app: decode a request into the engine's types, call the engine, encode the result."""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import Parameter

from pricing import Catalog, PricingError, UnknownModelError
from service import responses
from service.api import bodies, openapi, usage
from service.api.bodies import content_type, decode, require_json
from service.api.pricing_problems import compare_problem, model_problem, pricing_problem
from service.api.problems import (
    ProblemError,
    handle_http_exception,
    handle_problem,
    handle_unexpected,
    problem,
)
from service.api.settings import MAX_BODY_BYTES, load_catalog, settings_from_env

JSON = "application/json"
_Req = Request[Any, Any, Any]


def _json(body: bytes) -> Response[bytes]:
    return Response(body, media_type=JSON)


def create_app(catalog: Catalog) -> Litestar:
    """The API over ``catalog``, which is loaded once, before this, and shared by every request."""

    @post("/v1/quotes", status_code=200, tags=["quotes"], summary="Price one workload",
          dependencies=openapi.body_doc(openapi.WorkloadDoc, "The workload to price."), operation_class=openapi.ProblemOperation,
          responses=openapi.responses(openapi.QuoteDoc, "The itemised quote."))
    async def quote(request: _Req) -> Response[bytes]:
        """The exact, itemised price of one workload on one model at one instant."""
        require_json(content_type(request.scope))
        workload = decode(await request.body(), bodies.WORKLOAD_DECODER)
        try:
            result = catalog.quote(workload)
        except PricingError as exc:
            raise pricing_problem(exc, "$") from None
        return _json(responses.encode_quote(result))

    @post("/v1/quotes/batch", status_code=200, tags=["quotes"], summary="Price many workloads",
          dependencies=openapi.body_doc(openapi.BatchRequestDoc, "The workloads to price."), operation_class=openapi.ProblemOperation,
          responses=openapi.responses(openapi.BatchResponseDoc, "The quotes, in request order, and totals."))
    async def quote_batch(request: _Req) -> Response[bytes]:
        """Up to the documented limit of workloads in one request, priced at one shared "now".

        One invalid workload fails the whole request, naming its index and field."""
        require_json(content_type(request.scope))
        workloads = decode(await request.body(), bodies.BATCH_DECODER).workloads
        try:
            body = responses.price_batch(catalog, workloads)
        except PricingError as exc:
            # Error path only: find the first workload that fails, to name it.
            for i, workload in enumerate(workloads):
                try:
                    catalog.quote(workload)
                except PricingError as one:
                    raise pricing_problem(one, f"$.workloads[{i}]", index=i) from None
            raise problem(422, "invalid_request", str(exc), field="$.workloads") from None
        return _json(body)

    @post("/v1/compare", status_code=200, tags=["quotes"], summary="Compare models on one token profile",
          dependencies=openapi.body_doc(openapi.CompareRequestDoc, "What to compare."), operation_class=openapi.ProblemOperation,
          responses=openapi.responses(openapi.CompareResponseDoc, "The quotes, cheapest first."))
    async def compare(request: _Req) -> Response[bytes]:
        """One token profile priced on the named models (or every model priced at that instant),
        cheapest first, each with its saving in percent against the baseline."""
        require_json(content_type(request.scope))
        body = decode(await request.body(), bodies.COMPARE_DECODER)
        try:
            ranked = catalog.compare(body.workload, body.models, body.baseline)
            base = catalog.model(body.baseline) if body.baseline is not None else None
        except PricingError as exc:
            raise compare_problem(catalog, exc, body.models, body.baseline) from None
        return _json(responses.encode_compare(ranked, None if base is None else f"{base.provider}/{base.id}"))

    @get("/v1/models", tags=["catalog"], summary="List the catalog", operation_class=openapi.ProblemOperation,
         responses=openapi.responses(openapi.ModelsResponseDoc, "The models.", body=False, not_found="provider"))
    async def models(
        provider: Annotated[str | None, Parameter(description="Only this provider's models, e.g. `openai`.")] = None,
    ) -> Response[bytes]:
        """Every model with its aliases, rates and dated price history, and the windows and tiers
        that apply."""
        if provider is not None and provider not in catalog.providers():
            known = catalog.providers()
            matches = tuple(difflib.get_close_matches(provider, known, n=5, cutoff=0.6)) or known
            raise problem(404, "unknown_provider",
                          f"unknown provider {provider!r}; the catalog has: {', '.join(known)}",
                          field="provider", matches=matches)
        return _json(responses.encode_models(catalog, catalog.models(provider)))

    @get("/v1/models/{name:path}", tags=["catalog"], summary="One model", operation_class=openapi.ProblemOperation,
         responses=openapi.responses(openapi.ModelDoc, "The model.", body=False))
    async def model(name: Annotated[str, openapi.MODEL_NAME]) -> Response[bytes]:
        """One model by any name that resolves, with its aliases and dated price history."""
        try:
            # A path parameter arrives with its leading slash ("/deepseek/deepseek-reasoner").
            found = catalog.model(name.strip("/"))
        except UnknownModelError as exc:
            raise model_problem(exc, "model") from None
        return _json(responses.encode_model(found))

    @get("/healthz", tags=["service"], summary="Liveness", operation_class=openapi.ProblemOperation,
         responses=openapi.responses(openapi.HealthDoc, "The service is up.", body=False, not_found=None))
    async def healthz() -> Response[bytes]:
        """Liveness, with the catalog digest and the number of models."""
        return _json(health)

    health = responses.encode_health(catalog)
    return Litestar(
        route_handlers=[quote, quote_batch, compare, models, model, healthz,
                        *usage.routes(lambda: catalog)],
        exception_handlers={
            ProblemError: handle_problem,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=openapi.openapi_config(),
        plugins=[openapi.DecimalStringPlugin(), openapi.TimeOfDayPlugin(), openapi.DescribedStructPlugin()],
        debug=False,
    )


def app_from_env() -> Litestar:
    """Factory for uvicorn workers: the catalog ``INFERENCE_COST_CATALOG`` names, else the embedded one."""
    app = create_app(load_catalog(settings_from_env().catalog))
    # Imported here: service.api.server imports uvicorn, which the app itself does not need.
    from service.api.server import freeze_startup_objects

    freeze_startup_objects()
    return app

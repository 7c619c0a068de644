"""The Litestar app: decode a request into the engine's types, call the engine, encode the result."""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Litestar, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.response import Stream

from pricing import Catalog, Model, PricingError, Quote, UnknownModelError, Workload
from pricing.catalog import MAX_NAME_LENGTH
from service import responses
from service.api import bodies, docs_assets, metrics, openapi, page, projections, selfhost, usage
from service.api.bodies import content_type, decode, require_json
from service.api.current import CurrentCatalog
from service.api.pricing_problems import compare_problem, model_problem, pricing_problem
from service.api.problems import (
    ProblemError,
    handle_http_exception,
    handle_problem,
    handle_unexpected,
    problem,
)
from service.api.settings import Settings, load_catalog, settings_from_env

JSON = "application/json"
_Req = Request[Any, Any, Any]


def _json(body: bytes) -> Response[bytes]:
    return Response(body, media_type=JSON)


def _json_parts(parts: list[bytes]) -> Response[Any]:
    """A JSON body sent part by part as the client reads it (with its Content-Length: not chunked),
    each part let go once sent: a large answer is never copied into one buffer."""

    async def each() -> AsyncIterator[bytes]:
        parts.reverse()
        while parts:
            yield parts.pop()

    return Stream(each(), media_type=JSON, headers={"content-length": str(sum(map(len, parts)))})


def create_app(catalog: Catalog | CurrentCatalog, settings: Settings | None = None) -> Litestar:
    """The API over ``catalog``, loaded before this and shared by every request.

    Given a ``CurrentCatalog``, each request reads the catalog in use from it (so a reload swaps it);
    route modules get ``current``, its getter, and call it once per request.
    """
    holder = catalog if isinstance(catalog, CurrentCatalog) else CurrentCatalog(catalog)
    current = holder.get
    # Route modules take ``current`` (``*feature.routes(current)``); ``lambda: catalog`` still works
    # but serves the catalog of start-up after a reload.
    catalog = holder.get()
    limits = settings or Settings()
    max_batch = limits.max_batch

    @post("/v1/quotes", status_code=200, tags=["quotes"], summary="Price one workload",
          dependencies=openapi.body_doc(Workload, "The workload to price."), operation_class=openapi.ProblemOperation,
          responses=openapi.responses(Quote, "The itemised quote."))
    async def quote(request: _Req) -> Response[bytes]:
        """The exact, itemised price of one workload on one model at one instant."""
        require_json(content_type(request.scope))
        workload = decode(await request.body(), bodies.WORKLOAD_DECODER)
        catalog = current()
        try:
            result = catalog.quote(workload)
        except PricingError as exc:
            raise pricing_problem(exc, "$") from None
        metrics.QUOTES.inc()
        return _json(responses.encode_quote(result))

    @post("/v1/quotes/batch", status_code=200, tags=["quotes"], summary="Price many workloads",
          dependencies=openapi.body_doc(bodies.BatchRequest, "The workloads to price."), operation_class=openapi.ProblemOperation,
          responses=openapi.responses(responses.BatchResponse, "The quotes, in request order, and totals."))
    async def quote_batch(request: _Req) -> Response[Any]:
        """Up to the documented limit of workloads in one request, priced at one shared "now".

        One invalid workload fails the whole request, naming its index and field."""
        require_json(content_type(request.scope))
        workloads = decode(await request.body(), bodies.BATCH_DECODER).workloads
        if len(workloads) > max_batch:
            raise problem(422, "invalid_request", f"$.workloads: at most {max_batch:,} workloads in one request "
                          f"(got {len(workloads):,}); split the batch", field="$.workloads")
        catalog = current()
        try:
            parts = responses.price_batch_parts(catalog, workloads)
        except PricingError as exc:
            raise pricing_problem(exc, f"$.workloads[{exc.index}]", index=exc.index) from None
        metrics.QUOTES.inc(len(workloads))
        metrics.BATCH_SIZE.observe(len(workloads))
        return _json_parts(parts)

    @post("/v1/compare", status_code=200, tags=["quotes"], summary="Compare models on one token profile",
          dependencies=openapi.body_doc(bodies.CompareRequest, "What to compare."), operation_class=openapi.ProblemOperation,
          responses=openapi.responses(responses.CompareResponse, "The quotes, cheapest first."))
    async def compare(request: _Req) -> Response[bytes]:
        """One token profile priced on the named models (or every model priced at that instant),
        cheapest first, each with its saving in percent against the baseline."""
        require_json(content_type(request.scope))
        body = decode(await request.body(), bodies.COMPARE_DECODER)
        catalog = current()
        try:
            ranked = catalog.compare(body.workload, body.models, body.baseline)
            base = catalog.model(body.baseline) if body.baseline is not None else None
        except PricingError as exc:
            raise compare_problem(catalog, exc, body.models, body.baseline) from None
        metrics.QUOTES.inc(len(ranked))
        return _json(responses.encode_compare(ranked, None if base is None else f"{base.provider}/{base.id}"))

    @get("/v1/models", tags=["catalog"], summary="List the catalog", operation_class=openapi.ProblemOperation,
         responses=openapi.responses(responses.ModelsResponse, "The models.", body=False, not_found="provider"))
    async def models(
        provider: Annotated[str | None, Parameter(description="Only this provider's models, e.g. `openai`.")] = None,
    ) -> Response[bytes]:
        """Every model with its aliases, rates and dated price history, and the windows and tiers
        that apply."""
        catalog = current()
        if provider is not None and provider not in catalog.providers():
            known = catalog.providers()
            # A long name is no provider's: no fuzzy matching (quadratic) and no echo of it.
            long = len(provider) > MAX_NAME_LENGTH
            matches = () if long else tuple(difflib.get_close_matches(provider, known, n=5, cutoff=0.6))
            shown = f"of {len(provider):,} characters" if long else repr(provider)
            raise problem(404, "unknown_provider",
                          f"unknown provider {shown}; the catalog has: {', '.join(known)}",
                          field="provider", matches=matches or known)
        return _json(responses.encode_models(catalog, catalog.models(provider)))

    @get("/v1/models/{name:path}", tags=["catalog"], summary="One model", operation_class=openapi.ProblemOperation,
         responses=openapi.responses(Model, "The model.", body=False))
    async def model(name: Annotated[str, openapi.MODEL_NAME]) -> Response[bytes]:
        """One model by any name that resolves, with its aliases and dated price history."""
        try:
            # A path parameter arrives with its leading slash ("/deepseek/deepseek-reasoner").
            found = current().model(name.strip("/"))
        except UnknownModelError as exc:
            raise model_problem(exc, "model") from None
        return _json(responses.encode_model(found))

    @get("/healthz", tags=["service"], summary="Liveness", operation_class=openapi.ProblemOperation,
         responses=openapi.responses(responses.Health, "The service is up.", body=False, not_found=None))
    async def healthz() -> Response[bytes]:
        """Liveness, with the catalog digest and the number of models."""
        return _json(holder.health())

    metrics.show_catalog(holder.get())
    holder.listeners.append(metrics.show_catalog)
    return Litestar(
        route_handlers=[quote, quote_batch, compare, models, model, healthz, *metrics.routes(current),
                        *selfhost.routes(current), *projections.routes(current),
                        *page.routes(current), *docs_assets.routes(current), *usage.routes(current)],
        exception_handlers={
            ProblemError: handle_problem,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        request_max_body_size=limits.max_body_bytes,
        openapi_config=openapi.openapi_config(),
        plugins=[openapi.DecimalStringPlugin(), openapi.TimeOfDayPlugin()],
        on_startup=[openapi.describe_components],
        debug=False,
    )


def app_from_env() -> Any:
    """Factory for uvicorn workers: the app over the catalog ``INFERENCE_COST_CATALOG`` names (else the
    embedded one), with the settings the environment gives, reloading on SIGHUP."""
    # Imported here: service.api.server imports uvicorn, which the app itself does not need.
    from service.api.server import serving_app

    settings = settings_from_env()
    return serving_app(CurrentCatalog(load_catalog(settings.catalog), settings.catalog), settings)

"""The OpenAPI document: every request and response field described, money typed as decimal strings.

The request path decodes and encodes the engine's own Structs. For the document, this module
derives a described twin of each of them (same fields, names, types and defaults, plus a
description): ``described`` refuses a twin whose descriptions do not cover exactly the source's
fields, so the document cannot drift from what the API sends.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
from collections.abc import Mapping
from datetime import time
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
import yaml  # a dependency of Litestar's, which imports it with its render plugins anyway
from litestar import Request
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import RedocRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Example, License, OpenAPIResponse, OpenAPIType, Operation, Schema, Tag
from litestar.params import Body, Parameter
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from pricing import (
    MAX_REQUESTS,
    MAX_TOKENS,
    Line,
    Model,
    Period,
    Pricing,
    Quote,
    RankedQuote,
    Rates,
    Tier,
    Usage,
    Workload,
)
from pricing.schema import Route, Window
from service.api import bodies
from service.api.problems import PROBLEM_JSON, Problem
from service.api.settings import MAX_BATCH, MAX_BODY_BYTES, MAX_COMPARE_MODELS
from service.responses import BatchResponse, CompareResponse, Health, ModelsResponse

_TWINS: dict[Any, Any] = {}
#: Fields of the documented types without a description (or descriptions without a field).
UNDESCRIBED: list[str] = []
_TWIN_TYPES: set[Any] = set()


def _annotated(base: Any, *metadata: Any) -> Any:
    """``Annotated[base, *metadata]``, built at run time."""
    return Annotated.__class_getitem__((base, *metadata))  # type: ignore[attr-defined]


def _twin_type(tp: Any) -> Any:
    """``tp`` with every engine Struct in it replaced by its described twin."""
    if tp in _TWINS:
        return _TWINS[tp]
    origin, args = get_origin(tp), get_args(tp)
    if origin is None or not args:
        return tp
    if origin is Annotated:
        return _annotated(_twin_type(args[0]), *tp.__metadata__)
    if origin in (Union, types.UnionType):
        return functools.reduce(operator.or_, (_twin_type(a) for a in args))
    if origin is Literal:
        return tp
    return origin[tuple(a if a is Ellipsis else _twin_type(a) for a in args)]


def described(source: type[msgspec.Struct], doc: str, fields: Mapping[str, str | msgspec.Meta]) -> Any:
    """A twin of ``source`` for the document: its fields, each described by ``fields``.

    A ``Meta`` value adds constraints the engine checks in code (ranges, say) to the description.
    Mismatches are recorded in ``UNDESCRIBED``.
    """
    infos = msgspec.structs.fields(source)
    names = {f.name for f in infos}
    # A field added to the engine must not take the API down: it is documented by name until
    # described, and tests/test_service_openapi.py fails on every entry of UNDESCRIBED.
    UNDESCRIBED.extend(f"{source.__name__}.{name}: no description" for name in sorted(names - fields.keys()))
    UNDESCRIBED.extend(f"{source.__name__}.{name}: described, but no such field"
                       for name in sorted(fields.keys() - names))
    spec: list[Any] = []
    for f in infos:
        text = fields.get(f.name, f"`{f.name}` (not yet described)")
        meta = text if isinstance(text, msgspec.Meta) else msgspec.Meta(description=text)
        annotation = _annotated(_twin_type(f.type), meta)
        if f.default is not msgspec.NODEFAULT:
            spec.append((f.name, annotation, f.default))
        elif f.default_factory is not msgspec.NODEFAULT:
            spec.append((f.name, annotation, msgspec.field(default_factory=f.default_factory)))
        else:
            spec.append((f.name, annotation))
    rename = {f.name: f.encode_name for f in infos if f.encode_name != f.name}
    twin = msgspec.defstruct(source.__name__, spec, kw_only=True, rename=rename or None, module=__name__)
    twin.__doc__ = doc
    _TWINS[source] = twin
    _TWIN_TYPES.add(twin)
    return twin


class DecimalStringPlugin(OpenAPISchemaPlugin):
    """Money and rates are ``Decimal``: a JSON string holding the exact decimal, never a number."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.annotation is Decimal

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return Schema(type=OpenAPIType.STRING,
                      format="decimal",  # type: ignore[arg-type]  # not in OpenAPIFormat, valid OpenAPI
                      pattern=r"^-?[0-9]+(\.[0-9]+)?(E[+-]?[0-9]+)?$",
                      examples=["2.19"])


#: A time of day as msgspec encodes a naive ``datetime.time``: "HH:MM:SS", microseconds when any.
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$"


class TimeOfDayPlugin(OpenAPISchemaPlugin):
    """A ``time`` (a window's ``start``/``end``) is a local time of day such as "16:30:00".

    Litestar types it ``format: duration``, which it is not. JSON Schema's ``time`` is no better: it
    is RFC 3339 ``full-time``, which requires an offset these never carry (the zone is the window's
    ``timezone``). ``time-local`` is the OpenAPI Format Registry's name for exactly this
    (https://spec.openapis.org/registry/format/time-local); the pattern says it to every tool.
    """

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.annotation is time

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        return Schema(type=OpenAPIType.STRING,
                      format="time-local",  # type: ignore[arg-type]  # not in OpenAPIFormat, valid OpenAPI
                      pattern=TIME_OF_DAY_PATTERN,
                      examples=["16:30:00"])


class DescribedStructPlugin(StructSchemaPlugin):
    """Litestar's schema of a msgspec Struct, with the described twin's docstring as its description."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return field_definition.annotation in _TWIN_TYPES

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.description = field_definition.annotation.__doc__
        return schema


_MONEY = "an exact decimal in a JSON string, e.g. \"2.19\"; never rounded"
_RATE = f"Price per million tokens in the period's currency: {_MONEY}."

# -- the quote ----------------------------------------------------------------------------------

LineDoc = described(Line, "One priced part of a workload: `tokens` over all requests at `rate` per million.", {
    "kind": "What the tokens are: uncached `input`, `cached_input` (cache reads), `cache_write` "
            "(5-minute cache writes), `cache_write_1h` (1-hour cache writes) or `output` "
            "(reasoning included).",
    "tokens": "Tokens of this kind over all requests (per-request count times `requests`).",
    "rate": _RATE,
    "amount": f"`tokens` x `rate` / 1,000,000: {_MONEY}.",
})
_QUOTE = {
    "model": "Canonical id of the model priced.",
    "provider": "The provider selling it.",
    "currency": "ISO 4217 currency of every amount in this quote.",
    "at": "The instant priced (RFC 3339): the request's `at`, or the time of the request.",
    "requests": "Number of requests priced.",
    "batch": "Whether the provider's batch-API rates were used.",
    "lines": "The itemised lines; their amounts add up to `total`.",
    "total": f"The exact sum of the line amounts: {_MONEY}.",
    "source": "URL of the published price this quote used.",
    "checked": "Date the price was last checked against `source`.",
    "period_from": "Start of the price period used.",
    "period_until": "End of the price period used (exclusive); null while the price is current.",
    "window": "Name of the recurring discount window whose rates applied (e.g. `off-peak`), if any.",
    "tier": "The prompt-size tier that applied, as `>200000`, if any.",
    "catalog_digest": "SHA-256 of the catalog that held the price (see `GET /healthz`).",
    "routed_from": "When the provider bills the name asked for as another model from some instant on: "
                   "the canonical id of the model asked for (`model` is the one it is billed as); null otherwise.",
}
QuoteDoc = described(Quote, "An exact, itemised price, and everything needed to reproduce it.", _QUOTE)
RankedQuoteDoc = described(RankedQuote, "A quote in a comparison, with its saving against the baseline.", {
    **_QUOTE,
    "savings_percent": "(baseline total - this total) / baseline total x 100, rounded half-even to 2 "
                       "places, as a decimal string (negative: dearer than the baseline); null without a "
                       "baseline, when the baseline costs nothing, or in another currency.",
})

# -- requests -----------------------------------------------------------------------------------


def _count(text: str, low: int = 0, high: int = MAX_TOKENS) -> msgspec.Meta:
    return msgspec.Meta(ge=low, le=high, description=f"{text} A JSON integer from {low} to {high:,}.")


_USAGE: dict[str, str | msgspec.Meta] = {
    "input_tokens": _count("Prompt tokens per request: the whole prompt, cached and cache-write parts included."),
    "cached_input_tokens": _count("The part of `input_tokens` read from the provider's cache (cache hits)."),
    "cache_write_tokens": _count("The part of `input_tokens` written to the cache (Anthropic's 5-minute cache)."),
    "cache_write_1h_tokens": _count("The part of `input_tokens` written to Anthropic's 1-hour cache. The "
                                    "cached and cache-write parts together cannot exceed `input_tokens`."),
    "output_tokens": _count("Output tokens per request, reasoning tokens included."),
    "requests": _count("How many requests of this size.", 1, MAX_REQUESTS),
    "at": "When the requests run, RFC 3339 with an offset (`2025-01-31T12:00:00Z`); prices and discount "
          "windows in force then apply. Default: now.",
    "batch": "Price at the provider's batch-API rates (422 when the model has none).",
    "currency": "The price list to quote from, an ISO 4217 code such as `CNY` (DeepSeek publishes yuan "
                "prices too); default: the model's first-listed currency. 422 naming `currency` when the "
                "model has no price list in it.",
}
UsageDoc = described(Usage, "A token profile without a model: counts per request, how many, when. "
                     "Unknown fields are refused.", _USAGE)
WorkloadDoc = described(Workload, "A token profile on one model. Unknown fields are refused.", {
    **_USAGE,
    "model": "Model name: a canonical id, an alias, or `provider/id` (any case).",
})
BatchRequestDoc = described(bodies.BatchRequest, "Workloads to price in one request.", {
    "workloads": f"Up to {MAX_BATCH:,} workloads; one invalid workload fails the request with a 422 "
                 "naming its index and field.",
})
CompareRequestDoc = described(bodies.CompareRequest, "One token profile priced on several models.", {
    "workload": "The token profile (no `model`).",
    "models": "Names of the models to price (1 to "
              f"{MAX_COMPARE_MODELS:,}); leave out to price every model with a price at that instant.",
    "baseline": "A model to compare against (`savings_percent`); it is priced and listed too.",
})

# -- responses ----------------------------------------------------------------------------------

BatchResponseDoc = described(BatchResponse, "The quotes of a batch, in request order, and their totals.", {
    "quotes": "One quote per workload, in the order of the request.",
    "totals": f"Sum of the quote totals per currency code: {_MONEY}.",
})
CompareResponseDoc = described(CompareResponse, "A ranked comparison.", {
    "quotes": "Cheapest first (grouped by currency: totals in different currencies are not compared).",
    "baseline": "The baseline's `provider/id`, or null.",
})
_RATES = {
    "input": f"Uncached prompt tokens. {_RATE}",
    "output": f"Output tokens, reasoning included. {_RATE}",
    "cached_input": f"Cache reads; null: billed as input. {_RATE}",
    "cache_write": f"Cache writes (5-minute cache); null: billed as input. {_RATE}",
    "cache_write_1h": f"Writes to the 1-hour cache; null: billed as input. {_RATE}",
}
RatesDoc = described(Rates, "Prices per million tokens.", _RATES)
TierDoc = described(Tier, "Rates for a request whose prompt is above a size: the whole request is priced at these.", {
    **_RATES,
    "threshold": "Prompt size (input tokens) the tier starts at.",
    "boundary": "`>`: prompts above `threshold`; `>=`: from `threshold` on.",
})
_TIERS = "Prompt-size tiers above the base rates, lowest threshold first."
PricingDoc = described(Pricing, "Base rates and the prompt-size tiers above them.", {**_RATES, "tiers": _TIERS})
WindowDoc = described(Window, "A recurring time of day with its own rates (an off-peak discount, say).", {
    **_RATES,
    "tiers": _TIERS,
    "name": "Name of the window, e.g. `off-peak`.",
    "start": "Local start time in `timezone`, `HH:MM:SS` (no offset).",
    "end": "Local end time, `HH:MM:SS`; at or before `start` means the window runs past midnight.",
    "timezone": "IANA time zone of `start` and `end`.",
    "days": "Weekdays the window starts on; empty: every day.",
    "starts": "First instant the window applies, if limited.",
    "until": "Instant the window stops applying (exclusive), if limited.",
    "source": "Where the window was published, if not the period's source.",
    "except_dates": "Local dates (in `timezone`) on which a window starting that day does not apply "
                    "(public holidays, say).",
})
PeriodDoc = described(Period, "The prices in force over [from, until).", {
    **_RATES,
    "tiers": _TIERS,
    "starts": "Start of the period (RFC 3339).",
    "source": "URL the price was read from.",
    "checked": "Date the price was last checked against `source`.",
    "until": "End of the period (exclusive); null: until the next period, or current if last.",
    "currency": "ISO 4217 currency of every rate in the period.",
    "batch": "Batch-API rates; null: the model has no batch price in this period.",
    "windows": "Recurring discount windows whose rates replace the period's while they run.",
    "note": "Why the period exists (free text).",
})
RouteDoc = described(Route, "From `from` on, the model's names are billed as another model of the provider.", {
    "starts": "The instant (RFC 3339) from which the name is billed as `to`.",
    "to": "Id or alias of the provider's model the requests are billed as.",
    "source": "URL where the provider announced the route.",
    "checked": "Date the route was last checked against `source`.",
    "note": "What the provider says (free text).",
})
ModelDoc = described(Model, "One model at one provider, with its dated price history.", {
    "id": "Canonical id, unique within the provider.",
    "periods": "Price periods, oldest first.",
    "name": "Display name.",
    "aliases": "Other names that resolve to this model (`provider/name` resolves too).",
    "same_prices_as": "Id of another model of the provider deliberately priced exactly like this one, if any.",
    "provider": "Id of the provider selling the model.",
    "routes": "Instants from which the provider bills this model's names as another model, oldest first.",
    "shutdown": "The shutdown instant the provider announced, if any; after it, without a route, no price.",
    "shutdown_source": "URL where the shutdown was announced.",
})
ModelsResponseDoc = described(ModelsResponse, "The catalog's models.", {
    "models": "Models ordered by `provider/id`.",
    "count": "Number of models listed.",
    "catalog_digest": "SHA-256 of the catalog.",
})
HealthDoc = described(Health, "Liveness, and which catalog is served.", {
    "status": "`ok` while the service answers.",
    "catalog_digest": "SHA-256 over the catalog's files: the same catalog gives the same digest.",
    "models": "Number of models in the catalog.",
})
ProblemDoc = described(Problem, "An RFC 9457 problem document (`application/problem+json`).", {
    "status": "The HTTP status code.",
    "title": "The status's standard phrase.",
    "detail": "What went wrong and what to do about it, for a person.",
    "code": "Stable machine-readable name: `malformed_json`, `unsupported_media_type`, `empty_body`, "
            "`body_too_large`, `invalid_request`, `unknown_model`, `ambiguous_model`, `unknown_provider`, "
            "`no_price`, `not_found`, `method_not_allowed`, `internal_error`; `bad_request` and "
            "`http_error` for other errors of the HTTP layer.",
    "type": "`about:blank`: the status and `code` carry the meaning.",
    "field": "JSON path of the offending value, e.g. `$.workloads[3].input_tokens`.",
    "index": "Position of the offending item in the request's list (a batch's workload, a compare's model).",
    "matches": "Close matches of an unknown model name, or the candidates of an ambiguous one.",
})

# -- wiring into Litestar -----------------------------------------------------------------------


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(ProblemDoc, description=description, media_type=PROBLEM_JSON, generate_examples=False)


_BAD_BODY = _problem("Malformed JSON, an empty body, or a body not sent as JSON (its `Content-Type` is not "
                     "`application/json` or `application/*+json`).")
_TOO_LARGE = _problem(f"The body is over {MAX_BODY_BYTES:,} bytes.")
_INVALID = _problem("A field is invalid (`field` names it), or the model has no price at that instant.")
_NOT_FOUND = {
    "model": _problem("Unknown or ambiguous model name (`matches` lists close names or the candidates)."),
    "provider": _problem("Unknown provider (`matches` lists close provider ids, else every one)."),
}
_INTERNAL = _problem("A bug in the service (`internal_error`): logged; the answer holds no internals.")


def responses(ok: Any, description: str, *, body: bool = True,
              not_found: Literal["model", "provider"] | None = "model") -> dict[int, ResponseSpec]:
    """The documented responses of a route: its 200 and every problem it can answer with.

    ``body``: the route decodes a JSON body (400, 413, 422); ``not_found``: what a 404 names.
    """
    specs = {200: ResponseSpec(ok, description=description, generate_examples=False)}
    if body:
        specs |= {400: _BAD_BODY, 413: _TOO_LARGE, 422: _INVALID}
    if not_found is not None:
        specs[404] = _NOT_FOUND[not_found]
    specs[500] = _INTERNAL
    return dict(sorted(specs.items()))


def _is_problem(response: Any) -> bool:
    return isinstance(response, OpenAPIResponse) and set(response.content or ()) == {PROBLEM_JSON}


@dataclasses.dataclass
class ProblemOperation(Operation):
    """A route's OpenAPI operation whose documented errors are all problem documents.

    Litestar documents a 400 "Validation Exception" (its own JSON error body) on every route with a
    parameter. The service never sends that body (its exception handlers answer every error with a
    ``Problem``), and a GET route never answers 400: the errors a route answers are the ones
    ``responses`` lists, so every other error response is dropped. Runs once, at document build.
    """

    def __post_init__(self) -> None:
        if self.responses:
            self.responses = {status: response for status, response in self.responses.items()
                              if status[0] in "123" or _is_problem(response)}


#: ``GET /v1/models/{name}``'s parameter: a plain string, which may hold a slash (``provider/id``).
MODEL_NAME = Parameter(
    description="The model, by any name that resolves: canonical id, alias or `provider/id` (any case). "
                "It may contain a slash, sent as is or percent-encoded (`%2F`).",
    examples=[Example(summary="A model named with its provider", value="deepseek/deepseek-reasoner")],
)


# Litestar documents a request body from a ``data`` parameter, which it would also decode (in lax
# mode, see service.api.bodies). A ``data`` parameter on a dependency the handler never asks for is
# documented the same way and never called: that is what these are.
def _body_only(doc_type: Any, description: str) -> Provide:
    def body(data: Any) -> None:
        raise AssertionError("documentation only: never called")

    body.__annotations__ = {"data": Annotated[doc_type, Body(description=description)], "return": None}
    return Provide(body, sync_to_thread=False)


def body_doc(doc_type: Any, description: str) -> dict[str, Provide]:
    """Route dependencies that only document a request body of ``doc_type`` in the OpenAPI document."""
    return {f"_{getattr(doc_type, '__name__', 'body')}_body_doc": _body_only(doc_type, description)}


def _operation_id(handler: HTTPRouteHandler, method: Any, path: Any) -> str:
    """The handler's function name in camelCase (``quote_batch`` -> ``quoteBatch``): short names for
    generated clients, instead of Litestar's path-derived ``V1QuotesBatchQuoteBatch``."""
    first, *rest = handler.handler_name.split("_")
    return first + "".join(word.capitalize() for word in rest)


_TAGS = [
    Tag(name="quotes", description="Prices: one workload, a batch of them, or one token profile across models."),
    Tag(name="catalog", description="The models and their dated, sourced prices."),
    Tag(name="service", description="The service itself."),
]


class PortableYamlRenderPlugin(YamlRenderPlugin):
    """``/schema/openapi.yaml`` in plain YAML, the same document as ``/schema/openapi.json``.

    Litestar's plugin dumps the schema with PyYAML's full dumper, which writes a tuple default (a
    model's ``aliases``) as ``!!python/tuple []``: only PyYAML's unsafe loader reads that. Through
    JSON first, every value is a JSON type, and ``safe_dump`` writes standard tags only.
    """

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        plain = msgspec.json.decode(msgspec.json.encode(openapi_schema))
        text: str = yaml.safe_dump(plain, sort_keys=False, allow_unicode=True)
        return text.encode()


def _version() -> str:
    try:
        return version("inference-cost")
    except PackageNotFoundError:
        return "0.0.0"


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="inference-cost",
        version=_version(),
        description=(
            "Exact, dated, sourced cost estimates for LLM inference. Every money value is a JSON "
            "string holding an exact decimal, never rounded. Errors are RFC 9457 problem documents "
            f"(`{PROBLEM_JSON}`). Limits: bodies up to {MAX_BODY_BYTES:,} bytes, batches up to "
            f"{MAX_BATCH:,} workloads, token counts up to {MAX_TOKENS:,} per request."
        ),
        license=License(name="MIT", identifier="MIT"),
        tags=_TAGS,
        path="/schema",
        create_examples=False,
        use_handler_docstrings=True,  # each operation's description is its handler's docstring
        operation_id_creator=_operation_id,
        # The JSON and YAML documents are built in-process (PyYAML is a dependency of Litestar's):
        # they work offline. The HTML pages load their scripts from CDNs (see README).
        render_plugins=[SwaggerRenderPlugin(path=["/", "/swagger"]), RedocRenderPlugin(path="/redoc"),
                        PortableYamlRenderPlugin()],
    )

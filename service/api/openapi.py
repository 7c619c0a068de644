"""The OpenAPI document, generated from the engine's and the service's own Structs.

Each field's description lives once, on its Struct (``Annotated[T, msgspec.Meta(description=...)]``),
and Litestar renders it. Two things Litestar does not carry over are added once the document is
built (``describe_components``, at start-up): a Struct's docstring as its component's description,
and the JSON Schema keywords a field declares in ``Meta(extra_json_schema=...)`` (bounds the engine
checks in code, so that decoding stays strict and its messages stay the engine's).
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Iterable, Iterator
from datetime import time
from decimal import Decimal
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, Literal

import msgspec
import yaml  # declared in pyproject: it writes /schema/openapi.yaml
from litestar import Litestar, Request, Response, Router
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import YamlRenderPlugin
from litestar.openapi.spec import Example, License, OpenAPIResponse, OpenAPIType, Operation, Schema, Tag
from litestar.params import Body, Parameter
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

from pricing import MAX_TOKENS
from service.api import docs_assets
from service.api.problems import ABOUT_BLANK, PROBLEM_JSON, Problem, problem_response
from service.api.settings import MAX_BATCH, MAX_BODY_BYTES

#: Every Struct named by a route's documented body or responses: ``describe_components`` describes
#: these and every Struct they contain.
_DOCUMENTED: set[type[msgspec.Struct]] = {Problem}


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


# -- wiring into Litestar -----------------------------------------------------------------------


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(Problem, description=description, media_type=PROBLEM_JSON, generate_examples=False)


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
    # A union of answers (a projection, or a ranking of them) is documented as each of its members.
    _DOCUMENTED.update(typing.get_args(ok) if isinstance(ok, types.UnionType) else (ok,))
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
    _DOCUMENTED.add(doc_type)
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


def _missing_page_as_problem(response: Response[Any]) -> Response[Any]:
    # Litestar answers a /schema path that no page has with its own HTML 404; every error of the
    # service is a problem document.
    if response.status_code != 404:
        return response
    return problem_response(Problem(
        type=ABOUT_BLANK, status=404, title="Not Found", code="not_found",
        detail="no such documentation page; the pages are /schema (Swagger UI), /schema/redoc, "
               "/schema/openapi.json and /schema/openapi.yaml"))


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
        # they work offline, and so do the HTML pages (their assets: service/api/docs_assets.py).
        render_plugins=[*docs_assets.render_plugins(), PortableYamlRenderPlugin()],
        openapi_router=Router("/schema", route_handlers=[], include_in_schema=False,
                              after_request=_missing_page_as_problem),
    )


# -- what Litestar leaves out --------------------------------------------------------------------

#: The JSON Schema keywords carried over, as Litestar's ``Schema`` attributes.
_KEYWORDS = {"minimum": "minimum", "maximum": "maximum", "minLength": "min_length", "maxLength": "max_length",
             "pattern": "pattern", "minItems": "min_items", "maxItems": "max_items"}


def documented_structs() -> list[msgspec.inspect.StructType]:
    """Every Struct the document describes: the routes' bodies and responses and all they contain."""
    return list(_structs(_DOCUMENTED))


def _structs(types: Iterable[Any]) -> Iterator[msgspec.inspect.StructType]:
    """Every Struct in ``types``, nested ones included, each once."""
    seen: set[Any] = set()
    stack: list[Any] = list(msgspec.inspect.multi_type_info(list(types)))
    while stack:
        info = stack.pop()
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls in seen:
                continue
            seen.add(info.cls)
            yield info
            stack.extend(field.type for field in info.fields)
        elif isinstance(info, msgspec.inspect.Metadata):
            stack.append(info.type)
        elif isinstance(info, msgspec.inspect.UnionType):
            stack.extend(info.types)
        elif isinstance(info, (msgspec.inspect.CollectionType, msgspec.inspect.VarTupleType)):
            stack.append(info.item_type)
        elif isinstance(info, msgspec.inspect.DictType):
            stack.extend((info.key_type, info.value_type))


def summary(cls: type) -> str:
    """The first paragraph of ``cls``'s docstring, in Markdown's inline code."""
    paragraph = inspect.cleandoc(cls.__doc__ or "").split("\n\n", 1)[0]
    return " ".join(paragraph.split()).replace("``", "`")


def _property(schema: Any) -> Any:
    """The schema that carries a property's own keywords (an optional field's non-null branch)."""
    branches = [b for b in schema.one_of or () if not (isinstance(b, Schema) and b.type == OpenAPIType.NULL)]
    return branches[0] if len(branches) == 1 else schema


def _constraints(info: Any) -> dict[str, Any]:
    """The JSON Schema keywords of a field's type: what decoding enforces (a list's length, say, which
    Litestar drops inside an optional) and what the field declares for the document only."""
    found: dict[str, Any] = {}
    if isinstance(info, msgspec.inspect.Metadata):
        found |= {k: v for k, v in (info.extra_json_schema or {}).items() if k in _KEYWORDS}
        info = info.type
    if isinstance(info, msgspec.inspect.UnionType):
        branches = [t for t in info.types if not isinstance(t, msgspec.inspect.NoneType)]
        info = branches[0] if len(branches) == 1 else None
    if isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.VarTupleType)):
        found |= {k: v for k, v in (("minItems", info.min_length), ("maxItems", info.max_length)) if v is not None}
    return found


def describe_components(app: Litestar) -> None:
    """Give each Struct's component its docstring, and its fields' constraints and declared keywords."""
    components = app.openapi_schema.components.schemas or {}
    for info in documented_structs():
        component = components.get(info.cls.__name__)
        if not isinstance(component, Schema):
            continue
        component.description = summary(info.cls)
        if info.forbid_unknown_fields:
            component.additional_properties = False
        for field in info.fields:
            prop = (component.properties or {}).get(field.encode_name)
            if isinstance(prop, Schema):
                target = _property(prop)
                for keyword, value in _constraints(field.type).items():
                    setattr(target, _KEYWORDS[keyword], value)

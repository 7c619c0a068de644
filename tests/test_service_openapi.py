"""The OpenAPI document Litestar generates: every field described, money typed as decimal strings."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import msgspec
import pytest
import yaml  # a dependency of Litestar's: it serves /schema/openapi.yaml with it
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from pricing import MAX_REQUESTS, MAX_TOKENS, Catalog, Line, Quote, RankedQuote, Usage, Workload
from service.api import openapi, problems
from service.api.settings import MAX_BATCH, MAX_BODY_BYTES, MAX_COMPARE_MODELS
from tests.support import JSON, PROBLEM, service_client


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with service_client() as c:
        yield c


@pytest.fixture(scope="module")
def document(client: TestClient[Any]) -> dict[str, Any]:
    r = client.get("/schema/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


def properties(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, schema in document["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            yield name, field, prop


def test_every_engine_field_is_described(document: dict[str, Any]) -> None:
    """Each field of every documented Struct carries its description on the Struct itself."""
    structs = openapi.documented_structs()
    assert {info.cls for info in structs} >= {Quote, RankedQuote, Line, Workload, Usage, problems.Problem}
    undescribed = [f"{info.cls.__name__}.{field.name}" for info in structs for field in info.fields
                   if not (isinstance(field.type, msgspec.inspect.Metadata)
                           and (field.type.extra_json_schema or {}).get("description"))]
    assert undescribed == []
    assert all(info.cls.__doc__ for info in structs)


def test_every_property_has_a_description(document: dict[str, Any]) -> None:
    missing = [f"{n}.{f}" for n, f, prop in properties(document) if not prop.get("description")]
    assert missing == []
    # Every type has its own description too: its docstring.
    schemas = document["components"]["schemas"]
    by_name = {info.cls.__name__: info.cls for info in openapi.documented_structs()}
    assert set(schemas) == set(by_name)
    assert {name: schema.get("description") for name, schema in schemas.items()} == {
        name: openapi.summary(by_name[name]) for name in schemas}
    assert all(schema.get("description") for schema in schemas.values())


def test_money_is_a_decimal_string(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for schema, field in [("Quote", "total"), ("Line", "amount"), ("Line", "rate"), ("Period", "input"),
                          ("Tier", "output"), ("Pricing", "input")]:
        prop = schemas[schema]["properties"][field]
        assert (prop["type"], prop["format"]) == ("string", "decimal"), (schema, field, prop)
    nullable = schemas["RankedQuote"]["properties"]["savings_percent"]
    assert {"type": "string", "format": "decimal"}.items() <= nullable["oneOf"][0].items()
    totals = schemas["BatchResponse"]["properties"]["totals"]
    assert totals["additionalProperties"]["format"] == "decimal"
    # No number-typed property anywhere carries money: the only numbers are integer counts.
    numbers = [(n, f) for n, f, prop in properties(document) if prop.get("type") == "number"]
    assert numbers == []


def test_the_documented_fields_are_the_engines(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for struct in (Quote, RankedQuote, Line, Workload, Usage):
        encoded = {f.encode_name for f in msgspec.structs.fields(struct)}
        assert set(schemas[struct.__name__]["properties"]) == encoded, struct
    assert schemas["Workload"]["required"] == ["model"]
    assert not schemas["Usage"].get("required")
    assert schemas["Period"]["properties"]["from"]["format"] == "date-time"


@pytest.mark.parametrize(("path", "request_schema", "response_schema"), [
    ("/v1/quotes", "Workload", "Quote"),
    ("/v1/quotes/batch", "BatchRequest", "BatchResponse"),
    ("/v1/compare", "CompareRequest", "CompareResponse"),
])
def test_post_bodies_and_answers(document: dict[str, Any], path: str, request_schema: str,
                                 response_schema: str) -> None:
    op = document["paths"][path]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body["allOf"] == [{"$ref": f"#/components/schemas/{request_schema}"}]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/{response_schema}"}
    for status in ("400", "404", "413", "422"):
        problem = op["responses"][status]["content"]["application/problem+json"]["schema"]
        assert problem == {"$ref": "#/components/schemas/Problem"}
    assert "201" not in op["responses"]


def test_get_routes(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert set(paths) == {"/v1/quotes", "/v1/quotes/batch", "/v1/compare", "/v1/models",
                          "/v1/models/{name}", "/healthz", "/v1/selfhost", "/v1/projections", "/v1/budgets",
                          "/v1/plans", "/v1/forecasts", "/v1/usage"}
    provider = paths["/v1/models"]["get"]["parameters"][0]
    assert provider["name"] == "provider" and provider["in"] == "query" and provider["description"]
    assert paths["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Health"}


def test_interactive_pages(client: TestClient[Any]) -> None:
    for page in ("/schema", "/schema/swagger", "/schema/redoc"):
        r = client.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), page


def test_documentation_dependencies_are_never_called(client: TestClient[Any]) -> None:
    """The body-documenting dependencies must not run: they would decode the body a second time."""
    r = client.post("/v1/quotes", content=b'{"model":"alpha","at":"2025-06-02T12:00:00Z"}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 200
    with pytest.raises(AssertionError, match="documentation only"):
        (only,) = openapi.body_doc(Workload, "The workload to price.").values()
        only.dependency(data=None)


# -- the whole document: every error a problem, every reference resolved, every part described ------

OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
OPERATION_KEYS = {"tags", "summary", "description", "externalDocs", "operationId", "parameters", "requestBody",
                  "responses", "callbacks", "deprecated", "security", "servers"}
PROBLEM_CONTENT = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in OPERATIONS:
            if method in item:
                yield path, method, item[method]


def nodes(value: Any, where: str = "#") -> Iterator[tuple[str, Any]]:
    """Every object and array in ``value``, with its JSON pointer."""
    yield where, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from nodes(child, f"{where}/{str(key).replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from nodes(child, f"{where}/{i}")


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref}: only references inside the document"
    target: Any = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


def test_every_error_response_is_a_problem(document: dict[str, Any]) -> None:
    """No operation documents Litestar's default error body (the service never sends it)."""
    for where, node in nodes(document["paths"]):
        assert not (isinstance(node, dict) and {"status_code", "extra"} <= node.get("properties", {}).keys()), where
        assert not (isinstance(node, dict) and node.get("description") == "Validation Exception"), where
    for path, method, op in operations(document):
        for status, response in op["responses"].items():
            if status == "default" or int(status) >= 400:
                assert response["content"] == PROBLEM_CONTENT, (path, method, status)
            else:
                assert PROBLEM not in response.get("content", {}), (path, method, status)


_BIG = b'{"workloads": [' + b" " * MAX_BODY_BYTES + b"]}"
#: For each operation, one request per documented client error: the statuses it really answers.
ERRORS: dict[tuple[str, str], dict[int, tuple[str, str, bytes | None]]] = {
    ("/v1/quotes", "post"): {
        400: ("POST", "/v1/quotes", b'{"model": '),
        404: ("POST", "/v1/quotes", b'{"model": "nope"}'),
        413: ("POST", "/v1/quotes", _BIG),
        422: ("POST", "/v1/quotes", b'{"model": "alpha", "input_tokens": -1}'),
    },
    ("/v1/quotes/batch", "post"): {
        400: ("POST", "/v1/quotes/batch", b""),
        404: ("POST", "/v1/quotes/batch", b'{"workloads": [{"model": "nope"}]}'),
        413: ("POST", "/v1/quotes/batch", _BIG),
        422: ("POST", "/v1/quotes/batch", b'{"workloads": [{"model": "alpha", "at": "2020-01-01T00:00:00Z"}]}'),
    },
    ("/v1/compare", "post"): {
        400: ("POST", "/v1/compare", b"[1,"),
        404: ("POST", "/v1/compare", b'{"workload": {}, "models": ["nope"]}'),
        413: ("POST", "/v1/compare", _BIG),
        422: ("POST", "/v1/compare", b'{"workload": {"output_tokens": "5"}}'),
    },
    ("/v1/models", "get"): {404: ("GET", "/v1/models?provider=nope", None)},
    ("/v1/models/{name}", "get"): {404: ("GET", "/v1/models/acme/nope", None)},
    ("/healthz", "get"): {},
    ("/v1/selfhost", "post"): {
        400: ("POST", "/v1/selfhost", b"[1,"),
        413: ("POST", "/v1/selfhost", _BIG),
        422: ("POST", "/v1/selfhost", b'{"usage": {}, "hours": "24", "profile": "nope", "gpu_hour_price": "2"}'),
    },
    **{(path, "post"): {
        400: ("POST", path, b'{"model": '),
        404: ("POST", path, b'{"model": "nope", ' + rest),
        413: ("POST", path, _BIG),
        422: ("POST", path, b'{"model": "alpha", "usage": {"input_tokens": -1}, ' + rest),
    } for path, rest in (
        ("/v1/projections", b'"from": "2025-03-01T00:00:00Z", "until": "2025-03-02T00:00:00Z", "requests": 1}'),
        ("/v1/budgets", b'"from": "2025-03-01T00:00:00Z", "amount": "1", "requests_per_day": "1"}'),
        ("/v1/plans", b'"from": "2025-03-01T00:00:00Z", "until": "2025-03-02T00:00:00Z", "requests": 1, '
                      b'"max_per_hour": "1"}'),
        ("/v1/forecasts", b'"history": [{"at": "2025-03-03T00:00:00Z", "requests": 1}], "weeks": 1}'),
    )},
    ("/v1/usage", "post"): {
        400: ("POST", "/v1/usage", b"model,at\nalpha,2025-01-01T00:00:00Z\n"),  # sent as JSON: not a usage type
        413: ("POST", "/v1/usage", _BIG),
        422: ("POST", "/v1/usage?format=otel", b'{"resourceSpans": []}'),
    },
}


def test_documented_errors_are_the_ones_answered(document: dict[str, Any], client: TestClient[Any]) -> None:
    for path, method, op in operations(document):
        documented = {int(s) for s in op["responses"] if s != "default" and int(s) >= 400}
        # 500 is a bug's answer, documented everywhere for its shape: no request should produce it.
        assert documented - {500} == set(ERRORS[path, method]), (path, method)
        assert 500 in documented, (path, method)
        for status, (verb, url, body) in ERRORS[path, method].items():
            r = client.request(verb, url, content=body, headers=JSON if body is not None else None)
            assert (r.status_code, r.headers["content-type"]) == (status, PROBLEM), (path, method, r.text)


def test_problem_codes_are_the_ones_sent(document: dict[str, Any]) -> None:
    """The documented list of `code` values is exactly what the service's sources can send."""
    sources = "\n".join(p.read_text() for p in Path(problems.__file__).parent.glob("*.py"))
    sent = set(re.findall(r'problem\(\s*\d+,\s*"([a-z_]+)"', sources))
    sent |= set(re.findall(r'Problem\(.*code="([a-z_]+)"', sources))
    # Litestar's own errors: problems.py maps their statuses to codes, with a fallback.
    sent |= {code for code, _ in problems._HTTP_CODES.values()}
    sent |= set(re.findall(r'_HTTP_CODES\.get\(status, \("([a-z_]+)"', sources))
    described = document["components"]["schemas"]["Problem"]["properties"]["code"]["description"]
    assert set(re.findall(r"`([a-z_]+)`", described)) == sent
    assert {"unknown_model", "not_found", "internal_error", "http_error"} <= sent  # the pattern finds them


def test_times_of_day_are_local_times(document: dict[str, Any]) -> None:
    """A `time` is "HH:MM:SS" without an offset: not a duration, and not RFC 3339 `time` (which needs one)."""
    schemas = document["components"]["schemas"]
    found = []
    by_name = {info.cls.__name__: info.cls for info in openapi.documented_structs()}
    for name, schema in schemas.items():
        for f in msgspec.structs.fields(by_name[name]):
            if time in bare_types(f.type):
                found.append((name, f.encode_name))
                prop = schema["properties"][f.encode_name]
                assert (prop["type"], prop["format"]) == ("string", "time-local"), (name, f.name, prop)
                assert prop["pattern"] == TIME_PATTERN.pattern and prop["examples"]
    assert found == [("Window", "start"), ("Window", "end")]
    assert [where for where, node in nodes(document) if node == "duration"] == []


def bare_types(tp: Any) -> set[Any]:
    """The types in ``tp``, without ``Annotated`` and unions: ``{time, NoneType}`` for ``time | None``."""
    if get_origin(tp) is Annotated:
        return bare_types(get_args(tp)[0])
    if get_origin(tp) in (Union, types.UnionType):
        return set().union(*(bare_types(a) for a in get_args(tp)))
    return {tp}


TIME_PATTERN = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?$")


@settings(max_examples=200)
@given(st.times())
def test_the_time_pattern_matches_what_the_service_sends(t: time) -> None:
    assert TIME_PATTERN.fullmatch(msgspec.json.decode(msgspec.json.encode(t)))


def test_the_time_pattern_refuses_what_it_should() -> None:
    for text in ("16:30", "24:00:00", "16:30:00Z", "PT16H30M", "16:60:00", "6:30:00"):
        assert not TIME_PATTERN.fullmatch(text), text


def test_the_model_name_parameter(document: dict[str, Any], client: TestClient[Any]) -> None:
    (param,) = document["paths"]["/v1/models/{name}"]["get"]["parameters"]
    assert (param["name"], param["in"], param["required"]) == ("name", "path", True)
    assert param["schema"]["type"] == "string" and "format" not in param["schema"]
    assert "slash" in param["description"]
    (example,) = param["schema"]["examples"]
    # The example is a real name in the shipped catalog, with a slash, as the description promises.
    assert "/" in example and Catalog.default().model(example).id == example.split("/")[1]
    for url in ("/v1/models/acme/alpha", "/v1/models/acme%2Falpha"):
        assert client.get(url).json()["id"] == "alpha", url


def test_the_documents_need_no_network(client: TestClient[Any], document: dict[str, Any]) -> None:
    """JSON and YAML are built in-process from the routes; the HTML pages load their scripts from the
    service (tests/test_page_browser.py watches the browser's requests)."""
    r = client.get("/schema/openapi.yaml")
    # The registered media type of an OpenAPI document in YAML.
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(r.text) == document
    assert all(ref.startswith("#/") for where, ref in nodes(document) if where.endswith("/$ref"))
    for page in ("/schema", "/schema/redoc"):
        outside = re.findall(r"""(?:src|href)=["']((?:https?:)?//[^"']*)""", client.get(page).text)
        assert outside == [], (page, outside)  # README: the interactive pages work offline


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    refs = [(where, node) for where, node in nodes(document) if where.endswith("/$ref")]
    assert refs
    for where, ref in refs:
        target = resolve(document, ref)
        assert isinstance(target, dict) and target, where
    # Every schema is used somewhere.
    used = {ref for _, ref in refs}
    assert {f"#/components/schemas/{name}" for name in document["components"]["schemas"]} <= used


def test_every_operation_is_described(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    info = document["info"]
    assert info["title"] and info["version"] and info["description"] and info["license"]["identifier"] == "MIT"
    declared = {tag["name"]: tag.get("description") for tag in document["tags"]}
    assert all(declared.values()), declared
    ids = []
    for path, method, op in operations(document):
        assert set(op) <= OPERATION_KEYS, (path, method)
        assert op["summary"] and op["description"] and op["operationId"], (path, method)
        assert re.fullmatch(r"[a-z][A-Za-z]*", op["operationId"]), op["operationId"]
        ids.append(op["operationId"])
        assert set(op["tags"]) <= declared.keys(), (path, method)
        assert op["responses"] and all(r.get("description") for r in op["responses"].values()), (path, method)
        assert all(set(r.get("content", {})) <= {"application/json", PROBLEM} for r in op["responses"].values())
        params = op.get("parameters", [])
        assert all(p["description"] and p["schema"] and p["in"] in ("query", "path") for p in params)
        in_path = {p["name"] for p in params if p["in"] == "path"}
        assert in_path == set(re.findall(r"\{([^}]+)\}", path)), path
        assert all(p["required"] for p in params if p["in"] == "path"), path
        if method == "post":
            assert op["requestBody"]["required"] and op["requestBody"]["content"]["application/json"]["schema"]
    assert len(ids) == len(set(ids)) == len(document["paths"])
    assert set(declared) == {tag for _, _, op in operations(document) for tag in op["tags"]}


def test_every_schema_is_well_formed(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        assert re.fullmatch(r"[A-Za-z0-9._-]+", name)
        assert set(schema.get("required", [])) <= schema["properties"].keys(), name
        assert schema["type"] == "object" and schema["description"], name
    # Nested inline schemas (array items, the branches of a nullable) carry their own types.
    for where, node in nodes(document["components"]):
        if isinstance(node, dict) and ("items" in node or "oneOf" in node):
            branches = node.get("oneOf", [node.get("items")])
            assert all(isinstance(b, dict) and ("type" in b or "$ref" in b) for b in branches), where


def test_the_bounds_the_service_enforces_are_documented(document: dict[str, Any]) -> None:
    """What the service refuses, the document refuses too (a schema-driven client sends neither)."""
    schemas = document["components"]["schemas"]
    workload = schemas["Workload"]["properties"]
    for field in ("input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens",
                  "output_tokens"):
        assert (workload[field]["minimum"], workload[field]["maximum"]) == (0, MAX_TOKENS), field
    assert (workload["requests"]["minimum"], workload["requests"]["maximum"]) == (1, MAX_REQUESTS)
    assert (workload["model"]["minLength"], workload["model"]["pattern"]) == (1, r"\S")
    models = schemas["CompareRequest"]["properties"]["models"]["oneOf"][0]
    assert (models["minItems"], models["maxItems"]) == (1, MAX_COMPARE_MODELS)
    assert schemas["BatchRequest"]["properties"]["workloads"]["maxItems"] == MAX_BATCH


def test_a_projection_of_several_models_documents_its_ranking(document: dict[str, Any]) -> None:
    ok = document["paths"]["/v1/projections"]["post"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"oneOf": [{"$ref": "#/components/schemas/Projection"},
                                      {"$ref": "#/components/schemas/ProjectionRanking"}]}
    ranking = document["components"]["schemas"]["ProjectionRanking"]
    assert ranking["description"] and set(ranking["properties"]) == {"projections", "baseline"}

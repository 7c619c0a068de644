"""The OpenAPI document Litestar generates: every field described, money typed as decimal strings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from pricing import Line, Quote, RankedQuote, Usage, Workload
from service import openapi
from tests.test_service_support import service_client


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


def test_every_engine_field_is_described() -> None:
    assert openapi.UNDESCRIBED == []


def test_every_property_has_a_description(document: dict[str, Any]) -> None:
    missing = [f"{n}.{f}" for n, f, prop in properties(document) if not prop.get("description")]
    assert missing == []
    # Every type has its own description too: its docstring.
    schemas = document["components"]["schemas"]
    assert {name: schema.get("description") for name, schema in schemas.items()} == {
        name: getattr(openapi, f"{name}Doc").__doc__ for name in schemas}


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
                          "/v1/models/{name}", "/healthz"}
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
        openapi.body_doc("workload")["_workload_body_doc"].dependency(data=None)

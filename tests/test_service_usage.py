"""``POST /v1/usage``: a usage file as the body, the summary as JSON or the priced rows streamed."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from litestar.testing import TestClient

from pricing import Catalog
from service.api.settings import MAX_BODY_BYTES
from tests.support import service_client

FIXTURES = Path(__file__).parent / "fixtures" / "usage"
CSV = (FIXTURES / "canonical.csv").read_bytes()


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with service_client(Catalog.default()) as c:
        yield c


def test_csv_body_answers_the_summary(client: TestClient[Any]) -> None:
    r = client.post("/v1/usage?group_by=team", content=CSV, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows"] == 5 and body["unpriced"] == 1 and body["errors"] == {"unknown_model": 1}
    assert body["totals"][0]["total"] == "0.078980000000"
    assert {g["keys"]["team"] for g in body["groups"]} == {"team-a", "team-b"}


def test_priced_rows_streamed_as_csv_and_ndjson(client: TestClient[Any]) -> None:
    r = client.post("/v1/usage", content=CSV, headers={"Content-Type": "text/csv", "Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert len(lines) == 6 and lines[0].startswith("id,model,at,") and ",unknown_model," in lines[5] + ","
    r = client.post("/v1/usage", content=CSV, headers={"Content-Type": "text/csv", "Accept": "application/x-ndjson"})
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert rows[0]["total"] == "0.002995000000" and rows[4]["error"] == "unknown_model" and rows[4]["total"] is None


def test_parquet_and_jsonl_bodies_and_an_export(client: TestClient[Any], tmp_path: Path) -> None:
    table = pacsv.read_csv(io.BytesIO(CSV))
    sink = io.BytesIO()
    pq.write_table(table.drop(["reported_cost"]), sink)
    r = client.post("/v1/usage", content=sink.getvalue(), headers={"Content-Type": "application/vnd.apache.parquet"})
    assert r.status_code == 200, r.text
    assert r.json()["totals"][0]["total"] == "0.078980000000"
    lines = b"\n".join(json.dumps(row, default=str).encode() for row in table.drop(["reported_cost"]).to_pylist())
    r = client.post("/v1/usage", content=lines, headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert r.json()["totals"][0]["total"] == "0.078980000000"
    otel = (FIXTURES / "otel_spans.json").read_bytes()
    r = client.post("/v1/usage?format=otel", content=otel, headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["totals"][0]["total"] == "0.005835000000"


def test_bad_bodies_are_problems_naming_row_and_column(client: TestClient[Any]) -> None:
    r = client.post("/v1/usage", content=b"model,at,input_tokens\ngpt-4o,2025-01-01T00:00:00Z,x\n",
                    headers={"Content-Type": "text/csv"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["field"] == "input_tokens" and problem["index"] == 1 and "whole number" in problem["detail"]
    r = client.post("/v1/usage", content=CSV, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "unsupported_media_type" and "text/csv" in r.json()["detail"]
    r = client.post("/v1/usage", content=b"", headers={"Content-Type": "text/csv"})
    assert r.status_code == 400
    r = client.post("/v1/usage?format=excel", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["field"] == "format"
    r = client.post("/v1/usage", content=b"x" * (MAX_BODY_BYTES + 1), headers={"Content-Type": "text/csv"})
    assert r.status_code == 413

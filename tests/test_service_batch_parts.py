"""The batch answer is sent in parts (one per chunk of quotes, then the totals): together they are the
one-shot encoding, each is bounded, and the service sends them with a Content-Length (not chunked)."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime

import msgspec
import pytest

from pricing import Workload, totals_by_currency
from service import responses
from tests.support import test_catalog as make_catalog
from tests.test_service_operations import Service, service  # noqa: F401 - the module's real-server fixture

AT = datetime(2025, 6, 1, 12, tzinfo=UTC)


def workloads(size: int) -> list[Workload]:
    catalog = make_catalog()
    names = [m.provider + "/" + m.id for m in catalog.models()]
    return [Workload(model=names[i % len(names)], input_tokens=1000 + i, output_tokens=7 * i, at=AT)
            for i in range(size)]


@pytest.mark.parametrize("size", [0, 1, responses.BATCH_CHUNK, responses.BATCH_CHUNK + 1, 2 * responses.BATCH_CHUNK + 7])
def test_the_parts_are_the_one_shot_encoding(size: int) -> None:
    catalog = make_catalog()
    batch = workloads(size)
    parts = responses.price_batch_parts(catalog, batch)
    quotes = catalog.quote_many(batch)
    one_shot = msgspec.json.encode(responses.BatchResponse(quotes=quotes, totals=totals_by_currency(quotes)))
    assert b"".join(parts) == one_shot
    assert len(parts) == -(-size // responses.BATCH_CHUNK) + 1  # a part per chunk, and the totals
    largest_quote = max((len(msgspec.json.encode(q)) + 1 for q in quotes), default=0)
    assert all(len(p) <= 64 + responses.BATCH_CHUNK * largest_quote for p in parts)


def test_the_service_sends_a_batch_with_its_content_length(service: Service) -> None:  # noqa: F811
    body = json.dumps({"workloads": [{"model": "alpha", "output_tokens": 1_000_000, "at": "2025-06-01T12:00:00Z"}] * 2})
    request = urllib.request.Request(f"http://127.0.0.1:{service.port}/v1/quotes/batch", data=body.encode(),
                                     headers={"content-type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as r:
        data = r.read()
        assert r.headers["Transfer-Encoding"] is None
        assert int(r.headers["Content-Length"]) == len(data)
        assert r.headers["Content-Type"] == "application/json"
    assert [q["total"] for q in json.loads(data)["quotes"]] == ["4", "4"]

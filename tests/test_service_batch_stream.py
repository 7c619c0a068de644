"""The batch endpoint prices and encodes in chunks: the bytes must equal encoding every quote at once."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from pricing import Catalog, NoPriceError, Workload, totals_by_currency
from service import responses
from tests.support import test_catalog as make_catalog

AT = datetime(2025, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize("size", [0, 1, responses.BATCH_CHUNK - 1, responses.BATCH_CHUNK, responses.BATCH_CHUNK + 1, 1234])
def test_chunked_batch_equals_one_shot(size: int) -> None:
    catalog = make_catalog()
    names = [m.provider + "/" + m.id for m in catalog.models()]
    workloads = [
        Workload(model=names[i % len(names)], input_tokens=1000 + i, cached_input_tokens=i % 500,
                 output_tokens=7 * i, requests=1 + i % 3, at=AT)
        for i in range(size)
    ]
    streamed = responses.price_batch(catalog, workloads)
    quotes = catalog.quote_many(workloads)
    assert streamed == msgspec.json.encode(responses.BatchResponse(quotes=quotes, totals=totals_by_currency(quotes)))
    body = msgspec.json.decode(streamed)
    assert len(body["quotes"]) == size
    assert set(body["totals"]) == {q.currency for q in catalog.quote_many(workloads)}


def test_a_failing_workload_is_named_by_its_index_across_chunks() -> None:
    """The chunked encoder reports the failing workload's position in the whole batch."""
    catalog = Catalog.default()
    good = Workload(model="deepseek-reasoner", output_tokens=10, at=datetime(2025, 3, 1, tzinfo=UTC))
    bad = Workload(model="deepseek-reasoner", output_tokens=10, at=datetime(2000, 1, 1, tzinfo=UTC))
    for position in (0, 7, responses.BATCH_CHUNK - 1, responses.BATCH_CHUNK, responses.BATCH_CHUNK * 2 + 3):
        workloads = [good] * position + [bad] + [good] * 3
        with pytest.raises(NoPriceError) as raised:
            responses.price_batch(catalog, workloads)
        assert raised.value.index == position

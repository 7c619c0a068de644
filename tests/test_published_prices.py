"""Prices a reader can check against the provider's page, checked against the shipped catalog.

Each ``tests/published/*.toml`` lists ``[[price]]`` rows: a model name as users type it, an
instant, and the rates published for that instant (with the source). A row fails when the shipped
catalog disagrees, so a careless edit of ``pricing/data`` cannot ship a wrong price unnoticed.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from pricing import Catalog, Workload

TABLES = sorted((Path(__file__).parent / "published").glob("*.toml"))
RATES = ("input", "cached_input", "cache_write", "cache_write_1h", "output")


class Published(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    model: str
    at: datetime
    source: str
    input: Decimal | None = None
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    cache_write_1h: Decimal | None = None
    output: Decimal | None = None
    batch: bool = False
    prompt_tokens: int = 0
    note: str = ""


def _rows() -> list[object]:
    rows = []
    for table in TABLES:
        raw = tomllib.loads(table.read_text(), parse_float=Decimal)
        for i, item in enumerate(raw.get("price", [])):
            row = msgspec.convert(item, Published)
            rows.append(pytest.param(row, id=f"{table.stem}[{i}]:{row.model}@{row.at.date()}"))
    return rows


ROWS = _rows()


def test_every_provider_has_published_prices() -> None:
    catalog = Catalog.default()
    covered = {catalog.model(p.values[0].model).provider for p in ROWS}  # type: ignore[attr-defined]
    assert set(catalog.providers()) <= covered


@pytest.mark.parametrize("row", ROWS)
def test_published_price_matches_catalog(row: Published) -> None:
    """Price one million tokens of each kind the row names; each line's rate must be the published one."""
    assert row.source.startswith("https://")
    catalog = Catalog.default()
    cached = 1 if row.cached_input is not None else 0
    write = 1 if row.cache_write is not None else 0
    write_1h = 1 if row.cache_write_1h is not None else 0
    prompt = row.prompt_tokens or 1000
    quote = catalog.quote(Workload(
        model=row.model, input_tokens=prompt, cached_input_tokens=cached,
        cache_write_tokens=write, cache_write_1h_tokens=write_1h,
        output_tokens=1_000_000, at=row.at, batch=row.batch,
    ))
    rates = {line.kind: line.rate for line in quote.lines}
    for kind in RATES:
        expected = getattr(row, kind)
        if expected is not None:
            assert rates[kind] == expected, f"{kind}: catalog {rates[kind]} != published {expected} ({row.source})"

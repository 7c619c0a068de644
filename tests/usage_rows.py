"""Generated usage for the engine-equality properties: every shipped model name (and some unknown
ones), instants across each model's periods and at its windows' edges, prompts at tier thresholds,
batch rows, and a share of invalid rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

from pricing import Catalog

CATALOG = Catalog.default()
NAMES = CATALOG.names()
MODELS = CATALOG.models()
_US = timedelta(microseconds=1)


def _edges(model_index: int) -> list[datetime]:
    """Instants where a price changes: period starts and ends, window edges (local time, DST)."""
    out: list[datetime] = []
    model = MODELS[model_index]
    # Where the name stops being priced by its own periods: its routes and its shutdown.
    for instant in [r.starts for r in model.routes] + ([model.shutdown] if model.shutdown else []):
        out += [instant, instant - _US, instant + timedelta(days=3)]
    for period in model.periods:
        out += [period.starts, period.starts - _US]
        if period.until is not None:
            out += [period.until, period.until - _US]
        for window in period.windows:
            zone = ZoneInfo(window.timezone)
            first = (window.starts or period.starts).astimezone(zone).date()
            holidays = list(window.except_dates)
            for day in [first + timedelta(days=d) for d in (0, 1, 2, 5, 30, 100)] + holidays:
                for t in (window.start, window.end):
                    local = datetime.combine(day, t, tzinfo=zone)
                    out += [local.astimezone(UTC), local.astimezone(UTC) - _US]
    return out


@st.composite
def usage_row(draw: st.DrawFn) -> dict[str, Any]:
    index = draw(st.integers(0, len(MODELS) - 1))
    model = MODELS[index]
    name = draw(st.sampled_from([model.id, model.id.upper(), f"{model.provider}/{model.id}",
                                 *model.aliases, *NAMES[:0]]))
    name = draw(st.one_of(st.just(name), st.sampled_from(NAMES), st.just("no-such-model"), st.just(f" {name} ")))
    period = draw(st.sampled_from(model.periods))
    at = draw(st.one_of(
        st.sampled_from(_edges(index)),
        st.integers(-2 * 86_400, 400 * 86_400).map(lambda s, p=period: p.starts + timedelta(seconds=s)),
    )).astimezone(UTC)
    thresholds = [t.threshold for p in model.periods for t in p.tiers]
    prompt = draw(st.one_of(
        st.integers(0, 300_000),
        st.sampled_from([t + d for t in thresholds for d in (-1, 0, 1)] or [1000]),
    ))
    cached = draw(st.integers(0, prompt))
    write = draw(st.integers(0, prompt - cached))
    write_1h = draw(st.integers(0, prompt - cached - write))
    row = {
        "id": None,
        "model": name,
        "at": at,
        "input_tokens": prompt,
        "cached_input_tokens": cached,
        "cache_write_tokens": write,
        "cache_write_1h_tokens": write_1h,
        "output_tokens": draw(st.integers(0, 100_000)),
        "requests": draw(st.sampled_from([1, 1, 2, 7, 1000, 10**12])),
        "batch": draw(st.booleans()),
    }
    if draw(st.integers(0, 9)) == 0:  # an invalid row now and then
        field = draw(st.sampled_from(["input_tokens", "cached_input_tokens", "output_tokens", "requests"]))
        row[field] = draw(st.sampled_from([-1, 10**10 + 1, 0 if field == "requests" else -5]))
    return row


def usage_rows(max_size: int = 40) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.lists(usage_row(), min_size=1, max_size=max_size)


SCHEMA = pa.schema([
    ("id", pa.string()), ("model", pa.string()), ("at", pa.timestamp("us", tz="UTC")),
    ("input_tokens", pa.int64()), ("cached_input_tokens", pa.int64()), ("cache_write_tokens", pa.int64()),
    ("cache_write_1h_tokens", pa.int64()), ("output_tokens", pa.int64()), ("requests", pa.int64()),
    ("batch", pa.bool_()),
])


def write_parquet(rows: list[dict[str, Any]], path: Path) -> Path:
    for i, row in enumerate(rows):
        row["id"] = f"r{i}"
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
    return path


def read_rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist()

"""Importers: each export's subset rules (cached tokens are part of the prompt exactly once), bucket
splitting that keeps every total exact, and the fixtures priced end to end."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from service.usage.importers import import_anthropic, import_litellm, import_openai, import_otel, split_bucket

FIXTURES = Path(__file__).parent / "fixtures" / "usage"
FIELDS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens")


def totals(table: pa.Table, where: dict[str, object] | None = None) -> dict[str, int]:
    rows = [r for r in table.to_pylist() if all(r.get(k) == v for k, v in (where or {}).items())]
    return {f: sum((r.get(f) or 0) * r["requests"] for r in rows) for f in FIELDS if f in table.column_names}


def test_openai_input_tokens_already_include_the_cached_ones() -> None:
    table = import_openai(FIXTURES / "openai_usage.json", "openai_usage.json")
    first = totals(table, {"project_id": "proj_a", "model": "gpt-4o-2024-08-06"})
    # input_tokens 3,000,000 of which input_cached_tokens 1,000,000: the prompt is 3M, not 4M.
    assert first == {"input_tokens": 3_000_000, "cached_input_tokens": 1_000_000, "output_tokens": 400_000}
    rows = [r for r in table.to_pylist() if r["model"] == "gpt-4o-2024-08-06"]
    assert sum(r["requests"] for r in rows) == 1000 and rows[0]["input_tokens"] == 3000
    # An uneven bucket: 1,000,001 input tokens over 4 requests, still exact in total, batch kept.
    mini = totals(table, {"model": "gpt-4o-mini-2024-07-18"})
    assert mini == {"input_tokens": 1_000_001, "cached_input_tokens": 3, "output_tokens": 7}
    assert all(r["batch"] for r in table.to_pylist() if r["model"] == "gpt-4o-mini-2024-07-18")
    assert table.to_pylist()[0]["at"] == "2025-03-01T00:00:00+00:00"


def test_anthropic_separate_counts_are_summed_into_the_prompt() -> None:
    table = import_anthropic(FIXTURES / "anthropic_usage.json", "anthropic_usage.json")
    sonnet = [r for r in table.to_pylist() if r["context_window"] == "0-200k" and r["model"].startswith("claude-sonnet")]
    got = {f: sum(r[f] * r["requests"] for r in sonnet) for f in FIELDS}
    # 1.5M uncached + 0.7M cache reads + 0.2M 5-minute + 0.1M 1-hour writes = a 2.5M-token prompt.
    assert got == {"input_tokens": 2_500_000, "cached_input_tokens": 700_000, "cache_write_tokens": 200_000,
                   "cache_write_1h_tokens": 100_000, "output_tokens": 250_000}
    # "0-200k": no request is over 200,000 prompt tokens; "200k-1M": every request is over.
    assert all(r["input_tokens"] <= 200_000 for r in sonnet)
    long = [r for r in table.to_pylist() if r["context_window"] == "200k-1M"]
    assert all(r["input_tokens"] > 200_000 for r in long) and sum(r["input_tokens"] * r["requests"] for r in long) == 600_000
    assert [r["batch"] for r in table.to_pylist() if r["service_tier"] == "batch"] == [True]


def test_otel_spans_without_usage_are_skipped_and_cache_reads_are_part_of_input() -> None:
    rows = import_otel(FIXTURES / "otel_spans.json", "otel_spans.json").to_pylist()
    assert [r["id"] for r in rows] == ["eee19b7ec3c1b174", "bbb19b7ec3c1b176"]
    assert rows[0]["model"] == "gpt-4o-2024-08-06"  # the response model: the snapshot that ran
    assert (rows[0]["input_tokens"], rows[0]["cached_input_tokens"], rows[0]["output_tokens"]) == (1200, 1024, 300)
    assert rows[1]["at"] == "2025-04-23T17:00:00.000001+00:00"  # nanoseconds to microseconds


def test_litellm_spend_becomes_reported_cost_as_text() -> None:
    rows = import_litellm(FIXTURES / "litellm_spend_logs.json", "litellm_spend_logs.json").to_pylist()
    assert rows[0]["reported_cost"] == "0.0016150000000000001" and rows[0]["reported_currency"] == "USD"
    assert (rows[1]["input_tokens"], rows[1]["cached_input_tokens"]) == (1500, 1024)  # metadata as a JSON string
    assert rows[2]["model"] == "my-finetune-xyz"


@given(st.dictionaries(st.sampled_from(FIELDS), st.integers(0, 10**9), min_size=1), st.integers(1, 10**6))
def test_a_split_bucket_adds_up_exactly_and_no_request_has_more_cache_than_prompt(
        raw: dict[str, int], requests: int) -> None:
    counts = dict(raw)
    counts["input_tokens"] = max(counts.get("input_tokens", 0), sum(
        counts.get(f, 0) for f in ("cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens")))
    rows = split_bucket(counts, requests)
    assert len(rows) <= 6
    for field, total in counts.items():
        assert sum(c[field] * n for c, n in rows) == total
    parts = ("cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens")
    assert all(sum(c.get(p, 0) for p in parts) <= c["input_tokens"] for c, _ in rows)
    assert sum(n for _, n in rows) in (requests, 1)

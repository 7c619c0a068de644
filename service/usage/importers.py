"""Importers: the usage exports people have, as canonical usage rows (an Arrow table).

The subset rules are the whole point (getting "cached is part of input" wrong is the common
double-billing bug); each importer says how its counts map onto the canonical row, where
``input_tokens`` is the whole prompt and the cache counts are parts of it:

- ``openai`` (organization usage API, completions buckets, a page ``{"data": [buckets]}`` or a
  list of pages / JSON Lines of pages): ``input_tokens`` already includes ``input_cached_tokens``:
  input = input_tokens, cached = input_cached_tokens. ``num_model_requests`` is the request count,
  ``batch`` the Batch API flag, ``start_time`` (Unix seconds) the instant. Other result fields
  (``project_id``, ``user_id``, ``api_key_id``, ...) pass through.
- ``anthropic`` (Admin API usage report, ``/v1/organizations/usage_report/messages``): the counts are
  separate there: input = uncached_input_tokens + cache_read_input_tokens +
  cache_creation.ephemeral_5m_input_tokens + cache_creation.ephemeral_1h_input_tokens; cached =
  cache_read_input_tokens; cache_write = the 5-minute writes; cache_write_1h = the 1-hour writes.
  ``service_tier: "batch"`` is the Batch API; ``starting_at`` the instant.
  The same document may also hold pages of the cost report (``/v1/organizations/cost_report``,
  grouped by description, a JSON list ``[usage page, cost page]`` or JSON Lines of pages): its
  ``tokens`` results give what was billed per line kind (``token_type`` uncached_input_tokens ->
  ``reported_input_cost``, cache_read_input_tokens -> cached_input, the 5-minute and 1-hour
  cache_creation -> cache_write and cache_write_1h, output_tokens -> output), ``amount`` being in the
  currency's minor units (cents). A cost result matches the usage result of the same day bucket,
  model, service tier, context window and workspace; the usage must be exported with 1d buckets and
  grouped no finer (not by api_key_id), and every billed line must find its usage, else the import
  fails saying so. The bucket's billed amount of each kind is shared over its rows by their tokens of
  that kind (``pricing.reported.apportion``: cut at 18 places, the last row takes the rest, so the
  bucket's sum is exact); ``reported_cost`` is the sum of a row's kinds. Web search and code execution
  costs are not token usage: left out.
- ``otel`` (OpenTelemetry GenAI spans as OTLP JSON): one row a span that has a model and token
  usage. model = ``gen_ai.response.model`` (the snapshot that ran), else ``gen_ai.request.model``;
  input = ``gen_ai.usage.input_tokens`` (the semantic conventions include cached tokens in it),
  cached = ``gen_ai.usage.cache_read.input_tokens``, cache_write =
  ``gen_ai.usage.cache_creation.input_tokens``, output = ``gen_ai.usage.output_tokens``;
  at = ``startTimeUnixNano``; id = ``spanId``. Spans without usage are not usage: skipped.
- ``litellm`` (spend logs, ``LiteLLM_SpendLogs`` exported as JSON, JSON Lines or CSV): input =
  ``prompt_tokens`` (litellm counts cached and cache-write tokens inside it), cached =
  ``cache_read_input_tokens`` or ``prompt_tokens_details.cached_tokens`` from
  ``metadata.usage_object`` when present, cache_write = ``cache_creation_input_tokens``, output =
  ``completion_tokens``; at = ``startTime``; id = ``request_id``; ``spend`` becomes ``reported_cost``
  (USD), read from its text: a float spend is compared, never summed as a float. A spend log has
  only that total: it cannot say which line kind a difference comes from.

Buckets (OpenAI, Anthropic) hold many requests in one row. Amounts are linear in tokens, so a bucket
prices exactly whatever its request count, except for a prompt-size tier, which depends on each
request's prompt, which a bucket cannot tell. A bucket is therefore written as requests of equal
size (the totals divided by the request count; when they do not divide, a few rows whose sizes
differ by one token and whose counts add up exactly, ``bucket`` naming the bucket): totals are
exact, and a tier is decided on the bucket's mean prompt. Anthropic's report has no request count
but says which context window its requests used (``context_window``: "0-200k" or "200k-1M"): the
importer picks the fewest requests of at most 200,000 prompt tokens each (for "200k-1M": of at most
1,000,000, each then above 200,000) that add up to the bucket.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from pricing.reported import apportion, from_minor_units, total
from pricing.usage_tables import plain
from service.usage.errors import UsageInputError

_FIELDS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens",
           "output_tokens")
Row = dict[str, Any]


def _read_json_documents(path: Path, label: str) -> list[Any]:
    """A JSON document, or JSON Lines of them."""
    text = path.read_text(encoding="utf-8")
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        pass
    docs = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise UsageInputError(label, f"is not JSON or JSON Lines ({exc.msg})", row=number) from None
    return docs


def _int(value: Any, label: str, row: int, column: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UsageInputError(label, f"must be a whole number, got {value!r}", row=row, column=column)
    try:
        return int(value)
    except ValueError:
        raise UsageInputError(label, f"must be a whole number, got {value!r}", row=row, column=column) from None


def split_bucket(totals: dict[str, int], requests: int) -> list[tuple[dict[str, int], int]]:
    """``requests`` requests whose counts add up to ``totals`` exactly: (counts per request, how many).

    Request ``j`` gets ``total // requests`` of a field, plus one for the first ``total % requests``
    requests: at most six distinct sizes. The cache parts are given their extra token on the same
    leading requests as the prompt, so no request has more cache tokens than prompt tokens; a
    bucket for which that still fails is written as one request of its totals.
    """
    if requests <= 1:
        return [(dict(totals), 1)]
    base = {k: v // requests for k, v in totals.items()}
    extra = {k: v % requests for k, v in totals.items()}
    cuts = sorted({0, requests, *extra.values()})
    rows = []
    for lo, hi in itertools.pairwise(cuts):
        counts = {k: base[k] + (1 if lo < extra[k] else 0) for k in totals}
        rows.append((counts, hi - lo))
    parts = ("cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens")
    if any(sum(c.get(p, 0) for p in parts) > c.get("input_tokens", 0) for c, _ in rows):
        return [(dict(totals), 1)]
    return rows


def _bucket_rows(common: Row, totals: dict[str, int], requests: int, bucket: str) -> Iterator[Row]:
    for counts, n in split_bucket(totals, requests):
        yield {**common, **counts, "requests": n, "bucket": bucket}


def _iso(seconds: int | float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).isoformat()


# -- OpenAI --------------------------------------------------------------------------------------


def _openai_buckets(docs: Iterable[Any]) -> Iterator[Any]:
    for doc in docs:
        if isinstance(doc, list):
            yield from _openai_buckets(doc)
        elif isinstance(doc, dict) and doc.get("object") == "page":
            yield from doc.get("data") or []
        elif isinstance(doc, dict) and doc.get("object") == "bucket":
            yield doc


def import_openai(path: Path, label: str) -> pa.Table:
    rows: list[Row] = []
    for b, bucket in enumerate(_openai_buckets(_read_json_documents(path, label)), 1):
        if not isinstance(bucket, dict) or "start_time" not in bucket:
            raise UsageInputError(label, "an OpenAI usage bucket needs start_time", row=b)
        for r, result in enumerate(bucket.get("results") or [], 1):
            where = f"bucket {b} result {r}"
            requests = _int(result.get("num_model_requests"), label, b, "num_model_requests")
            totals = {
                "input_tokens": _int(result.get("input_tokens"), label, b, "input_tokens"),
                "cached_input_tokens": _int(result.get("input_cached_tokens"), label, b, "input_cached_tokens"),
                "output_tokens": _int(result.get("output_tokens"), label, b, "output_tokens"),
            }
            common: Row = {
                "model": result.get("model"),
                "at": _iso(_int(bucket["start_time"], label, b, "start_time")),
                "batch": bool(result.get("batch") or False),
                "project_id": result.get("project_id"),
                "user_id": result.get("user_id"),
                "api_key_id": result.get("api_key_id"),
                "bucket_requests": requests,
            }
            rows.extend(_bucket_rows(common, totals, max(requests, 1), where))
    return _table(rows, label)


# -- Anthropic -----------------------------------------------------------------------------------


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


#: The cost report's ``token_type`` -> the line kind it bills.
ANTHROPIC_TOKEN_KINDS = {
    "uncached_input_tokens": "input",
    "cache_read_input_tokens": "cached_input",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h",
    "output_tokens": "output",
}
_KIND_TOKENS = {"cached_input": "cached_input_tokens", "cache_write": "cache_write_tokens",
                "cache_write_1h": "cache_write_1h_tokens", "output": "output_tokens"}
_Key = tuple[str, Any, Any, Any, Any]


def _day(value: Any, label: str, row: int) -> str:
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC).isoformat()
    except ValueError:
        raise UsageInputError(label, f"is not an RFC 3339 instant: {value!r}", row=row, column="starting_at") from None


def _anthropic_key(bucket: dict[str, Any], result: dict[str, Any], label: str, row: int) -> _Key:
    """What a cost result and a usage result share: the bucket, model, tier, context window, workspace."""
    return (_day(bucket["starting_at"], label, row), result.get("model"), result.get("service_tier"),
            result.get("context_window"), result.get("workspace_id"))


def _anthropic_costs(buckets: list[Any], label: str) -> dict[_Key, tuple[str, dict[str, list[Decimal]]]]:
    """The token costs of a cost report's results, by key: (currency, amounts per line kind)."""
    costs: dict[_Key, tuple[str, dict[str, list[Decimal]]]] = {}
    for b, bucket in enumerate(buckets, 1):
        for result in bucket.get("results") or []:
            if not isinstance(result, dict) or "amount" not in result:
                continue
            if result.get("cost_type") not in (None, "tokens"):
                continue  # web search, code execution: not token usage, not priced here
            token_type, model = result.get("token_type"), result.get("model")
            if token_type is None or model is None:
                raise UsageInputError(label, "a cost report result has no model or token_type: export the cost "
                                      "report grouped by description (group_by[]=description)", row=b)
            kind = ANTHROPIC_TOKEN_KINDS.get(token_type)
            if kind is None:
                raise UsageInputError(label, f"unknown token_type {token_type!r} (known: "
                                      f"{', '.join(ANTHROPIC_TOKEN_KINDS)})", row=b, column="token_type")
            currency = str(result.get("currency") or "USD")
            try:
                amount = from_minor_units(str(result["amount"]), currency)
            except ValueError as exc:
                raise UsageInputError(label, str(exc), row=b, column="amount") from None
            key = _anthropic_key(bucket, result, label, b)
            known, kinds = costs.setdefault(key, (currency, {}))
            if known != currency:
                raise UsageInputError(label, f"bills one bucket in {known} and {currency}", row=b, column="currency")
            kinds.setdefault(kind, []).append(amount)
    return costs


def _billed_rows(rows: list[Row], currency: str, kinds: dict[str, list[Decimal]]) -> None:
    """Share a bucket's billed amount of each kind over its rows by their tokens of that kind (exact sums)."""
    def tokens(row: Row, kind: str) -> int:
        if kind == "input":
            count = row["input_tokens"] - row["cached_input_tokens"] - row["cache_write_tokens"] - row["cache_write_1h_tokens"]
        else:
            count = row[_KIND_TOKENS[kind]]
        return int(count) * int(row["requests"])

    per_row: list[list[Decimal]] = [[] for _ in rows]
    for kind in ANTHROPIC_TOKEN_KINDS.values():
        shares = apportion(total(kinds.get(kind, [])), [tokens(row, kind) for row in rows])
        for row, share, mine in zip(rows, shares, per_row, strict=True):
            row[f"reported_{kind}_cost"] = plain(share)
            mine.append(share)
    for row, mine in zip(rows, per_row, strict=True):
        row["reported_cost"] = plain(total(mine))
        row["reported_currency"] = currency


def import_anthropic(path: Path, label: str) -> pa.Table:
    rows: list[Row] = []
    buckets: list[Any] = []
    for doc in _read_json_documents(path, label):
        for page in doc if isinstance(doc, list) else [doc]:
            buckets.extend((page or {}).get("data") or [])
    for b, bucket in enumerate(buckets, 1):
        if not isinstance(bucket, dict) or "starting_at" not in bucket:
            raise UsageInputError(label, "an Anthropic usage bucket needs starting_at", row=b)
    costs = _anthropic_costs(buckets, label)
    matched: set[_Key] = set()
    for b, bucket in enumerate(buckets, 1):
        for r, result in enumerate(bucket.get("results") or [], 1):
            if isinstance(result, dict) and "amount" in result:
                continue  # a cost report's result: matched to its usage below
            creation = result.get("cache_creation") or {}
            uncached = _int(result.get("uncached_input_tokens"), label, b, "uncached_input_tokens")
            read = _int(result.get("cache_read_input_tokens"), label, b, "cache_read_input_tokens")
            five = _int(creation.get("ephemeral_5m_input_tokens"), label, b, "cache_creation.ephemeral_5m_input_tokens")
            hour = _int(creation.get("ephemeral_1h_input_tokens"), label, b, "cache_creation.ephemeral_1h_input_tokens")
            totals = {"input_tokens": uncached + read + five + hour, "cached_input_tokens": read,
                      "cache_write_tokens": five, "cache_write_1h_tokens": hour,
                      "output_tokens": _int(result.get("output_tokens"), label, b, "output_tokens")}
            window = result.get("context_window") or "0-200k"
            prompt = totals["input_tokens"]
            if window == "200k-1M":
                requests = max(1, _ceil_div(prompt, 1_000_000))
            else:
                requests = max(1, _ceil_div(prompt, 200_000))
            common: Row = {
                "model": result.get("model"),
                "at": str(bucket["starting_at"]),
                "batch": result.get("service_tier") == "batch",
                "workspace_id": result.get("workspace_id"),
                "api_key_id": result.get("api_key_id"),
                "service_tier": result.get("service_tier"),
                "context_window": result.get("context_window"),
            }
            split = list(_bucket_rows(common, totals, requests, f"bucket {b} result {r}"))
            key = _anthropic_key(bucket, result, label, b) if costs else None
            if key is not None and key in costs:
                if key in matched:
                    raise UsageInputError(label, "two usage results share one cost report line (same day, model, "
                                          "service tier, context window and workspace): export the usage report "
                                          "with 1d buckets grouped by model, service_tier, context_window and "
                                          "workspace_id only (not api_key_id)", row=b)
                matched.add(key)
                currency, kinds = costs[key]
                _billed_rows(split, currency, kinds)
            rows.extend(split)
    for key, (_currency, kinds) in costs.items():
        if key not in matched and any(a != 0 for amounts in kinds.values() for a in amounts):
            day, model, tier, window, workspace = key
            raise UsageInputError(label, f"the cost report bills {model} ({tier}, {window}, workspace "
                                  f"{workspace}) on {day} but the usage report has no such usage: export both "
                                  "for the same days, with 1d buckets and the same grouping")
    return _table(rows, label)


# -- OpenTelemetry GenAI spans (OTLP JSON) -----------------------------------------------------


def _attr_value(value: dict[str, Any]) -> Any:
    for key in ("stringValue", "intValue", "boolValue"):
        if key in value:
            return value[key]
    if "doubleValue" in value:
        return value["doubleValue"]
    return None


def import_otel(path: Path, label: str) -> pa.Table:
    rows: list[Row] = []
    n = 0
    for doc in _read_json_documents(path, label):
        for resource in (doc or {}).get("resourceSpans") or []:
            res_attrs = {a["key"]: _attr_value(a.get("value") or {})
                         for a in (resource.get("resource") or {}).get("attributes") or []}
            for scope in resource.get("scopeSpans") or []:
                for span in scope.get("spans") or []:
                    n += 1
                    attrs = {a["key"]: _attr_value(a.get("value") or {}) for a in span.get("attributes") or []}
                    model = attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model")
                    if model is None or not any(k.startswith("gen_ai.usage.") for k in attrs):
                        continue
                    start = span.get("startTimeUnixNano")
                    if start is None:
                        raise UsageInputError(label, "a GenAI span needs startTimeUnixNano", row=n)
                    nanos = _int(start, label, n, "startTimeUnixNano")
                    at = datetime.fromtimestamp(nanos // 1_000_000_000, UTC).replace(
                        microsecond=(nanos % 1_000_000_000) // 1000)

                    def count(key: str, where: int = n, values: dict[str, Any] = attrs) -> int:
                        return _int(values.get(key), label, where, key)

                    rows.append({
                        "id": span.get("spanId"),
                        "model": model,
                        "at": at.isoformat(),
                        "input_tokens": count("gen_ai.usage.input_tokens"),
                        "cached_input_tokens": count("gen_ai.usage.cache_read.input_tokens"),
                        "cache_write_tokens": count("gen_ai.usage.cache_creation.input_tokens"),
                        "output_tokens": count("gen_ai.usage.output_tokens"),
                        "trace_id": span.get("traceId"),
                        "span_name": span.get("name"),
                        "gen_ai_provider": attrs.get("gen_ai.provider.name") or attrs.get("gen_ai.system"),
                        "service_name": res_attrs.get("service.name"),
                    })
    return _table(rows, label)


# -- litellm spend logs ------------------------------------------------------------------------


def _litellm_records(path: Path, label: str) -> list[Row]:
    if path.suffix.lower() == ".csv":
        import csv

        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    records: list[Row] = []
    for doc in _read_json_documents(path, label):
        records.extend(doc if isinstance(doc, list) else [doc])
    return records


def import_litellm(path: Path, label: str) -> pa.Table:
    rows: list[Row] = []
    for n, record in enumerate(_litellm_records(path, label), 1):
        if not isinstance(record, dict):
            raise UsageInputError(label, "a spend log entry must be an object", row=n)
        metadata = record.get("metadata") or {}
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata) if metadata.strip() else {}
            except json.JSONDecodeError:
                raise UsageInputError(label, "is not JSON", row=n, column="metadata") from None
        usage = metadata.get("usage_object") or {} if isinstance(metadata, dict) else {}
        details = usage.get("prompt_tokens_details") or {}
        cached = usage.get("cache_read_input_tokens", details.get("cached_tokens"))
        spend = record.get("spend")
        rows.append({
            "id": record.get("request_id"),
            "model": record.get("model"),
            "at": record.get("startTime"),
            "input_tokens": _int(record.get("prompt_tokens"), label, n, "prompt_tokens"),
            "cached_input_tokens": _int(cached, label, n, "usage_object.cache_read_input_tokens"),
            "cache_write_tokens": _int(usage.get("cache_creation_input_tokens"), label, n,
                                       "usage_object.cache_creation_input_tokens"),
            "output_tokens": _int(record.get("completion_tokens"), label, n, "completion_tokens"),
            # The float's shortest text is what litellm showed; it is read as a decimal, exactly.
            "reported_cost": None if spend in (None, "") else str(spend),
            "reported_currency": "USD",
            "team_id": record.get("team_id"),
            "user": record.get("user"),
            "api_key": record.get("api_key"),
            "custom_llm_provider": record.get("custom_llm_provider"),
        })
    return _table(rows, label)


def _table(rows: list[Row], label: str) -> pa.Table:
    if not rows:
        raise UsageInputError(label, "holds no usage rows")
    # A dict keeps the first-seen order; a list's "not in" was quadratic in a wide export's keys.
    names = list(dict.fromkeys(key for row in rows for key in row))
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        kind = pa.int64() if name in (*_FIELDS, "requests", "bucket_requests") else (
            pa.bool_() if name == "batch" else pa.string())
        if kind == pa.string():
            values = [None if v is None else str(v) for v in values]
        columns[name] = pa.array(values, type=kind)
    return pa.table(columns)


IMPORTERS: dict[str, Callable[[Path, str], pa.Table]] = {
    "openai": import_openai,
    "anthropic": import_anthropic,
    "otel": import_otel,
    "litellm": import_litellm,
}

"""The load test's response checks: the service's genuine answers pass, and an answer that is wrong in
any way a check covers fails with a reason naming the rule (a check that cannot fail proves nothing).

Answers are built with the engine and the service's own encoders (``service.responses``), as the HTTP API
builds them, for requests drawn from the load test's own mix."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from load import checks
from load.checks import CheckError
from load.mix import BATCH_SIZES, CompareSpec, Mix, WorkloadSpec, parse_models
from pricing import Catalog, Usage, Workload, totals_by_currency
from service import responses
from service.api import bodies

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
EXACT = Context(prec=200)
CATALOG = Catalog.default()
MIX = Mix(parse_models(responses.encode_models(CATALOG, CATALOG.models())), NOW, seed=1)


def quote_body(workload: WorkloadSpec) -> bytes:
    return responses.encode_quote(CATALOG.quote(msgspec.convert(msgspec.to_builtins(workload), Workload)))


def batch_body(workloads: list[WorkloadSpec]) -> bytes:
    quotes = CATALOG.quote_many(msgspec.convert(msgspec.to_builtins(w), Workload) for w in workloads)
    return msgspec.json.encode(responses.BatchResponse(quotes=quotes, totals=totals_by_currency(quotes)))


def compare_body(request: CompareSpec) -> bytes:
    usage = msgspec.convert(msgspec.to_builtins(request.workload), Usage)
    ranked = CATALOG.compare(usage, None if request.models is None else list(request.models), request.baseline)
    base = CATALOG.model(request.baseline) if request.baseline else None
    return responses.encode_compare(ranked, None if base is None else f"{base.provider}/{base.id}")


def edit(body: bytes, change: Callable[[Any], None]) -> bytes:
    """``body`` with ``change`` applied to its JSON (money stays in strings unless ``change`` says)."""
    data = json.loads(body, parse_float=Decimal)
    change(data)
    return json.dumps(data, default=str).encode()


def fails(check: Callable[[], object], reason: str) -> None:
    with pytest.raises(CheckError) as caught:
        check()
    assert reason in str(caught.value)


# -- single quotes -----------------------------------------------------------------------------------


def test_the_services_own_answers_pass_for_the_whole_pool() -> None:
    for workload, _ in MIX.pool[:400]:
        checks.check_quote(quote_body(workload), workload)


def first_with(predicate: Callable[[WorkloadSpec], bool]) -> WorkloadSpec:
    return next(w for w, _ in MIX.pool if predicate(w))


WORKLOAD = first_with(lambda w: w.cached_input_tokens > 0 and w.requests > 1)


@pytest.mark.parametrize(("change", "reason"), [
    (lambda q: q.update(total=str(Decimal(q["total"]) + Decimal("1E-20"))), "quote: total != sum of line amounts"),
    (lambda q: q["lines"][0].update(amount=str(Decimal(q["lines"][0]["amount"]) * 2 + 1)),
     "quote: line amount != tokens x rate / 1e6 (input:"),
    (lambda q: q["lines"][0].update(tokens=q["lines"][0]["tokens"] + 1), "input line has"),
    (lambda q: q["lines"][1].update(kind="input"), "unknown or repeated line kind 'input'"),
    (lambda q: q.update(total=float(q["total"])), "quote: bad body: Expected `str`, got `float` - at `$.total`"),
    (lambda q: q["lines"][3].update(rate=2), "Expected `str`, got `int` - at `$.lines[3].rate`"),
    (lambda q: q.update(total="NaN"), "quote.total is not a decimal string: 'NaN'"),
    (lambda q: q.update(total=" 1.5"), "quote.total is not a decimal string: ' 1.5'"),
    (lambda q: q.update(total="1_000"), "is not a decimal string: '1_000'"),
    (lambda q: q["lines"][3].update(rate="-" + q["lines"][3]["rate"]), "quote.lines[3].rate is negative"),
    (lambda q: q.update(model="o1"), "quote: quoted"),
    (lambda q: q.update(at="2020-01-01T00:00:00Z"), "quote: priced at 2020-01-01T00:00:00+00:00, asked for"),
    (lambda q: q.update(requests=q["requests"] + 1), "quote: requests/batch"),
    (lambda q: q.update(batch=not q["batch"]), "quote: requests/batch"),
    (lambda q: q.pop("total"), "Object missing required field `total`"),
])
def test_a_wrong_quote_fails_naming_the_rule(change: Callable[[Any], None], reason: str) -> None:
    body = quote_body(WORKLOAD)
    checks.check_quote(body, WORKLOAD)  # the control: untouched, it passes
    fails(lambda: checks.check_quote(edit(body, change), WORKLOAD), reason)


def test_non_json_fails() -> None:
    fails(lambda: checks.check_quote(b"<html>502 Bad Gateway</html>", WORKLOAD), "quote: bad body: JSON is malformed")
    fails(lambda: checks.check_quote(b"", WORKLOAD), "quote: bad body")


@given(index=st.integers(0, 399), delta=st.decimals(allow_nan=False, allow_infinity=False, places=30)
       .filter(lambda d: d != 0))
def test_any_change_to_a_total_is_caught(index: int, delta: Decimal) -> None:
    workload = MIX.pool[index][0]
    genuine = Decimal(json.loads(quote_body(workload))["total"])
    wrong = abs(EXACT.add(genuine, delta))  # exact: the default context would round small deltas away
    if wrong == genuine:
        return  # abs() brought it back: not a change
    body = edit(quote_body(workload), lambda q: q.update(total=str(wrong)))
    with pytest.raises(CheckError, match="total != sum of line amounts"):
        checks.check_quote(body, workload)


# -- batches -----------------------------------------------------------------------------------------


def test_a_genuine_batch_of_every_size_passes() -> None:
    rng = random.Random(5)
    bounds = {label: (low, high) for label, low, high, _ in BATCH_SIZES}
    for _ in range(30):
        label, workloads, body = MIX.batch(rng)
        low, high = bounds[label]
        assert low <= len(workloads) <= high
        # The joined body is what the service decodes into exactly these workloads.
        assert bodies.BATCH_DECODER.decode(body).workloads == [
            msgspec.convert(msgspec.to_builtins(w), Workload) for w in workloads]
        checks.check_batch(batch_body(workloads), workloads)


def test_a_wrong_batch_fails_naming_the_rule() -> None:
    workloads = [w for w, _ in MIX.pool[:7]]
    body = batch_body(workloads)
    checks.check_batch(body, workloads)
    bump = Decimal("0.000001")
    fails(lambda: checks.check_batch(edit(body, lambda b: b["totals"].update(
        USD=str(Decimal(b["totals"]["USD"]) + bump))), workloads), "batch: total != sum of quote totals (USD")
    fails(lambda: checks.check_batch(edit(body, lambda b: b["quotes"][4].update(
        total=str(Decimal(b["quotes"][4]["total"]) + bump))), workloads),
        "batch.quotes[4]: total != sum of line amounts")
    fails(lambda: checks.check_batch(edit(body, lambda b: b["quotes"].pop()), workloads), "batch: 6 quotes for 7")
    fails(lambda: checks.check_batch(edit(body, lambda b: b["quotes"].reverse()), workloads), "batch.quotes[0]")
    fails(lambda: checks.check_batch(edit(body, lambda b: b["totals"].update(EUR="0")), workloads),
          "batch: totals in ['EUR', 'USD'], quotes in ['USD']")
    fails(lambda: checks.check_batch(edit(body, lambda b: b["totals"].update(USD=float(b["totals"]["USD"]))),
                                     workloads), "Expected `str`, got `float` - at `$.totals[...]`")


# -- comparisons -------------------------------------------------------------------------------------


def test_genuine_comparisons_of_every_kind_pass() -> None:
    rng = random.Random(9)
    seen = set()
    for _ in range(60):
        label, request, expected = MIX.compare(rng)
        checks.check_compare(compare_body(request), request, expected)
        seen.add((label, request.baseline is not None, request.workload.batch))
    labels = {label for label, _, _ in seen}
    assert labels == {"2-6", "10-40", "all"}
    assert {has_baseline for _, has_baseline, _ in seen} == {True, False}


def named_comparison() -> tuple[CompareSpec, tuple[str, ...]]:
    rng = random.Random(2)
    while True:
        label, request, expected = MIX.compare(rng)
        body = json.loads(compare_body(request))
        totals = [Decimal(q["total"]) for q in body["quotes"]]
        if label == "2-6" and request.baseline and len(set(totals)) >= 3 and all(totals):
            return request, expected


def test_a_wrong_comparison_fails_naming_the_rule() -> None:
    request, expected = named_comparison()
    body = compare_body(request)
    checks.check_compare(body, request, expected)
    fails(lambda: checks.check_compare(edit(body, lambda c: c["quotes"].reverse()), request, expected),
          "compare: quotes not cheapest first")
    fails(lambda: checks.check_compare(edit(body, lambda c: c["quotes"].pop()), request, expected),
          "compare: wrong models (missing")
    fails(lambda: checks.check_compare(edit(body, lambda c: c["quotes"][0].update(
        savings_percent=str(Decimal(c["quotes"][0]["savings_percent"]) + Decimal("0.01")))), request, expected),
        "compare: savings_percent")
    fails(lambda: checks.check_compare(edit(body, lambda c: c.update(baseline=None)), request, expected),
          "compare: baseline None")
    fails(lambda: checks.check_compare(edit(body, lambda c: c["quotes"][1].update(
        total=str(Decimal(c["quotes"][1]["total"]) * 2))), request, expected), "compare.quotes[1]")


# -- the catalog -------------------------------------------------------------------------------------


def test_catalog_reads_pass_and_fail() -> None:
    listing = responses.encode_models(CATALOG, CATALOG.models())
    assert checks.check_models(listing).count == len(CATALOG.models())
    openai = responses.encode_models(CATALOG, CATALOG.models("openai"))
    checks.check_models(openai, "openai")
    fails(lambda: checks.check_models(openai, "anthropic"), "listed for provider anthropic")
    fails(lambda: checks.check_models(edit(listing, lambda m: m.update(count=m["count"] + 1))), "models: count")
    fails(lambda: checks.check_models(edit(listing, lambda m: m["models"][0].update(periods=[]))),
          "has no price periods")
    one = responses.encode_model(CATALOG.model("deepseek-r1"))
    checks.check_model(one, "deepseek-reasoner")
    fails(lambda: checks.check_model(one, "o1"), "model: got 'deepseek-reasoner'")
    checks.check_health(responses.encode_health(CATALOG))
    fails(lambda: checks.check_health(b'{"status":"starting","catalog_digest":"x","models":0}'), "healthz: status")

"""Repricing (``--reprice-on``): the same usage (counts, instants, batch flags) priced on other models,
per currency and group, equals pricing a copy of the file whose every row names that model."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.usage import UsageInputError, UsageJob, price_usage
from service.usage.summary import UsageSummary
from tests.support import service_client
from tests.test_usage_engines import case_rows
from tests.usage_rows import CATALOG, MODELS, read_rows, usage_rows, write_parquet

FIXTURES = Path(__file__).parent / "fixtures" / "usage"
NO_BATCH = next(m for m in MODELS if m.periods[-1].batch is None and m.periods[-1].until is None)
TARGETS = ["deepseek-chat", "o1", "gpt-4o", f"{NO_BATCH.provider}/{NO_BATCH.id}", "claude-sonnet-4-20250514"]


def _as_if(rows: list[dict[str, Any]], model: str, folder: Path, engine: str, **options: Any) -> UsageSummary:
    """The reference: the file with every row's model replaced, priced as usual."""
    swapped = write_parquet([dict(r, model=model) for r in rows], folder / f"as-if-{engine}.parquet")
    return price_usage(UsageJob(source=swapped, engine=engine, **options), CATALOG)


def _check(rows: list[dict[str, Any]], models: list[str], engine: str, folder: Path, **options: Any) -> UsageSummary:
    source = write_parquet([dict(r) for r in rows], folder / f"in-{engine}.parquet")
    out = folder / f"out-{engine}.parquet"
    summary = price_usage(UsageJob(source=source, engine=engine, out=out, reprice_on=tuple(models), **options),
                          CATALOG)
    plain = price_usage(UsageJob(source=source, engine=engine, **options), CATALOG)
    assert msgspec.structs.replace(summary, repriced=[]) == plain  # the run itself is untouched
    priced = read_rows(out)
    for model, other in zip(models, summary.repriced, strict=True):
        reference = _as_if(rows, model, folder, engine, **options)
        resolved = CATALOG.model(model)
        assert (other.model, other.provider, other.model_id) == (model, resolved.provider, resolved.id)
        assert (other.priced, other.unpriced, other.errors) == (reference.priced, reference.unpriced, reference.errors)
        assert other.totals == reference.totals
        if "model" not in options.get("group_by", ()):
            assert other.groups == reference.groups
        else:  # grouped by the model each row ran on: what that usage would have cost on this one
            assert {g.keys["model"] for g in other.groups} <= {r["model"] for r in rows}
        # The comparison, from the rows themselves: the ones priced both ways, per currency.
        swapped = read_rows(_out(rows, model, folder, engine))
        expected: dict[str, list[Decimal]] = {}
        for mine, theirs in zip(priced, swapped, strict=True):
            if mine["error"] is None and theirs["error"] is None and mine["currency"] == theirs["currency"]:
                sums = expected.setdefault(mine["currency"], [Decimal(0), Decimal(0), Decimal(0)])
                sums[0] += 1
                sums[1] += mine["total"]
                sums[2] += theirs["total"]
        got = {c.currency: [Decimal(c.rows), Decimal(c.original), Decimal(c.repriced)] for c in other.compared}
        assert got == expected
        for c in other.compared:
            assert Decimal(c.difference) == Decimal(c.repriced) - Decimal(c.original)
    return summary


def _out(rows: list[dict[str, Any]], model: str, folder: Path, engine: str) -> Path:
    swapped = write_parquet([dict(r, model=model) for r in rows], folder / "swap.parquet")
    out = folder / "swap-out.parquet"
    price_usage(UsageJob(source=swapped, engine=engine, out=out), CATALOG)
    return out


@settings(max_examples=6)
@given(usage_rows(max_size=30), st.lists(st.sampled_from(TARGETS), min_size=1, max_size=2, unique=True))
def test_repricing_is_pricing_the_file_on_that_model(rows: list[dict[str, Any]], models: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        duck = _check(rows, models, "duckdb", Path(folder))
        python = _check(rows, models, "python", Path(folder))
    assert duck.repriced == python.repriced


def test_rows_a_model_cannot_price_are_counted_by_reason(tmp_path: Path) -> None:
    rows = case_rows()
    summary = _check(rows, [f"{NO_BATCH.provider}/{NO_BATCH.id}", "deepseek-chat"], "duckdb", tmp_path,
                     group_by=("model", "month"), currency="USD")
    no_batch = summary.repriced[0]
    assert no_batch.errors.get("no_batch_price", 0) >= 2          # the case rows' batch rows
    assert sum(no_batch.errors.values()) == no_batch.unpriced
    assert "invalid:requests" in no_batch.errors                  # an invalid row stays invalid
    assert "unknown_model" not in no_batch.errors                 # a row of an unknown model prices on it
    deepseek = summary.repriced[1]
    assert "GPT-4o" in {g.keys["model"] for g in deepseek.groups}     # kept as the row names it


def test_spark_reprices_as_duckdb(spark: Any, tmp_path: Path) -> None:
    rows = case_rows()
    source = write_parquet([dict(r) for r in rows], tmp_path / "in.parquet")
    jobs = {engine: UsageJob(source=source, engine=engine, reprice_on=("deepseek-chat", "o1"), group_by=("day",),
                             spark_session=spark if engine == "spark" else None)
            for engine in ("spark", "duckdb")}
    on_spark = price_usage(jobs["spark"], CATALOG)
    duck = price_usage(jobs["duckdb"], CATALOG)
    assert on_spark.repriced == duck.repriced and len(duck.repriced) == 2


def test_the_fixture_on_deepseek_instead(tmp_path: Path) -> None:
    out = tmp_path / "priced.csv"
    summary = price_usage(UsageJob(source=FIXTURES / "canonical.csv", group_by=("team",), out=out,
                                   reprice_on=("deepseek-chat",)), CATALOG)
    other = summary.repriced[0]
    assert (other.priced, other.unpriced) == (5, 0)   # the unknown model's row prices on deepseek-chat
    [usd] = other.compared
    assert (usd.rows, usd.original) == (4, summary.totals[0].total)
    assert Decimal(usd.difference) < 0
    assert "repriced" not in out.read_text().splitlines()[0]  # the priced rows are the run's own


@pytest.mark.parametrize(("models", "message"), [
    (("gpt-5o",), "'gpt-5o': unknown model"),
    (("o1", "openai/o1"), "names openai/o1 a second time"),
    (("",), "an empty model name"),
    (tuple(m.id for m in MODELS[:11]), "at most 10 models at a time"),
])
def test_a_name_that_is_not_one_model_is_refused(models: tuple[str, ...], message: str) -> None:
    with pytest.raises(UsageInputError, match=message):
        price_usage(UsageJob(source=FIXTURES / "canonical.csv", reprice_on=models), CATALOG)
    run = subprocess.run([sys.executable, "-m", "service.cli", "usage", "price", str(FIXTURES / "canonical.csv"),
                          "--reprice-on", ",".join(models)], capture_output=True, text=True, check=False)
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr


def test_cli_text_and_http() -> None:
    run = subprocess.run([sys.executable, "-m", "service.cli", "usage", "price", str(FIXTURES / "canonical.csv"),
                          "--reprice-on", "deepseek-chat"], capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stderr
    assert "on deepseek/deepseek-chat: 5 priced, 0 not priced" in run.stdout
    assert "the 4 rows priced both ways: USD 0.078980000000 as they ran" in run.stdout
    body = (FIXTURES / "canonical.csv").read_bytes()
    with service_client(CATALOG) as client:
        r = client.post("/v1/usage?reprice_on=deepseek-chat,o1&group_by=team", content=body,
                        headers={"Content-Type": "text/csv"})
        assert r.status_code == 200, r.text
        assert [x["model_id"] for x in r.json()["repriced"]] == ["deepseek-chat", "o1"]
        assert {g["keys"]["team"] for g in r.json()["repriced"][1]["groups"]} == {"team-a", "team-b"}
        bad = client.post("/v1/usage?reprice_on=nope", content=body, headers={"Content-Type": "text/csv"})
        assert bad.status_code == 400 and bad.json()["field"] == "reprice_on" and "nope" in bad.json()["detail"]
        spec = client.get("/schema/openapi.json").json()
        params = {p["name"]: p for p in spec["paths"]["/v1/usage"]["post"]["parameters"]}
        assert "same counts, instants" in params["reprice_on"]["description"]
        assert "repriced - original" in spec["components"]["schemas"]["RepriceComparison"]["properties"][
            "difference"]["description"]


def test_repricing_keeps_the_asked_currency_on_both_engines() -> None:
    jobs = [UsageJob(source=FIXTURES / "canonical.csv", currency="CNY", reprice_on=("deepseek-chat", "gpt-4o"),
                     group_by=("team", "month"), engine=engine) for engine in ("duckdb", "python")]
    duck, python = (price_usage(job, CATALOG) for job in jobs)
    assert duck.repriced == python.repriced
    deepseek, gpt = duck.repriced
    assert [t.currency for t in deepseek.totals] == ["CNY"] and deepseek.priced == 5
    # Only a4 ran on a model priced in CNY (deepseek-chat itself): the same rows, no difference.
    assert [(c.currency, c.rows, c.difference) for c in deepseek.compared] == [("CNY", 1, "0.000000000000")]
    assert (gpt.errors, gpt.totals, gpt.compared) == ({"no_price_in_currency": 5}, [], [])

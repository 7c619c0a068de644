"""``inference-cost project``, ``budget`` and ``plan``: the engine's answers, month tables and bars, one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from pricing import Catalog, Usage
from pricing.projection import project
from service.cli import main

MARCH = ["--from", "2025-03-01T00:00:00Z", "--until", "2025-04-01T00:00:00Z"]
TOKENS = ["--input", "1000", "--output", "500"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_project_prints_the_exact_total_and_a_bar_per_month(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "project", "deepseek-chat", "--from", "2025-03-01T00:00:00Z", "--until",
                         "2025-05-01T00:00:00Z", "--requests", "3M", *TOKENS)
    assert status == 0
    assert out.startswith("deepseek/deepseek-chat: 2050 USD for 3,000,000 requests")
    march, april = [line for line in out.splitlines() if line.startswith("  2025-0")]
    assert "█" * 40 in march and "█" * 40 not in april and "off-peak" in out


def test_project_json_is_the_engines(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "project", "deepseek-chat", *MARCH, "--requests", "3M", *TOKENS, "--json")
    expected = project(Catalog.default(), "deepseek-chat", Usage(input_tokens=1000, output_tokens=500),
                       datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC), requests=3_000_000)
    assert status == 0 and msgspec.json.decode(out) == msgspec.json.decode(msgspec.json.encode(expected))


def test_several_models_in_another_currency(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "project", "deepseek-chat", "deepseek-reasoner", *MARCH, "--requests", "3M",
                         *TOKENS, "--currency", "VND", "--fx", "USD/VND=25000", "--baseline", "deepseek-reasoner")
    assert status == 0
    first, second = out.splitlines()[1:3]
    assert first.split()[:3] == ["deepseek/deepseek-chat", "51,250,000", "VND"] and "deepseek-reasoner" in second


def test_budget_and_plan(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "budget", "deepseek-chat", "--amount", "1000", "--from", "2025-03-01T00:00:00Z",
                         "--per-day", "100k", *TOKENS)
    assert status == 0 and "exhausted    2025-03-15 12:55:59 UTC" in out and out.count("█") > 31
    status, out, _ = run(capsys, "plan", "deepseek-chat", "--requests", "100k", "--from", "2025-03-03T12:00:00Z",
                         "--until", "2025-03-04T12:00:00Z", "--max-per-hour", "10k", *TOKENS)
    assert status == 0 and "cheapest     49.2 USD" in out and "saving       10.25 USD (17.24%)" in out
    assert "2025-03-03 16:30 - 2025-03-04 00:30" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["project", "deepseek-chat", "--from", "2025-03-01T00:00:00Z", "--until", "2025-03-01T00:00:00Z",
      "--requests", "1"], "--until: must be after from"),
    (["project", "deepseek-chat", *MARCH, "--requests", "1", "--currency", "EUR"], "--fx: no rate for USD/EUR"),
    (["project", "deepseek-chat", *MARCH, "--requests", "1", "--currency", "XYZ"], "--currency: 'XYZ' is not"),
    (["project", "deepseek-chat", *MARCH, "--requests", "1", "--shape", "1,2,3"], "--shape: must hold 168"),
    (["project", "deepseek-chat", *MARCH], "--requests: give exactly one"),
    (["plan", "deepseek-chat", "--requests", "1M", *MARCH, "--max-per-hour", "1"], "--requests: 1,000,000"),
    (["budget", "deepseek-chat", "--amount", "-1", "--from", "2025-03-01T00:00:00Z", "--per-day", "1"],
     "--amount: must be a non-negative"),
    (["project", "deepseek-chat", *MARCH, "--requests", "1", "--currency", "EUR", "--fx", "USD/EUR=1.000000000000000000000000000000000000000000000000000000000000000000000000000000001"],
     "--fx: 1.000000000000000000000000000000000000000000000000000000000000000000000000000000001 has more than 20 digits after the point"),
    (["project", "deepseek-chat", *MARCH, "--requests", "1", "--currency", "EUR", "--fx", "USD/EUR=1e99999999"],
     "--fx: must be below 1000000000000000"),
    (["budget", "deepseek-chat", "--amount", "1e99999999", "--from", "2025-03-01T00:00:00Z", "--per-day", "1"],
     "--amount: must be below"),
])
def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and err.startswith(f"inference-cost: error: {message}"), err
    assert err.count("\n") == 1


def test_a_baseline_with_one_model_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "project", "deepseek-chat", *MARCH, "--requests", "10", "--baseline", "o1")
    assert status == 2 and out == "" and err.startswith("inference-cost: error: --baseline:") and err.count("\n") == 1

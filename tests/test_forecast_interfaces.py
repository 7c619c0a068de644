"""POST /v1/forecasts and ``inference-cost forecast``: the engine's forecast, and clear errors for bad history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from pricing import Catalog, InvalidWorkloadError, Usage
from pricing.forecast import MAX_HISTORY_WEEKS, Observation, forecast
from service.cli import main
from tests.support import post, service_client

START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
USAGE = {"input_tokens": 1000, "output_tokens": 500}


def hours(weeks: int) -> list[Observation]:
    """Busy days, quiet nights, 20 more requests an hour each week: an exact pattern to recover."""
    out = []
    for h in range(weeks * 168):
        at = START + timedelta(hours=h)
        out.append(Observation(at=at, requests=(100 + 20 * (h // 168)) * (3 if 9 <= at.hour < 18 else 1)))
    return out


def wire(history: list[Observation]) -> list[dict[str, Any]]:
    return [{"at": o.at.isoformat(), "requests": o.requests} for o in history]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with service_client(Catalog.default()) as c:
        yield c


def test_a_forecast_is_the_engines(client: TestClient[Any]) -> None:
    history = hours(6)
    r = post(client, "/v1/forecasts", {"model": "deepseek-chat", "usage": USAGE, "history": wire(history),
                                       "weeks": 4})
    assert r.status_code == 200, r.text
    expected = forecast(Catalog.default(), "deepseek-chat", Usage(input_tokens=1000, output_tokens=500),
                        history, 4)
    assert r.json() == msgspec.json.decode(msgspec.json.encode(expected))
    assert r.json()["from"] == "2025-04-14T00:00:00Z" and r.json()["fitted_weeks"] == 6
    assert r.json()["backtest_mape"] == "0" and r.json()["cost_p50"] != "0"


@pytest.mark.parametrize(("body", "field"), [
    ({"history": []}, "$.history"),
    ({"weeks": 0}, "$.weeks"),
    ({"weeks": 521}, "$.weeks"),
    ({"holdout": -1}, "$.holdout"),
    ({"history": [{"at": "2025-03-03T00:00:00Z", "requests": -1}]}, "$.history[0].requests"),
    ({"history": [{"at": "2025-03-03T00:00:00", "requests": 1}]}, "$.history[0]"),
    ({"history": [{"at": "2025-03-03T00:00:00Z", "requests": 1}]}, "$.history"),  # under a week
    ({"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T00:00:00Z"}, "$.history"),  # 520k weeks
    ({"history": [{"at": "9999-12-31T23:30:00Z", "requests": 1}]}, "$.history"),
    ({"model": "nope"}, "$.model"),
    ({"usage": {"input_tokens": -1}}, "$.usage.input_tokens"),
    ({"extra": 1}, "$.extra"),
])
def test_bad_forecasts_are_problems_naming_the_field(client: TestClient[Any], body: dict[str, Any],
                                                     field: str) -> None:
    good = {"model": "deepseek-chat", "history": wire(hours(2)), "weeks": 2}
    r = post(client, "/v1/forecasts", good | body)
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field, r.json()


def test_a_forecast_ending_past_year_9999_is_refused(client: TestClient[Any]) -> None:
    late = [Observation(at=datetime(9999, 1, 4, tzinfo=UTC) + timedelta(hours=h), requests=1) for h in range(336)]
    r = post(client, "/v1/forecasts", {"model": "deepseek-chat", "history": wire(late), "weeks": 520})
    assert r.status_code == 422 and r.json()["field"] == "$.weeks", r.text


def test_the_engine_refuses_more_than_ten_years_of_history() -> None:
    far = [Observation(at=START, requests=1),
           Observation(at=START + timedelta(weeks=MAX_HISTORY_WEEKS + 1), requests=1)]
    with pytest.raises(InvalidWorkloadError, match="at most 520"):
        forecast(Catalog.default(), "deepseek-chat", Usage(), far, 1)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def write_csv(path: Path, history: list[Observation], model: str = "deepseek-chat") -> Path:
    lines = ["at,requests,model"]
    for i, o in enumerate(history):
        lines.append(f"{o.at.isoformat()},{o.requests},{model}")
        if i % 7 == 0:  # another model's rows in the same export: left out, counted
            lines.append(f"{o.at.isoformat()},999,gpt-4o")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_cli_forecasts_from_a_usage_export(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    history = hours(6)
    csv = write_csv(tmp_path / "usage.csv", history, model="DeepSeek-Chat")  # names resolve as in quotes
    status, out, _ = run(capsys, "forecast", "deepseek-chat", "--history", str(csv), "--weeks", "4",
                         "--input", "1000", "--output", "500", "--json")
    assert status == 0
    expected = forecast(Catalog.default(), "deepseek-chat", Usage(input_tokens=1000, output_tokens=500),
                        history, 4)
    assert msgspec.json.decode(out) == msgspec.json.decode(msgspec.json.encode(expected))
    status, out, _ = run(capsys, "forecast", "deepseek-chat", "--history", str(csv), "--weeks", "4",
                         "--input", "1000", "--output", "500")
    assert status == 0
    assert out.startswith("deepseek-chat: 4 weeks from 2025-04-14 00:00 UTC, fitted on 6 weeks "
                          f"({len(history):,} history rows; 144 rows of other models left out)")
    assert f"P50 {expected.cost_p50:,}" in out and "0% mean daily error" in out


def test_json_lines_history_with_default_requests(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text("".join(f'{{"at": "{(START + timedelta(hours=h)).isoformat()}"}}\n' for h in range(336)))
    status, out, _ = run(capsys, "forecast", "deepseek-chat", "--history", str(path), "--weeks", "1", "--json")
    assert status == 0
    assert msgspec.json.decode(out)["requests_p50"] == "168"


@pytest.mark.parametrize(("content", "message"), [
    ("at,requests\nyesterday,1\n", "row 2 column at: 'yesterday' is not an RFC 3339 date-time"),
    ("at,requests\n2025-03-03T00:00:00,1\n", "row 2 column at: '2025-03-03T00:00:00' has no offset"),
    ("at,requests\n2025-03-03T00:00:00Z,-4\n", "row 2 column requests: '-4' is not a whole number"),
    ("at,requests\n2025-03-03T00:00:00Z,1.5\n", "row 2 column requests: '1.5' is not a whole number"),
    ("when,requests\n2025-03-03T00:00:00Z,1\n", "row 2: no `at` column"),
    ("at,requests\n", "no rows"),
    ("at,requests\n2025-03-03T00:00:00Z,1\n", "--history: spans less than one whole week"),
    ("at,requests\n0001-01-01T00:00:00Z,1\n9999-01-01T00:00:00Z,1\n", "--history: spans 521"),
    ("\xff\xfe", "not UTF-8"),
])
def test_bad_history_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str,
                                            message: str) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(content.encode("latin-1"))
    status, out, err = run(capsys, "forecast", "deepseek-chat", "--history", str(path), "--weeks", "2")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err


def test_bad_json_lines_and_flags(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    path.write_text("[" * 100_000 + "\n")
    status, _, err = run(capsys, "forecast", "deepseek-chat", "--history", str(path), "--weeks", "2")
    assert status == 2 and "line 1: not a JSON object" in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as exit_:
        main(["forecast", "deepseek-chat", "--history", str(path), "--weeks", "x"])
    assert exit_.value.code == 2 and "--weeks: 'x' is not a whole number" in capsys.readouterr().err
    good = write_csv(tmp_path / "good.csv", hours(3))
    status, _, err = run(capsys, "forecast", "deepseek-chat", "--history", str(good), "--weeks", "0")
    assert status == 2 and err.startswith("inference-cost: error: --weeks: must be a whole number"), err

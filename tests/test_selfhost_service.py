"""``POST /v1/selfhost`` and ``inference-cost selfhost``: the same quote, money as decimal strings, 422s and
exit 2 naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from pricing import Catalog
from service.api.app import create_app
from service.cli import main
from tests.test_service_serve import free_port, post, serving, stop, wait_healthy

REPORT = {
    "usage": {"input_tokens": 608_000_000_000, "cached_input_tokens": 342_300_000_000,
              "output_tokens": 168_000_000_000},
    "hours": "24",
    "profile": {"gpu": "H800", "gpus_per_node": 8, "prefill_tokens_per_second": 73700,
                "decode_tokens_per_second": 14800},
    "gpu_hour_price": "2",
    "compare": ["deepseek-reasoner"],
    "at": "2025-02-27T04:00:00Z",
}
CLI_REPORT = ["selfhost", "--input", "608B", "--cached", "342.3B", "--output", "168B", "--hours", "24",
              "--profile", "deepseek-v3-r1-h800-deepseek", "--gpu-hour", "2", "--compare", "deepseek-reasoner",
              "--at", "2025-02-27T04:00:00Z"]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with TestClient(create_app(Catalog.default())) as c:
        yield c


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_report_over_http(client: TestClient[Any]) -> None:
    r = client.post("/v1/selfhost", json=REPORT)
    assert r.status_code == 200, r.text
    body = r.json()
    # Money and every rounded figure are decimal strings; counts are integers.
    assert body["total"] == "87115.609504" and body["nodes"] == "226.863566" and body["currency"] == "USD"
    assert body["gpus"] == "1814.908531" and body["gpu_hours"] == "43557.804752"
    assert body["per_million_input"] == "0.060305" and body["per_million_output"] == "0.300300"
    assert body["input_tokens"] == 608_000_000_000
    (api,) = body["compare"]
    assert api["total"] == "561977.000" and api["markup_percent"] == "545.09"
    assert isinstance(api["break_even_daily_tokens"], int) and api["cheaper"] == "self-hosting"


@pytest.mark.parametrize(("change", "field"), [
    ({"profile": {"gpu": "H800", "gpus_per_node": 8, "prefill_tokens_per_second": 73700}},
     "$.profile.decode_tokens_per_second"),
    ({"profile": {**REPORT["profile"], "decode_tokens_per_second": 0}}, "$.profile.decode_tokens_per_second"),
    ({"profile": {**REPORT["profile"], "prefill_tokens_per_second": "-1"}}, "$.profile.prefill_tokens_per_second"),
    ({"utilisation": "0"}, "$.utilisation"),
    ({"utilisation": 1.2}, "$.utilisation"),
    ({"peak_ratio": "0.5"}, "$.peak_ratio"),
    ({"gpu_hour_price": None, "offer": "aws-p5.48xlarge-us-east-1", "currency": "EUR"}, "$.exchange_rate"),
    ({"gpu_hour_price": None}, "$.offer"),
    ({"profile": "nope"}, "$.profile"),
    ({"usage": {"input_tokens": 5, "cached_input_tokens": 6}}, "$.usage.cached_input_tokens"),
    ({"usage": {"input_tokens": "5"}}, "$.usage.input_tokens"),
    ({"hours": "-1"}, "$.hours"),
    ({"currency": "ZZZ"}, "$.currency"),
    ({"gpu_hour_price": "1e99999999"}, "$.gpu_hour_price"),
    ({"compare": ["deepseek-reasoner"], "at": "2024-01-01T00:00:00Z"}, "$.compare[0]"),
    ({"wat": 1}, "$.wat"),
])
def test_bad_bodies_are_422_naming_the_field(client: TestClient[Any], change: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in {**REPORT, **change}.items() if v is not None}
    r = client.post("/v1/selfhost", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["field"] == field, r.json()


def test_the_cli_prints_the_same_quote_as_the_api(capsys: pytest.CaptureFixture[str], client: TestClient[Any]) -> None:
    status, out, err = run(capsys, *CLI_REPORT, "--json")
    assert (status, err) == (0, "")
    api = client.post("/v1/selfhost", json={**REPORT, "profile": "deepseek-v3-r1-h800-deepseek"}).json()
    assert json.loads(out) == api
    status, out, err = run(capsys, *CLI_REPORT)
    assert (status, err) == (0, "")
    rows = [line.split() for line in out.splitlines()]
    assert ["total", "87115.609504", "USD"] in rows
    assert ["nodes", "provisioned", "(average)", "226.863566"] in rows
    assert ["deepseek/deepseek-reasoner", "561977", "USD", "474861.390496", "84.50", "545.09", "11,665,331,500"] in rows


def test_the_cli_takes_an_inline_profile_and_an_offer(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "selfhost", "--input", "608B", "--cached", "342B", "--output", "168B",
                         "--hours", "24", "--prefill-rate", "73.7k", "--decode-rate", "14.8k", "--gpus-per-node", "8",
                         "--offer", "deepseek-report-h800-assumed", "--compare", "deepseek-reasoner",
                         "--at", "2025-02-27T04:00:00Z", "--json")
    assert status == 0
    body = msgspec.json.decode(out)
    assert body["total"] == "87115.609504" and body["offer"] == "deepseek-report-h800-assumed"


@pytest.mark.parametrize(("argv", "message"), [
    (["--hours", "24", "--profile", "deepseek-v3-r1-h800-deepseek", "--gpu-hour", "2", "--utilisation", "1.5"],
     "--utilisation: must be in (0, 1]"),
    (["--hours", "24", "--prefill-rate", "1000", "--gpus-per-node", "8", "--gpu-hour", "2"], "--decode-rate"),
    (["--hours", "24", "--prefill-rate", "1000", "--decode-rate", "0", "--gpus-per-node", "8", "--gpu-hour", "2"],
     "--decode-rate: must be greater than 0"),
    (["--hours", "24", "--profile", "deepseek-v3-r1-h800-deepseek", "--offer", "aws-p5.48xlarge-us-east-1",
      "--currency", "EUR"], "--exchange-rate"),
    (["--hours", "24", "--profile", "deepseek-v3-r1-h800-deepseek", "--gpu-hour", "2", "--compare", "deepseek-reasoner",
      "--at", "2024-01-01T00:00:00Z"], "--compare [0]"),
    (["--profile", "deepseek-v3-r1-h800-deepseek", "--gpu-hour", "2"], "missing --hours"),
    (["--hours", "24", "--profile", "x", "--gpu-hour", "two"], "is not a decimal number"),
])
def test_cli_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    status, out, err = run(capsys, "selfhost", "--input", "1M", "--output", "1M", *argv)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_the_cli_lists_profiles_and_offers(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "selfhost", "--list")
    assert status == 0
    assert "deepseek-v3-r1-h800-deepseek" in out and "llama-3.1-405b-h100-trtllm" in out
    assert "runpod-h100-sxm-community" in out and "2.69 USD" in out


def test_the_real_service_answers_selfhost() -> None:
    port = free_port()
    with serving("--port", str(port)) as proc:
        wait_healthy(proc, port)
        status, body = post(port, "/v1/selfhost", REPORT)
        assert status == 200 and body["total"] == "87115.609504"
        status, body = post(port, "/v1/selfhost", {**REPORT, "utilisation": "2"})
        assert status == 422 and body["field"] == "$.utilisation"
        stop(proc, port)


def test_a_workload_at_a_request_rate_over_http_and_cli(client: TestClient[Any], capsys: pytest.CaptureFixture[str]) -> None:
    per_request = {"input_tokens": 6080, "cached_input_tokens": 3423, "output_tokens": 1680}
    body = {**{k: v for k, v in REPORT.items() if k != "usage"}, "workload": per_request,
            "requests_per_second": "1157.407407407407"}
    r = client.post("/v1/selfhost", json=body)
    assert r.status_code == 200 and r.json()["total"] == "87115.609504"
    assert r.json()["input_tokens"] == 608_000_000_000
    for change, field in (({"requests_per_second": None}, "$.requests_per_second"),
                          ({"usage": REPORT["usage"]}, "$.usage"),
                          ({"workload": {"input_tokens": 10**10}, "requests_per_second": "10000000"},
                           "$.requests_per_second")):
        bad = {k: v for k, v in {**body, **change}.items() if v is not None}
        r = client.post("/v1/selfhost", json=bad)
        assert (r.status_code, r.json()["field"]) == (422, field), r.json()
    status, out, _ = run(capsys, *[a for a in CLI_REPORT if a not in ("608B", "342.3B", "168B", "--input", "--cached",
                                                                       "--output")],
                         "--rate", "1157.407407407407", "--input", "6080", "--cached", "3423", "--output", "1680",
                         "--json")
    assert status == 0 and json.loads(out)["total"] == "87115.609504"

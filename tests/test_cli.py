"""``inference-cost quote|compare|models``: prices from the terminal, the API's JSON with ``--json``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from service.cli import main
from service.cli.render import plain
from tests.support import ACME, AT, ZETA, post, service_client


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("catalog")
    (folder / "acme.toml").write_text(ACME)
    (folder / "zeta.toml").write_text(ZETA)
    return folder


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Any]]:
    with service_client() as c:
        yield c


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(list(argv))
    except SystemExit as exc:  # argparse's own usage errors
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


# -- quote ----------------------------------------------------------------------------------------


def test_quote_prints_the_itemised_quote(capsys: pytest.CaptureFixture[str], catalog_dir: Path) -> None:
    status, out, err = run(capsys, "quote", "alpha", "--input", "100k", "--cached", "20k", "--cache-write", "10k",
                           "--cache-write-1h", "5k", "--output", "50k", "--requests", "2", "--at", AT,
                           "--catalog", str(catalog_dir))
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "acme/alpha at 2025-06-02T12:00:00Z (2 requests)"
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:9] if line.strip()}
    assert rows["input"] == ["130,000", "1", "0.13"]
    assert rows["cached_input"] == ["40,000", "0.5", "0.02"]
    assert rows["cache_write"] == ["20,000", "1.25", "0.025"]
    assert rows["cache_write_1h"] == ["10,000", "2", "0.02"]
    assert rows["output"] == ["100,000", "4", "0.4"]
    assert rows["total"] == ["0.595"]
    assert "price: https://example.com/acme/pricing (checked 2026-11-28)" in out
    assert "catalog: sha256:" in out


def test_quote_json_is_the_apis(capsys: pytest.CaptureFixture[str], catalog_dir: Path,
                                client: TestClient[Any]) -> None:
    status, out, _ = run(capsys, "quote", "a1", "--input", "1.2M", "--output", "350k", "--cached", "200k",
                         "--at", "2025-06-02T23:30:00Z", "--batch", "--json", "--catalog", str(catalog_dir))
    assert status == 0
    api = post(client, "/v1/quotes", {"model": "a1", "input_tokens": 1_200_000, "output_tokens": 350_000,
                                      "cached_input_tokens": 200_000, "at": "2025-06-02T23:30:00Z",
                                      "batch": True})
    assert api.status_code == 200
    assert out.strip().encode() == api.content


def test_quote_on_the_embedded_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "quote", "deepseek/deepseek-reasoner", "--output", "1M", "--at",
                         "2025-01-31T12:00:00Z", "--json")
    assert status == 0
    assert msgspec.json.decode(out)["total"] == "2.19"


def test_catalog_from_the_environment(capsys: pytest.CaptureFixture[str], catalog_dir: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCE_COST_CATALOG", str(catalog_dir / "zeta.toml"))
    status, out, _ = run(capsys, "quote", "shared", "--output", "1M", "--at", AT, "--json")
    assert status == 0
    q = msgspec.json.decode(out)
    assert (q["provider"], q["currency"], q["total"]) == ("zeta", "EUR", "5")


# -- compare, models ------------------------------------------------------------------------------


def test_compare_prints_a_ranked_table(capsys: pytest.CaptureFixture[str], catalog_dir: Path) -> None:
    status, out, _ = run(capsys, "compare", "--output", "1M", "--baseline", "alpha", "--at", AT,
                         "--catalog", str(catalog_dir))
    assert status == 0
    rows = [line.split() for line in out.splitlines()[3:]]
    assert rows == [
        ["1", "zeta/shared", "EUR", "5", "-"],
        ["2", "acme/gamma", "USD", "0.3", "92.50%"],
        ["3", "acme/alpha", "(baseline)", "USD", "4", "0.00%"],
        ["4", "acme/beta", "USD", "6", "-50.00%"],
    ]


def test_compare_models_json_is_the_apis(capsys: pytest.CaptureFixture[str], catalog_dir: Path,
                                         client: TestClient[Any]) -> None:
    status, out, _ = run(capsys, "compare", "--output", "1M", "--models", "gamma,beta", "a1", "--baseline",
                         "beta", "--at", AT, "--json", "--catalog", str(catalog_dir))
    assert status == 0
    api = post(client, "/v1/compare", {"workload": {"output_tokens": 1_000_000, "at": AT},
                                       "models": ["gamma", "beta", "a1"], "baseline": "beta"})
    assert out.strip().encode() == api.content
    assert [q["model"] for q in msgspec.json.decode(out)["quotes"]] == ["gamma", "alpha", "beta"]


def test_models_lists_the_catalog(capsys: pytest.CaptureFixture[str], catalog_dir: Path,
                                  client: TestClient[Any]) -> None:
    status, out, _ = run(capsys, "models", "--catalog", str(catalog_dir))
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["model", "aliases", "currency", "input/1M", "cached/1M", "output/1M", "since"]
    assert lines[1].split() == ["acme/alpha", "a1", "USD", "1", "0.5", "4", "2025-01-01"]
    assert "acme/beta" in lines[2] and "no current price" in lines[2]  # retired 2026-01-01
    status, out, _ = run(capsys, "models", "--provider", "zeta", "--json", "--catalog", str(catalog_dir))
    assert status == 0
    assert out.strip().encode() == client.get("/v1/models", params={"provider": "zeta"}).content


# -- bad arguments: one line, exit 2 --------------------------------------------------------------


@pytest.mark.parametrize(("argv", "words"), [
    (["quote", "alpha", "--input", "1,5M"], "not a token count"),
    (["quote", "alpha", "--output", "1.2345k"], "not a whole number"),
    (["quote", "alpha", "--output", "-5"], "'-5' is not a token count"),
    (["quote", "alpha", "--input", "10", "--cached", "20"], "--cached: cached (20)"),
    (["quote", "alpha", "--output", "20B"], "--output: must be <= 10_000_000_000"),
    (["quote", "alpha", "--requests", "0"], "--requests: must be >= 1"),
    (["quote", "alpha", "--at", "2025-06-02T12:00:00"], "has no offset"),
    (["quote", "alpha", "--at", "tomorrow"], "not an RFC 3339 date-time"),
    (["quote", "alpah"], "unknown model 'alpah'; did you mean alpha"),
    (["quote", "shared"], "sold by several providers"),
    (["quote", "alpha", "--at", "2024-01-01T00:00:00Z"], "no price for 'acme/alpha'"),
    (["quote", "gamma", "--batch", "--at", AT], "no batch price"),
    (["quote"], "the following arguments are required: MODEL"),
    (["quote", "alpha", "--bogus"], "unrecognized arguments: --bogus"),
    (["compare", "--models", "alpha", "omega"], "unknown model 'omega'"),
    (["compare", "--models", "beta", "--at", "2027-01-01T00:00:00Z"], "leave --models out"),
    (["models", "--provider", "nobody"], "unknown provider 'nobody'"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_bad_arguments_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], catalog_dir: Path,
                                            argv: list[str], words: str) -> None:
    catalog = ["--catalog", str(catalog_dir)] if argv and argv[0] in {"quote", "compare", "models"} else []
    status, out, err = run(capsys, *argv, *catalog)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("inference-cost"), err
    assert words in err


def test_a_catalog_that_fails_to_load_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('provider = "Bad Name"\n')
    status, _, err = run(capsys, "quote", "alpha", "--catalog", str(bad))
    assert status == 1
    assert err.startswith("inference-cost: error: catalog: bad.toml: $.provider:") and err.count("\n") == 1
    status, _, err = run(capsys, "models", "--catalog", str(tmp_path / "missing"))
    assert status == 1 and "no such file or folder" in err


def test_the_console_script() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "inference-cost"]
    assert script.value == "service.cli:main"
    # A real process: the exit status and the one-line error reach the shell.
    proc = subprocess.run([sys.executable, "-m", "service.cli", "quote", "alpha", "--input", "lots"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "'lots' is not a token count" in proc.stderr


def test_amounts_are_printed_in_full() -> None:
    assert plain(Decimal("5.5E-7")) == "0.00000055"
    assert plain(Decimal("2E+1")) == "20"
    assert plain(None) == "-"

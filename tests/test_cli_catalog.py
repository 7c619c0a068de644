"""``inference-cost catalog check|diff`` as a maintainer runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli import run

FIXTURES = Path(__file__).parent / "fixtures"


def test_check_passes_on_the_shipped_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "catalog", "check")
    assert status == 0
    assert "embedded catalog:" in out and "models from" in out and "sha256:" in out


def test_check_warns_and_strict_fails(capsys: pytest.CaptureFixture[str]) -> None:
    fixture = str(FIXTURES / "tools_catalog.toml")
    status, out, _ = run(capsys, "catalog", "check", fixture, "--today", "2026-11-28")
    assert status == 0
    assert "warning: acme/beta-2: " in out and "6 warning(s)" in out
    status, _, _ = run(capsys, "catalog", "check", fixture, "--today", "2026-11-28", "--strict")
    assert status == 1


def test_check_reports_a_broken_catalog_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('provider = "acme"\n[[models]]\nid = "x"\n[[models.periods]]\nfrom = 2025-01-01T00:00:00Z\n'
                   'source = "https://a.test"\nchecked = 2025-01-01\ninput = -1\noutput = 1\n')
    status, out, err = run(capsys, "catalog", "check", str(bad))
    assert status == 1
    assert "bad.toml: $.models[0].periods[0].input: price must be a finite number >= 0" in out
    assert "Traceback" not in out + err


def test_diff_prints_both_values(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "catalog", "diff", "--catalog", str(FIXTURES / "tools_catalog.toml"),
                         "--litellm", str(FIXTURES / "litellm_prices.json"), "--at", "2026-11-28T00:00:00Z",
                         "--missing")
    assert status == 0
    assert "acme/beta-2 output: ours 2.19, litellm 2.2 (as 'acme/beta-2')" in out
    assert "not in our catalog: acme/acme/not-ours" in out
    assert "2 of their models matched ours" in out


def test_diff_genai_prices(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "catalog", "diff", "--catalog", str(FIXTURES / "tools_catalog.toml"),
                         "--genai-prices", str(FIXTURES / "genai_prices.json"), "--at", "2026-11-28T00:00:00Z")
    assert status == 0
    assert "0 difference(s)" in out


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["--litellm", str(FIXTURES / "litellm_truncated.json")], 1, "litellm_truncated.json: not valid JSON"),
        (["--genai-prices", str(FIXTURES / "genai_malformed.json")], 1, "expected a provider object"),
        (["--litellm", str(FIXTURES / "nope.json")], 1, "nope.json: no such file"),
    ],
)
def test_diff_bad_input_is_one_line(argv: list[str], status: int, message: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    got, out, err = run(capsys, "catalog", "diff", *argv)
    assert got == status
    assert message in err
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 1

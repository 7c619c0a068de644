"""``inference-cost usage price``: each importer's fixture end to end, the exit statuses, outputs in
each format, --group-by, --as-of, --catalog, --strict, reconciliation, and bad input as one line."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from service.cli import main
from tests.support import ACME

FIXTURES = Path(__file__).parent / "fixtures" / "usage"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        status = main(["usage", "price", *argv])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(("fixture", "fmt", "status", "total"), [
    ("openai_usage.json", "openai", 1, "10.325002175000"),
    ("anthropic_usage.json", "anthropic", 0, "13.440500000000"),
    ("otel_spans.json", "otel", 0, "0.005835000000"),
    ("litellm_spend_logs.json", "litellm", 1, "0.009465000000"),
    ("canonical.csv", None, 1, "0.078980000000"),
])
def test_each_fixture_prices_with_its_importer(capsys: pytest.CaptureFixture[str], tmp_path: Path, fixture: str,
                                               fmt: str | None, status: int, total: str) -> None:
    args = [str(FIXTURES / fixture), "--json", "--out", str(tmp_path / "out.csv")]
    if fmt:
        args += ["--format", fmt]
    code, out, err = run(capsys, *args)
    assert code == status, err
    summary = json.loads(out)
    assert summary["totals"][0]["total"] == total
    # The exact sum of the priced rows, and every row kept (the unpriced ones with their error).
    lines = (tmp_path / "out.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert len(lines) - 1 == summary["rows"]
    assert summary["unpriced"] == sum(1 for line in lines[1:] if line.split(",")[header.index("error")])
    assert header[-1] in ("error", "variance") and "total" in header


def test_outputs_money_as_plain_decimals_in_text_and_decimal_in_parquet(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = str(FIXTURES / "canonical.csv")
    assert run(capsys, source, "--out", str(tmp_path / "o.jsonl"))[0] == 1
    first = json.loads((tmp_path / "o.jsonl").read_text().splitlines()[0])
    assert first["total"] == "0.002995000000" and first["team"] == "team-a" and first["error"] is None
    assert run(capsys, source, "--out", str(tmp_path / "o.parquet"))[0] == 1
    table = pq.read_table(tmp_path / "o.parquet")
    # The widest row of this file fits 18 digits at the catalog's largest rate: 64-bit amounts.
    assert table.schema.field("total").type == pa.decimal128(18, 12)
    assert table.column("total").to_pylist()[0] == Decimal("0.002995")
    assert table.column("error").to_pylist()[-1] == "unknown_model"


def test_group_by_reconciles_each_group(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(FIXTURES / "canonical.csv"), "--group-by", "team,month", "--json",
                       "--tolerance", "0.002")
    assert code == 1  # a5 is unknown
    summary = json.loads(out)
    groups = {(g["keys"]["team"], g["keys"]["month"]): g for g in summary["groups"]}
    assert set(groups) == {("team-a", "2025-03"), ("team-a", "2025-09"), ("team-b", "2025-03"), ("team-b", "2025-04")}
    assert groups[("team-a", "2025-03")]["variance"] == "0.001380000000000000"
    rec = summary["reconciliation"]
    assert rec["compared"] == 2 and rec["over_tolerance"] == 1 and rec["outliers"][0]["id"] == "a2"


def test_as_of_and_catalog_change_the_valuation(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    usage = tmp_path / "u.csv"
    usage.write_text("model,at,input_tokens,output_tokens\nalpha,2025-01-15T12:00:00Z,100000,0\n")
    catalog = tmp_path / "acme.toml"
    catalog.write_text(ACME)
    code, out, err = run(capsys, str(usage), "--catalog", str(catalog), "--json")
    assert code == 0, err
    own = json.loads(out)["totals"][0]["total"]
    code, out, _ = run(capsys, str(usage), "--catalog", str(catalog), "--json", "--as-of", "2020-01-01T00:00:00Z")
    assert code == 1 and json.loads(out)["errors"] == {"no_price": 1}
    assert Decimal(own) > 0


def test_strict_fails_naming_the_first_unpriced_row_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, str(FIXTURES / "canonical.csv"), "--strict", "--out", str(tmp_path / "o.csv"))
    assert code == 1 and out == ""
    assert "row 5" in err and "a5" in err and "unknown_model" in err
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(("body", "expected"), [
    ("model,at,input_tokens\ngpt-4o,2025-01-01T00:00:00Z,1.5\n", "row 1: column 'input_tokens': is not a whole number"),
    ("model,at,input_tokens\ngpt-4o,yesterday,10\n", "row 1: column 'at': is not a timestamp"),
    ("model,input_tokens\ngpt-4o,10\n", "column 'at': is missing"),
    ("id,model,at,input_tokens,batch\nx1,gpt-4o,2025-01-01T00:00:00Z,10,maybe\n",
     "row 1: column 'batch': is not true or false (id x1)"),
    ("model,at,total\ngpt-4o,2025-01-01T00:00:00Z,10\n", "column 'total': clashes with an output column"),
])
def test_bad_input_is_one_line_naming_file_row_and_column(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                          body: str, expected: str) -> None:
    usage = tmp_path / "bad.csv"
    usage.write_text(body)
    code, out, err = run(capsys, str(usage))
    assert code == 2 and out == ""
    assert str(usage) in err and expected in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_negative_count_keeps_its_row_with_the_column_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    usage = tmp_path / "neg.csv"
    usage.write_text("model,at,input_tokens,output_tokens\ngpt-4o,2025-01-01T00:00:00Z,10,-3\n")
    code, out, _ = run(capsys, str(usage), "--json")
    assert code == 1 and json.loads(out)["errors"] == {"invalid:output_tokens": 1}


def test_file_not_in_its_format_and_unknown_extension(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fake = tmp_path / "x.parquet"
    fake.write_text("not parquet")
    code, _, err = run(capsys, str(fake))
    assert code == 2 and "cannot be read as its format says" in err
    other = tmp_path / "x.txt"
    other.write_text("a")
    code, _, err = run(capsys, str(other))
    assert code == 2 and "--format" in err
    code, _, err = run(capsys, str(FIXTURES / "canonical.csv"), "--out", str(tmp_path / "o.xlsx"))
    assert code == 2 and "--out must end in" in err

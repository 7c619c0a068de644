"""Every difference between our catalog and the installed litellm / genai-prices data is fixed or reviewed.

The data is what the installed packages ship (the ``dev`` extra installs both), read as
``inference-cost catalog diff`` reads it. ``REVIEWED_PROVIDERS`` lists the providers whose
differences have been gone through; a provider joins it once its entries are in
``pricing/reviewed-differences.toml``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pricing import Catalog
from pricing.importers import Difference, ExternalPrice, diff, unreviewed
from service.catalog_diff import (
    REVIEWED,
    installed_genai_prices,
    installed_litellm_path,
    read_litellm,
    read_reviewed,
)
from service.cli import main

#: The instants diffed: 20:00 (off-peak) and 10:00 (peak) in Beijing on a working Tuesday.
DIFF_AT = (datetime(2026, 12, 1, 12, tzinfo=UTC), datetime(2026, 12, 1, 2, tzinfo=UTC))
REVIEWED_PROVIDERS = {"anthropic", "azure", "bedrock", "deepseek", "fireworks", "google", "groq", "mistral",
                      "openai", "together", "vertex", "xai"}
DATA = Path(__file__).parents[1] / "pricing" / "data"


@pytest.fixture(scope="module")
def theirs() -> dict[tuple[str, datetime], list[ExternalPrice]]:
    litellm = read_litellm(installed_litellm_path())
    out = {}
    for at in DIFF_AT:
        out["litellm", at] = litellm
        out["genai-prices", at] = installed_genai_prices(at)
    return out


def differences(catalog: Catalog, theirs: dict[tuple[str, datetime], list[ExternalPrice]]
                ) -> dict[tuple[str, datetime], list[Difference]]:
    return {key: [d for d in diff(catalog, prices, key[1]).differences
                  if d.model.split("/")[0] in REVIEWED_PROVIDERS]
            for key, prices in theirs.items()}


def test_the_installed_data_is_read(theirs: dict[tuple[str, datetime], list[ExternalPrice]]) -> None:
    for (label, _), prices in theirs.items():
        assert len(prices) > 1000, label
        assert any(p.provider == "deepseek" for p in prices), label


def test_every_difference_is_fixed_or_reviewed(theirs: dict[tuple[str, datetime], list[ExternalPrice]]) -> None:
    reviewed = read_reviewed()
    left = {key: unreviewed(key[0], found, reviewed)
            for key, found in differences(Catalog.default(), theirs).items()}
    assert {key: found for key, found in left.items() if found} == {}


def test_every_reviewed_entry_is_a_live_difference(theirs: dict[tuple[str, datetime], list[ExternalPrice]]) -> None:
    # An entry whose difference went away (they or we changed) must be removed, not left to hide a
    # future difference with the same values.
    found = differences(Catalog.default(), theirs)
    for entry in read_reviewed():
        if entry.model.split("/")[0] not in REVIEWED_PROVIDERS:
            continue
        live = [d for (label, _), ds in found.items() if label == entry.against for d in ds]
        assert unreviewed(entry.against, live, [entry]) != live, entry


def test_a_new_difference_fails(theirs: dict[tuple[str, datetime], list[ExternalPrice]]) -> None:
    text = (DATA / "deepseek.toml").read_text()
    assert text.count("input = 0.15\n") == 2
    changed = Catalog.loads(text.replace("input = 0.15\n", "input = 0.16\n"))
    left = [d for key, found in differences(changed, theirs).items()
            for d in unreviewed(key[0], found, read_reviewed())]
    assert {(d.model, d.field) for d in left} >= {("deepseek/deepseek-flash", "input")}


def test_catalog_diff_hides_reviewed_differences(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["catalog", "diff", "--litellm", "--at", DIFF_AT[0].isoformat(), "--catalog", str(DATA / "deepseek.toml")]
    assert main([*argv, "--strict"]) == 0
    out = capsys.readouterr().out
    assert "deepseek/deepseek-flash output" not in out
    assert "litellm: " in out and "12 of them reviewed and hidden" in out
    assert main([*argv, "--strict", "--reviewed", "none"]) == 1
    out = capsys.readouterr().out
    assert "deepseek/deepseek-flash output: ours 0.6, litellm 1.2 (as 'deepseek/deepseek-flash')" in out
    assert main([*argv, "--all"]) == 0
    assert "deepseek/deepseek-flash output: ours 0.6" in capsys.readouterr().out


def test_a_bad_reviewed_file_names_the_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "reviewed.toml"
    bad.write_text(REVIEWED.read_text().replace('source = "https://', 'source = "', 1))
    status = main(["catalog", "diff", "--litellm", "--reviewed", str(bad), "--catalog", str(DATA / "deepseek.toml")])
    _, err = capsys.readouterr()
    assert status == 1
    assert "$.reviewed[0].source" in err and err.count("\n") == 1


def test_catalog_diff_without_a_file_reads_both_installed_packages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "diff", "--at", DIFF_AT[0].isoformat(), "--catalog", str(DATA / "deepseek.toml"),
                 "--strict"]) == 0
    summaries = [line.split(":")[0] for line in capsys.readouterr().out.splitlines() if "matched ours" in line]
    assert summaries == ["litellm", "genai-prices"]


def test_an_alias_naming_another_provider_is_not_compared_across_providers() -> None:
    # Groq's gpt-oss-20b answers to "openai/gpt-oss-20b"; genai-prices' OpenAI entry of that name
    # (an OpenRouter-imported price) is not Groq's price and must not be diffed against it.
    catalog = Catalog.default()
    assert catalog.model("openai/gpt-oss-20b").provider == "groq"
    openai_entry = ExternalPrice(provider="openai", name="gpt-oss-20b",
                                 rates={"input": Decimal("0.029"), "output": Decimal("0.14")})
    groq_entry = ExternalPrice(provider="groq", name="openai/gpt-oss-20b",
                               rates={"input": Decimal("0.029"), "output": Decimal("0.14")})
    report = diff(catalog, [openai_entry, groq_entry], DIFF_AT[0])
    assert {(d.model, d.their_name) for d in report.differences} == {("groq/gpt-oss-20b", "openai/gpt-oss-20b")}
    assert report.missing == ["openai/gpt-oss-20b"]

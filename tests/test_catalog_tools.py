"""``catalog check`` (lint) and ``catalog diff`` (importers) on small fixture files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pricing import Catalog, CatalogError
from pricing.importers import diff
from pricing.lint import lint
from service.catalog_diff import read_genai_prices, read_litellm

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(FIXTURES / "tools_catalog.toml")


def test_lint_finds_each_kind_of_problem(catalog: Catalog) -> None:
    messages = [str(f) for f in lint(catalog, TODAY)]
    assert any("acme/beta-2:" in m and "cached input 0.5 costs more than input 0.14" in m for m in messages)
    assert any("acme/beta-2:" in m and "checked" in m and "days ago" in m for m in messages)
    assert any("acme/beta-2:" in m and "gap in the history" in m for m in messages)
    assert any("acme/beta-2-copy:" in m and "same rates and dates as acme/beta-2" in m for m in messages)
    assert not [m for m in messages if m.startswith("acme/alpha-1:")]


def test_lint_stale_threshold_is_a_parameter(catalog: Catalog) -> None:
    assert not [f for f in lint(catalog, TODAY, stale_after_days=10_000) if "days ago" in f.message]


def test_shipped_catalog_passes_check() -> None:
    """What `inference-cost catalog check` runs: the shipped catalog loads and has no copy-pastes."""
    findings = lint(Catalog.default(), TODAY)
    assert not [f for f in findings if "copy-paste" in f.message or "costs more than input" in f.message], findings


def test_litellm_import_scales_exactly() -> None:
    prices = {p.name: p for p in read_litellm(FIXTURES / "litellm_prices.json")}
    assert "sample_spec" not in prices and "gamma-embed" not in prices  # spec row, embedding model
    alpha = prices["alpha-1"].rates
    assert alpha == {"input": Decimal(3), "cached_input": Decimal("0.3"), "cache_write": Decimal("3.75"), "output": Decimal(15)}
    assert prices["acme/beta-2"].rates["output"] == Decimal("2.2")


def test_diff_against_litellm(catalog: Catalog) -> None:
    report = diff(catalog, read_litellm(FIXTURES / "litellm_prices.json"), at=NOW)
    assert report.matched == 2
    assert [(d.model, d.field, d.ours, d.theirs) for d in report.differences] == [
        ("acme/beta-2", "output", Decimal("2.19"), Decimal("2.2")),
    ]
    assert report.missing == ["acme/acme/not-ours"]


def test_diff_against_genai_prices_uses_their_price_at_that_date(catalog: Catalog) -> None:
    report = diff(catalog, read_genai_prices(FIXTURES / "genai_prices.json", NOW), at=NOW)
    assert report.differences == []
    assert report.missing == ["acme/delta-9"]
    early = datetime(2025, 1, 15, tzinfo=UTC)
    old = {p.name: p.rates for p in read_genai_prices(FIXTURES / "genai_prices.json", early)}
    assert old["beta-2"] == {"input": Decimal("0.14"), "output": Decimal("0.28")}
    assert diff(catalog, read_genai_prices(FIXTURES / "genai_prices.json", early), at=early).differences == []
    # Their old price against our current one: every rate they publish differs.
    report = diff(catalog, read_genai_prices(FIXTURES / "genai_prices.json", early), at=NOW)
    assert [(d.field, d.ours, d.theirs) for d in report.differences if d.model == "acme/beta-2"] == [
        ("input", Decimal("0.55"), Decimal("0.14")),
        ("output", Decimal("2.19"), Decimal("0.28")),
    ]


@pytest.mark.parametrize(
    ("reader", "name", "message"),
    [
        (read_litellm, "litellm_malformed.json", "expected a number, got 'cheap'"),
        (read_litellm, "litellm_truncated.json", "not valid JSON"),
        (read_litellm, "missing.json", "no such file"),
        (lambda p: read_genai_prices(p, NOW), "genai_malformed.json", "expected a provider object with an 'id'"),
    ],
)
def test_importers_reject_malformed_files(reader, name: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CatalogError, match=message) as info:
        reader(FIXTURES / name)
    assert name in str(info.value)


TWINS = """
provider = "acme"
[[models]]
id = "think"
{twin}
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.test/pricing"
checked = 2026-11-01
input = 1
output = 2
[[models]]
id = "fast"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.test/pricing"
checked = 2026-11-01
input = 1
output = 2
"""


def test_declared_twins_are_not_flagged() -> None:
    assert any("copy-paste" in f.message for f in lint(Catalog.loads(TWINS.format(twin="")), TODAY))
    assert lint(Catalog.loads(TWINS.format(twin='same_prices_as = "fast"')), TODAY) == []


@pytest.mark.parametrize("twin", ["nope", "think"])
def test_twin_must_be_another_model_of_the_provider(twin: str) -> None:
    with pytest.raises(CatalogError, match=r"\$\.models\[0\]\.same_prices_as: .* must name another model"):
        Catalog.loads(TWINS.format(twin=f'same_prices_as = "{twin}"'))


WINDOWED = """
provider = "xai"
[[models]]
id = "nightly"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.test/pricing"
checked = 2026-11-01
input = 1
output = 4
[[models.periods.windows]]
name = "off-peak"
start = 16:30:00
end = 00:30:00
input = 0.5
output = 2
"""

GENAI_PEAK = [{
    "id": "x-ai", "name": "xAI", "api_pattern": "x",
    "models": [{"id": "nightly", "match": {"equals": "nightly"}, "prices": [
        {"prices": {"input_mtok": 1, "output_mtok": 4}},
        {"constraint": {"start_time": "16:30:00Z", "end_time": "00:30:00Z"},
         "prices": {"input_mtok": 0.5, "output_mtok": 2}},
    ]}],
}]


@pytest.mark.parametrize(("hour", "expected"), [(12, ("1", "4")), (20, ("0.5", "2")), (0, ("0.5", "2"))])
def test_diff_compares_the_rates_in_force_windows_included(tmp_path: Path, hour: int,
                                                           expected: tuple[str, str]) -> None:
    """Their time-of-day price against our window, at instants inside and outside it (and past midnight)."""
    catalog = Catalog.loads(WINDOWED)
    path = tmp_path / "data.json"
    path.write_text(json.dumps(GENAI_PEAK))
    at = datetime(2026, 11, 27, hour, tzinfo=UTC)
    theirs = {p.name: p.rates for p in read_genai_prices(path, at)}
    assert (theirs["nightly"]["input"], theirs["nightly"]["output"]) == tuple(Decimal(v) for v in expected)
    report = diff(catalog, read_genai_prices(path, at), at=at)
    assert report.matched == 1  # "x-ai" is our "xai"
    assert report.differences == []


def test_diff_reports_our_window_rate_when_they_lack_the_window(tmp_path: Path) -> None:
    catalog = Catalog.loads(WINDOWED)
    flat = [{**GENAI_PEAK[0], "models": [{**GENAI_PEAK[0]["models"][0], "prices": {"input_mtok": 1, "output_mtok": 4}}]}]
    path = tmp_path / "data.json"
    path.write_text(json.dumps(flat))
    at = datetime(2026, 11, 27, 20, tzinfo=UTC)
    report = diff(catalog, read_genai_prices(path, at), at=at)
    assert [(d.field, d.ours, d.theirs) for d in report.differences] == [
        ("input", Decimal("0.5"), Decimal(1)), ("output", Decimal(2), Decimal(4))]

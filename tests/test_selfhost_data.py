"""The shipped self-hosting data: sourced, consistent with the catalog, and kept out of the catalog's glob."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from pricing import Catalog, CatalogError
from pricing.loader import read_catalog_files
from pricing.selfhost_data import DEFAULT_FOLDER, default_selfhost, load_selfhost, parse_selfhost_files


def test_the_issue_asks_for_three_profiles_and_four_clouds() -> None:
    data = default_selfhost()
    assert {"deepseek-r1", "llama-3.1-405b", "llama-3.3-70b"} <= {p.model for p in data.profiles.values()}
    clouds = {o.provider for o in data.offers.values() if o.commitment != "assumed"}
    assert len(clouds) >= 4, clouds
    assert {"aws", "azure", "google-cloud", "coreweave", "lambda", "runpod"} <= clouds


def test_every_figure_is_dated_and_sourced() -> None:
    data = default_selfhost()
    for offer in data.offers.values():
        assert offer.source.startswith("https://") and offer.note and offer.checked, offer.id
        assert offer.starts.tzinfo is not None and offer.gpu_hour > 0
    for profile in data.profiles.values():
        assert profile.source.startswith("https://") and profile.note and profile.checked, profile.id
        # Every rate says whether the source gave it or it was derived.
        rates = {"prefill_tokens_per_second", "decode_tokens_per_second"}
        assert rates <= set(profile.direct) | set(profile.derived), profile.id
        assert not set(profile.direct) & set(profile.derived), profile.id


def test_every_served_by_name_is_a_catalog_model() -> None:
    catalog, data = Catalog.default(), default_selfhost()
    for model in data.models.values():
        assert model.served_by, model.id
        for name in model.served_by:
            catalog.model(name)  # raises for a name that does not resolve


def test_the_catalog_loader_does_not_read_the_selfhost_folder() -> None:
    assert DEFAULT_FOLDER.parent.name == "data"
    names = [name for name, _ in read_catalog_files(DEFAULT_FOLDER.parent)[0]]
    assert names and not any("selfhost" in n or n in {"offers.toml", "profiles.toml", "models.toml"} for n in names)
    assert "offers.toml" not in Catalog.default().sources


@pytest.mark.parametrize(("profile", "points"), [
    # The TensorRT-LLM perf overview's H100 points the derived rates come from: (ISL, OSL, output tok/s).
    ("llama-3.1-405b-h100-trtllm", [(128, 2048, 4340), (2048, 128, 453)]),
    ("llama-3.3-70b-h100-trtllm", [(128, 2048, 6651), (2048, 128, 762)]),
])
def test_derived_rates_reproduce_the_published_points(profile: str, points: list[tuple[int, int, int]]) -> None:
    p = default_selfhost().profiles[profile]
    assert {"prefill_tokens_per_second", "decode_tokens_per_second"} <= set(p.derived)
    for isl, osl, throughput in points:
        node_seconds = Fraction(isl) / Fraction(p.prefill_tokens_per_second) + Fraction(osl) / Fraction(p.decode_tokens_per_second)
        assert abs(osl / node_seconds - throughput) / throughput < 0.001, (isl, osl)


def test_the_deepseek_profile_is_the_reports_figures() -> None:
    p = default_selfhost().profiles["deepseek-v3-r1-h800-deepseek"]
    assert (p.prefill_tokens_per_second, p.decode_tokens_per_second, p.gpus_per_node) == (73700, 14800, 8)
    assert p.prefill_includes_cache_hits and p.min_nodes == 4 + 18


GOOD_OFFER = """
[[offers]]
id = "x"
provider = "p"
product = "box"
gpu = "H100"
gpus = 8
gpu_hour = 2.5
commitment = "on-demand"
from = 2026-01-01T00:00:00Z
source = "https://example.com"
checked = 2026-01-02
"""
GOOD_MODEL = """
[[models]]
id = "m"
served_by = ["acme/m"]
"""
GOOD_PROFILE = """
[[profiles]]
id = "pr"
model = "m"
gpu = "H100"
gpus_per_node = 8
prefill_tokens_per_second = 1000
decode_tokens_per_second = 100
prefill_includes_cache_hits = true
source = "https://example.com"
checked = 2026-01-02
"""


@pytest.mark.parametrize(("text", "path", "words"), [
    (GOOD_OFFER.replace("gpu_hour = 2.5", "gpu_hour = 0"), "$.offers[0].gpu_hour", "> 0"),
    (GOOD_OFFER.replace("https://example.com", "a friend"), "$.offers[0].source", "URL"),
    (GOOD_OFFER.replace('"on-demand"\n', '"on-demand"\ncurrency = "usd"\n'), "$.offers[0].currency", "ISO 4217"),
    (GOOD_OFFER.replace("gpus = 8", "gpus = 0"), "$.offers[0].gpus", "at least 1"),
    (GOOD_OFFER + GOOD_OFFER, "$.offers[1].id", "new id"),
    (GOOD_OFFER.replace("gpus = 8", "gpus = 8\nspeed = 3"), "$.offers[0]", "unknown field"),
    (GOOD_MODEL + GOOD_PROFILE.replace("decode_tokens_per_second = 100\n", ""), "$.profiles[0]", "decode_tokens_per_second"),
    (GOOD_MODEL + GOOD_PROFILE.replace("decode_tokens_per_second = 100", "decode_tokens_per_second = -1"),
     "$.profiles[0].decode_tokens_per_second", "> 0"),
    (GOOD_MODEL + GOOD_PROFILE.replace('model = "m"', 'model = "other"'), "$.profiles[0].model", "served-by"),
    (GOOD_MODEL + GOOD_PROFILE.replace("checked = 2026-01-02", 'checked = 2026-01-02\ndirect = ["speed"]'),
     "$.profiles[0].direct/derived[0]", "not a profile field"),
])
def test_bad_files_fail_naming_the_file_and_field(text: str, path: str, words: str) -> None:
    with pytest.raises(CatalogError) as caught:
        parse_selfhost_files([("bad.toml", text.encode())])
    assert (caught.value.file, caught.value.path) == ("bad.toml", path)
    assert words in caught.value.reason


def test_a_folder_without_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"no \*\.toml"):
        load_selfhost(tmp_path)
    (tmp_path / "a.toml").write_text(GOOD_OFFER + GOOD_MODEL + GOOD_PROFILE)
    data = load_selfhost(tmp_path)
    assert data.offers["x"].starts == datetime(2026, 1, 1, tzinfo=UTC)
    assert data.served_by("m") == ("acme/m",) and data.served_by("nope") == ()

"""``pricing.importers`` works on data already read: the files and installed packages are read in
``service.catalog_diff``, and the engine module neither opens files nor looks packages up."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pricing import CatalogError, importers
from service.catalog_diff import REVIEWED, read_genai_prices, read_litellm, read_reviewed

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 11, 28, tzinfo=UTC)
#: Modules whose use would mean I/O beyond the catalog (or finding installed packages) in the engine.
SHELL_ONLY = {"pathlib", "os", "io", "json", "importlib", "importlib.metadata", "importlib.resources",
              "genai_prices", "litellm", "urllib", "shutil", "glob"}


def _decoded(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def test_parsing_decoded_data_gives_what_reading_the_file_gives() -> None:
    path = FIXTURES / "litellm_prices.json"
    assert importers.parse_litellm(_decoded("litellm_prices.json"), str(path)) == read_litellm(path)
    path = FIXTURES / "genai_prices.json"
    assert importers.parse_genai_prices(_decoded("genai_prices.json"), NOW, str(path)) == read_genai_prices(path, NOW)
    assert importers.parse_reviewed(REVIEWED.read_bytes(), str(REVIEWED)) == read_reviewed()


def test_errors_name_the_label_the_caller_gives() -> None:
    with pytest.raises(CatalogError, match="expected a number") as info:
        importers.parse_litellm({"m": {"input_cost_per_token": "cheap"}}, "their-prices")
    assert str(info.value).startswith("their-prices")
    bad = REVIEWED.read_bytes().replace(b'source = "https://', b'source = "', 1)
    with pytest.raises(CatalogError, match=r"\$\.reviewed\[0\]\.source") as info:
        importers.parse_reviewed(bad, "reviewed.toml")
    assert str(info.value).startswith("reviewed.toml")
    with pytest.raises(CatalogError, match="not UTF-8"):
        importers.parse_reviewed(b"\xff\xfe", "reviewed.toml")


def test_the_engine_module_imports_nothing_that_reads_files_or_finds_packages() -> None:
    tree = ast.parse(Path(importers.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert imported & SHELL_ONLY == set()
    assert "open(" not in Path(importers.__file__).read_text()

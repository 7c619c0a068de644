"""Start-up stays light: ``import pricing`` and a compiled ``Catalog.default()`` import only what a
quote needs. Which modules a fresh interpreter loads is checked, not how long it takes (timings are
``benchmarks/bench_startup.py``'s job)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pricing

#: Modules a quote from a compiled catalog does not need: the TOML parser and zone data (only
#: parsing or a zoned window needs them), pathlib, the fuzzy matcher for unknown names, and the
#: engine's other features with their heavy dependencies.
NOT_AT_START_UP = (
    "tomllib", "zoneinfo", "pathlib", "difflib", "importlib.metadata", "sqlglot", "duckdb",
    "pricing.importers", "pricing.projection", "pricing.plan", "pricing.forecast", "pricing.selfhost",
    "pricing.usage_tables", "pricing.usage_query", "pricing.usage_lookups", "pricing.lint",
)

_PROBE = f"""
import json, sys
import pricing
catalog = pricing.Catalog.default()
from pricing import compiled
print(json.dumps({{"compiled": compiled.read(catalog.digest) is not None,
                  "loaded": [m for m in {NOT_AT_START_UP!r} if m in sys.modules]}}))
"""


def _probe(env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(out.stdout)
    return result


def _env(cache: str) -> dict[str, str]:
    return {**os.environ, "INFERENCE_COST_CACHE_DIR": cache}


def test_a_compiled_default_catalog_loads_without_the_parser_or_other_features(tmp_path: Path) -> None:
    env = _env(str(tmp_path))
    subprocess.run([sys.executable, "-c", "from pricing import Catalog; from service.catalog_cache import save; "
                    "save(Catalog.default())"], env=env, check=True)
    assert _probe(env) == {"compiled": True, "loaded": []}


def test_the_probe_sees_the_parser_when_there_is_no_compiled_catalog() -> None:
    # The same probe with the cache off must report the TOML parser: it can tell the two apart.
    result = _probe(_env("off"))
    assert result["compiled"] is False
    assert result["loaded"] == ["tomllib", "zoneinfo"]


def test_every_exported_name_imports_from_the_package() -> None:
    for name in pricing.__all__:
        exec(f"from pricing import {name}", {})

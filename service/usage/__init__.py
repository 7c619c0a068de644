"""Pricing usage logs: read an export, price every row with an engine, write priced rows and a summary.

The imperative shell around ``pricing.usage_tables`` (the catalog as price tables) and
``pricing.usage_query`` (the one pricing query). ``price_usage`` is the Python API; the CLI
(``inference-cost usage price``) and ``POST /v1/usage`` call it::

    from pathlib import Path
    from pricing import Catalog
    from service.usage import UsageJob, price_usage

    summary = price_usage(UsageJob(source=Path("usage.csv"), out=Path("priced.parquet"),
                                   group_by=("team", "month")), Catalog.default())

The names are imported on first use: the HTTP service starts without loading DuckDB or Arrow.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"ENGINES": "service.usage.run", "FORMATS": "service.usage.run", "UsageJob": "service.usage.run",
            "price_usage": "service.usage.run", "UsageInputError": "service.usage.errors"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'service.usage' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

"""inference-cost's pricing engine: exact, dated, sourced prices for LLM inference.

    >>> from pricing import Catalog, Workload
    >>> from datetime import datetime, UTC
    >>> q = Catalog.default().quote(Workload(model="deepseek-reasoner", output_tokens=1_000_000,
    ...                                      at=datetime(2025, 1, 31, 12, tzinfo=UTC)))
    >>> q.total
    Decimal('2.19')
"""

from pricing.catalog import Catalog, totals_by_currency
from pricing.errors import (
    AmbiguousModelError,
    CatalogError,
    InvalidWorkloadError,
    NoBatchPriceError,
    NoCurrencyPriceError,
    NoPriceError,
    PricingError,
    UnknownModelError,
)
from pricing.quote import Line, Quote, RankedQuote, round_money, round_quote
from pricing.schema import CatalogFile, Model, Period, Pricing, Rates, Route, Tier, Window
from pricing.workload import MAX_REQUESTS, MAX_TOKENS, Usage, Workload

__all__ = [
    "MAX_REQUESTS",
    "MAX_TOKENS",
    "AmbiguousModelError",
    "Catalog",
    "CatalogError",
    "CatalogFile",
    "InvalidWorkloadError",
    "Line",
    "Model",
    "NoBatchPriceError",
    "NoCurrencyPriceError",
    "NoPriceError",
    "Period",
    "Pricing",
    "PricingError",
    "Quote",
    "RankedQuote",
    "Rates",
    "Route",
    "Tier",
    "UnknownModelError",
    "Usage",
    "Window",
    "Workload",
    "round_money",
    "round_quote",
    "totals_by_currency",
]

"""Pricing usage logs: read an export, price every row with an engine, write priced rows and a summary.

The imperative shell around ``pricing.usage_tables`` (the catalog as price tables) and
``pricing.usage_query`` (the one pricing query). ``price_usage`` is the Python API; the CLI
(``inference-cost usage price``) and ``POST /v1/usage`` call it.
"""

from service.usage.errors import UsageInputError
from service.usage.run import ENGINES, FORMATS, UsageJob, price_usage

__all__ = ["ENGINES", "FORMATS", "UsageInputError", "UsageJob", "price_usage"]

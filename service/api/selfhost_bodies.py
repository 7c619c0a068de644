"""The body of ``POST /v1/selfhost``: its types, each field described (the OpenAPI document reads them)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from pricing.schema import doc
from pricing.selfhost import InlineProfile


class TokenTotals(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Token counts: over the whole span (`usage`), or of one request (`workload`)."""

    input_tokens: Annotated[int, doc("Input tokens, the cached part included.")] = 0
    cached_input_tokens: Annotated[int, doc("The part of `input_tokens` that hit a prompt cache.")] = 0
    output_tokens: Annotated[int, doc("Output tokens, reasoning included.")] = 0


class SelfhostRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to size: usage over a span, a serving profile, a GPU price, and optional provisioning factors."""

    usage: Annotated[TokenTotals | None, doc("The token totals; or give `workload` and `requests_per_second`.")] = None
    hours: Annotated[Decimal, doc("The span the totals cover, in hours (e.g. `24`), a decimal string or number.")]
    profile: Annotated[str | InlineProfile, doc("A serving profile id (`inference-cost selfhost --list`), or one given inline.")]
    workload: Annotated[TokenTotals | None, doc("Instead of `usage`: one request's token counts, arriving at `requests_per_second` over `hours`.")] = None
    requests_per_second: Annotated[Decimal | None, doc("With `workload`: requests a second; requests over the span are rounded half-even to a whole number and used as the APIs' request shape.")] = None
    offer: Annotated[str | None, doc("A GPU offer id; give this or `gpu_hour_price`.")] = None
    gpu_hour_price: Annotated[Decimal | None, doc("Price of one GPU-hour in `currency`, a decimal string.")] = None
    currency: Annotated[str | None, doc("Currency of the answer (default: the offer's, or USD).")] = None
    exchange_rate: Annotated[Decimal | None, doc("Units of `currency` per unit of the offer's currency; needed when they differ.")] = None
    utilisation: Annotated[Decimal, doc("Share of provisioned time doing useful work, in (0, 1] (default 1).")] = Decimal(1)
    peak_ratio: Annotated[Decimal, doc("Peak-to-average traffic ratio to provision for, at least 1 (default 1: the average).")] = Decimal(1)
    compare: Annotated[list[str] | None, doc("API models to compare (default: the catalog names that serve the profile's model).")] = None
    requests: Annotated[int | None, doc("How many requests the totals came from, for the APIs' prompt-size tiers (default: requests of at most 10,000 tokens).")] = None
    at: Annotated[datetime | None, doc("Instant the API prices are read at (default: now).")] = None
    batch: Annotated[bool, doc("Quote the APIs' batch prices.")] = False

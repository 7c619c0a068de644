"""The body of ``POST /v1/selfhost``: its types, each field described (the OpenAPI document reads them)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from pricing.selfhost import InlineProfile


def _d(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class TokenTotals(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Token counts: over the whole span (`usage`), or of one request (`workload`)."""

    input_tokens: Annotated[int, _d("Input tokens, the cached part included.")] = 0
    cached_input_tokens: Annotated[int, _d("The part of `input_tokens` that hit a prompt cache.")] = 0
    output_tokens: Annotated[int, _d("Output tokens, reasoning included.")] = 0


class SelfhostRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to size: usage over a span, a serving profile, a GPU price, and optional provisioning factors."""

    usage: Annotated[TokenTotals | None, _d("The token totals; or give `workload` and `requests_per_second`.")] = None
    hours: Annotated[Decimal, _d("The span the totals cover, in hours (e.g. `24`), a decimal string or number.")]
    profile: Annotated[str | InlineProfile, _d("A serving profile id (`inference-cost selfhost --list`), or one given inline.")]
    workload: Annotated[TokenTotals | None, _d("Instead of `usage`: one request's token counts, arriving at `requests_per_second` over `hours`.")] = None
    requests_per_second: Annotated[Decimal | None, _d("With `workload`: requests a second; requests over the span are rounded half-even to a whole number and used as the APIs' request shape.")] = None
    offer: Annotated[str | None, _d("A GPU offer id; give this or `gpu_hour_price`.")] = None
    gpu_hour_price: Annotated[Decimal | None, _d("Price of one GPU-hour in `currency`, a decimal string.")] = None
    currency: Annotated[str | None, _d("Currency of the answer (default: the offer's, or USD).")] = None
    exchange_rate: Annotated[Decimal | None, _d("Units of `currency` per unit of the offer's currency; needed when they differ.")] = None
    utilisation: Annotated[Decimal, _d("Share of provisioned time doing useful work, in (0, 1] (default 1).")] = Decimal(1)
    peak_ratio: Annotated[Decimal, _d("Peak-to-average traffic ratio to provision for, at least 1 (default 1: the average).")] = Decimal(1)
    compare: Annotated[list[str] | None, _d("API models to compare (default: the catalog names that serve the profile's model).")] = None
    requests: Annotated[int | None, _d("How many requests the totals came from, for the APIs' prompt-size tiers (default: requests of at most 10,000 tokens).")] = None
    at: Annotated[datetime | None, _d("Instant the API prices are read at (default: now).")] = None
    batch: Annotated[bool, _d("Quote the APIs' batch prices.")] = False

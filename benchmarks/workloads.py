"""Seeded benchmark workloads, and how each priced model is named in every library we compare with.

The same seed always gives the same workloads, whatever the catalog holds: models our catalog cannot
price (not there yet, or no price at the instant) are dropped by the caller and reported, not
replaced by others, so two runs with the same seed price the same requests wherever both can.

Every workload is one request (``requests=1``): genai-prices and litellm price one request at a
time, and the long-context tiers depend on the size of each request's prompt.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import msgspec

from pricing import Workload

#: The default seed (today's date when it was chosen): keeps published figures reproducible.
DEFAULT_SEED = 20261128
#: The prompt size above which the long-context tiers of Gemini 2.5 Pro and Claude Sonnet 4.5 apply.
TIER_THRESHOLD = 200_000


class Target(msgspec.Struct, frozen=True, kw_only=True):
    """One model as our catalog, genai-prices and litellm each name it, and when to price it."""

    #: Our name for it, provider-qualified so that a host selling the same id cannot make it ambiguous.
    model: str
    genai_ref: str
    genai_provider: str
    litellm_model: str
    litellm_provider: str
    #: Instants to price at: several price periods, and both sides of an off-peak window.
    instants: tuple[datetime, ...]
    #: Largest prompt the model accepts (its context window, less room for output).
    max_prompt: int
    #: Whether the model sells a long-context tier above ``TIER_THRESHOLD``.
    tiered: bool = False
    #: Whether the provider bills cache writes (Anthropic); others cache implicitly.
    cache_writes: bool = False


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


#: Models held by all three price databases (checked in genai-prices 0.2.3 and litellm 1.110.2's
#: bundled maps). Instants are chosen where each model is sold; some fall in price periods the other
#: libraries do not hold (a price history, an off-peak window): the benchmark lists those.
TARGETS: tuple[Target, ...] = (
    Target(
        model="openai/o1", genai_ref="o1", genai_provider="openai",
        litellm_model="o1", litellm_provider="openai",
        # o1 is priced until its retirement on 2026-10-23.
        instants=(_utc("2025-01-31T12:00"), _utc("2025-06-15T09:00"), _utc("2026-09-01T15:00")),
        max_prompt=195_000,
    ),
    Target(
        model="openai/gpt-4o", genai_ref="gpt-4o", genai_provider="openai",
        litellm_model="gpt-4o", litellm_provider="openai",
        # Mid-2024 the gpt-4o alias still pointed at the 2024-05-13 snapshot and its launch price.
        instants=(_utc("2024-06-15T12:00"), _utc("2025-03-01T12:00"), _utc("2026-11-20T15:00")),
        max_prompt=120_000,
    ),
    Target(
        model="anthropic/claude-sonnet-4-5", genai_ref="claude-sonnet-4-5", genai_provider="anthropic",
        litellm_model="claude-sonnet-4-5", litellm_provider="anthropic",
        instants=(_utc("2025-10-15T12:00"), _utc("2026-11-20T15:00")),
        max_prompt=990_000, tiered=True, cache_writes=True,
    ),
    Target(
        model="anthropic/claude-haiku-4-5", genai_ref="claude-haiku-4-5", genai_provider="anthropic",
        litellm_model="claude-haiku-4-5", litellm_provider="anthropic",
        instants=(_utc("2025-11-01T12:00"), _utc("2026-11-20T15:00")),
        max_prompt=195_000, cache_writes=True,
    ),
    Target(
        model="deepseek/deepseek-chat", genai_ref="deepseek-chat", genai_provider="deepseek",
        litellm_model="deepseek-chat", litellm_provider="deepseek",
        # Launch promotion, standard day, off-peak night, after the off-peak discount ended (day and
        # night), before the names were retired on 2026-07-24.
        instants=(_utc("2025-01-31T12:00"), _utc("2025-03-01T12:00"), _utc("2025-03-01T18:00"),
                  _utc("2025-10-15T12:00"), _utc("2026-05-15T12:00"), _utc("2026-05-15T20:00")),
        max_prompt=60_000,
    ),
    Target(
        model="deepseek/deepseek-reasoner", genai_ref="deepseek-reasoner", genai_provider="deepseek",
        litellm_model="deepseek-reasoner", litellm_provider="deepseek",
        # A night before the off-peak discount existed, then day and night while it ran, then later.
        instants=(_utc("2025-01-31T12:00"), _utc("2025-01-31T20:00"), _utc("2025-03-01T12:00"),
                  _utc("2025-03-01T18:00"), _utc("2025-10-15T12:00"), _utc("2026-05-15T12:00")),
        max_prompt=60_000,
    ),
    Target(
        model="google/gemini-2.5-pro", genai_ref="gemini-2.5-pro", genai_provider="google",
        litellm_model="gemini-2.5-pro", litellm_provider="gemini",
        instants=(_utc("2025-07-01T12:00"), _utc("2026-11-20T15:00")),
        max_prompt=990_000, tiered=True,
    ),
    Target(
        model="google/gemini-2.5-flash", genai_ref="gemini-2.5-flash", genai_provider="google",
        litellm_model="gemini-2.5-flash", litellm_provider="gemini",
        instants=(_utc("2025-07-01T12:00"), _utc("2026-11-20T15:00")),
        max_prompt=990_000,
    ),
)


class BenchWorkload(msgspec.Struct, frozen=True, kw_only=True):
    """A workload for our engine, with the target that says how the other libraries name its model."""

    index: int
    workload: Workload
    target: Target


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    # Token counts spread over orders of magnitude: short chats and long documents alike.
    return round(math.exp(rng.uniform(math.log(low), math.log(high))))


def _prompt(rng: random.Random, target: Target) -> int:
    if target.tiered:
        kind = rng.choice(("short", "short", "long", "threshold", "above"))
        if kind == "threshold":
            # Exactly at the threshold: every library must agree on which side of it this is.
            return TIER_THRESHOLD
        if kind == "above":
            return rng.randint(TIER_THRESHOLD + 1, target.max_prompt)
        if kind == "long":
            return rng.randint(20_000, TIER_THRESHOLD - 1)
    return _log_uniform(rng, 50, min(target.max_prompt, 100_000))


def make_workload(rng: random.Random, target: Target) -> Workload:
    """One request on ``target`` with a random prompt size, cached share, cache writes and output."""
    prompt = _prompt(rng, target)
    cached = int(prompt * rng.choice((0.0, 0.0, 0.25, 0.5, 0.9)))
    write = 0
    if target.cache_writes:
        write = min(int(prompt * rng.choice((0.0, 0.05, 0.2))), prompt - cached)
    output = 0 if rng.random() < 0.1 else _log_uniform(rng, 1, 32_000)
    return Workload(
        model=target.model,
        input_tokens=prompt,
        cached_input_tokens=cached,
        cache_write_tokens=write,
        output_tokens=output,
        at=rng.choice(target.instants),
    )


def generate(count: int, seed: int = DEFAULT_SEED,
             targets: tuple[Target, ...] = TARGETS) -> tuple[BenchWorkload, ...]:
    """``count`` workloads spread evenly over ``targets`` (round robin), reproducible from ``seed``."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    rng = random.Random(seed)
    return tuple(
        BenchWorkload(index=i, workload=make_workload(rng, targets[i % len(targets)]),
                      target=targets[i % len(targets)])
        for i in range(count)
    )

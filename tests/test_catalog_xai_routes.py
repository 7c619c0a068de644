"""xAI's 2026-05-15 retirement in the shipped catalog: the retired slugs are billed as grok-4.3 from
12:00 PT (19:00Z) on, as xAI's notice says, and at their own rates up to that instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pricing import Catalog, Quote, Workload

RETIRED_AT = datetime(2026, 5, 15, 19, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize("slug", ["grok-3", "grok-4-0709", "grok-4", "grok-code-fast-1", "grok-4-fast-reasoning",
                                  "grok-4-fast-non-reasoning", "grok-4-1-fast-reasoning", "grok-4-1-fast-non-reasoning",
                                  "grok-3-mini", "grok-3-fast"])
def test_retired_slug_is_billed_as_grok_4_3_from_the_retirement_instant(slug: str) -> None:
    catalog = Catalog.default()

    def quote(at: datetime) -> Quote:
        return catalog.quote(Workload(model=slug, input_tokens=1_000_000, output_tokens=1_000_000, at=at))

    before, after = quote(RETIRED_AT - TICK), quote(RETIRED_AT)
    assert before.routed_from is None and before.model == catalog.model(slug).id
    assert (after.routed_from, after.model) == (catalog.model(slug).id, "grok-4.3")
    assert after.total == catalog.quote(Workload(model="grok-4.3", input_tokens=1_000_000,
                                                 output_tokens=1_000_000, at=RETIRED_AT)).total

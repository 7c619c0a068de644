"""Azure OpenAI as a purchase route: its own names, its own dated prices, OpenAI's names untouched."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pricing import Catalog, NoPriceError, UnknownModelError, Workload

CATALOG = Catalog.default()


def _input_rate(model: str, at: datetime) -> Decimal:
    quote = CATALOG.quote(Workload(model=model, input_tokens=1_000, output_tokens=0, at=at))
    return {line.kind: line.rate for line in quote.lines}["input"]


def test_bare_openai_names_still_mean_openai() -> None:
    for name in ("gpt-5.6-sol", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-6-astra", "gpt-5.6"):
        assert CATALOG.model(name).provider == "openai"


def test_azure_models_are_named_by_deployment_type() -> None:
    azure = [m for m in CATALOG.models() if m.provider == "azure"]
    assert azure, "the Azure purchase route ships"
    assert all(m.id.endswith("-global") for m in azure)
    assert CATALOG.model("azure/gpt-5.6-sol-global").provider == "azure"


def test_the_openai_name_under_azure_points_at_the_global_deployment() -> None:
    with pytest.raises(UnknownModelError) as caught:
        CATALOG.model("azure/gpt-5.6-sol")
    assert "azure/gpt-5.6-sol-global" in caught.value.suggestions


def test_azure_did_not_follow_openais_sol_promotion_until_its_own() -> None:
    """OpenAI cut Sol on 2026-08-21; Azure ran its own promotion from 2026-09-01."""
    between = datetime(2026, 8, 25, tzinfo=UTC)
    assert _input_rate("openai/gpt-5.6-sol", between) == Decimal("4")
    assert _input_rate("azure/gpt-5.6-sol-global", between) == Decimal("5")
    last_list_second = datetime(2026, 8, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert _input_rate("azure/gpt-5.6-sol-global", last_list_second) == Decimal("5")
    assert _input_rate("azure/gpt-5.6-sol-global", datetime(2026, 9, 1, tzinfo=UTC)) == Decimal("4")


def test_an_unsourced_azure_launch_period_is_not_guessed() -> None:
    with pytest.raises(NoPriceError):
        CATALOG.quote(Workload(model="azure/gpt-5.6-terra-global", input_tokens=1, output_tokens=1,
                               at=datetime(2026, 7, 31, 23, 59, 59, tzinfo=UTC)))
    assert _input_rate("azure/gpt-5.6-terra-global", datetime(2026, 8, 1, tzinfo=UTC)) == Decimal("2")

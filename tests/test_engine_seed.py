"""The seed facts on the shipped catalog: R1 at 2.19 and o1 at 60 per million output tokens.

Only these facts are checked against ``Catalog.default()``: its other contents are being filled in
with real prices and may change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pricing import Catalog, Usage, Workload

AT = datetime(2025, 1, 31, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return Catalog.default()


@pytest.mark.parametrize(("model", "total"), [("deepseek-reasoner", "2.19"), ("o1", "60")])
def test_a_million_output_tokens(shipped: Catalog, model: str, total: str) -> None:
    quote = shipped.quote(Workload(model=model, output_tokens=1_000_000, at=AT))
    assert quote.total == Decimal(total)
    # Exactly, not merely equal: no stray digits from a float or a division.
    assert str(quote.total) == total
    assert quote.currency == "USD"
    assert quote.source.startswith("https://")


def test_compare_puts_r1_first_with_the_seed_saving(shipped: Catalog) -> None:
    usage = Usage(output_tokens=1_000_000, at=AT)
    ranked = shipped.compare(usage, models=["o1", "deepseek-r1"], baseline="o1")
    assert [(q.provider, q.model) for q in ranked] == [("deepseek", "deepseek-reasoner"), ("openai", "o1")]
    r1, o1 = ranked
    assert r1.savings_percent == Decimal("96.35")
    assert str(r1.savings_percent) == "96.35"
    assert o1.savings_percent == Decimal(0)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("deepseek/deepseek-reasoner", ("deepseek", "deepseek-reasoner")),
        ("deepseek-r1", ("deepseek", "deepseek-reasoner")),
        ("DeepSeek-R1", ("deepseek", "deepseek-reasoner")),
        ("O1", ("openai", "o1")),
        ("o1-2024-12-17", ("openai", "o1")),
        ("openai/o1-2024-12-17", ("openai", "o1")),
        ("  o1 ", ("openai", "o1")),
    ],
)
def test_names_users_type_resolve(shipped: Catalog, name: str, key: tuple[str, str]) -> None:
    model = shipped.model(name)
    assert (model.provider, model.id) == key
    assert shipped.quote(Workload(model=name, output_tokens=1_000_000, at=AT)).model == key[1]

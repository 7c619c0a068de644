"""Workload validation and name resolution: every refusal is a clear ``PricingError``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec
import pytest

from pricing import (
    MAX_REQUESTS,
    MAX_TOKENS,
    AmbiguousModelError,
    Catalog,
    InvalidWorkloadError,
    NoPriceError,
    PricingError,
    UnknownModelError,
    Usage,
    Workload,
)

TOKEN_FIELDS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens",
                "output_tokens")
AT = datetime(2025, 6, 1, tzinfo=UTC)

TWO_PROVIDERS = (
    """
    provider = "acme"
    [[models]]
    id = "m"
    aliases = ["acme-m"]
    [[models.periods]]
    from = 2025-01-01T00:00:00Z
    source = "https://acme.example/pricing"
    checked = 2025-01-01
    input = 1
    output = 2
    """,
    """
    provider = "bolt"
    [[models]]
    id = "m"
    [[models.periods]]
    from = 2025-01-01T00:00:00Z
    source = "https://bolt.example/pricing"
    checked = 2025-01-01
    input = 3
    output = 4
    [[models]]
    id = "acme-m"
    [[models.periods]]
    from = 2025-01-01T00:00:00Z
    source = "https://bolt.example/pricing"
    checked = 2025-01-01
    input = 5
    output = 6
    [[models]]
    id = "turbo-large"
    [[models.periods]]
    from = 2025-01-01T00:00:00Z
    source = "https://bolt.example/pricing"
    checked = 2025-01-01
    input = 7
    output = 8
    """,
)


def refusal(field: str, **kwargs: object) -> InvalidWorkloadError:
    with pytest.raises(InvalidWorkloadError) as info:
        Workload(model="m", **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    return info.value


@pytest.mark.parametrize("field", TOKEN_FIELDS)
@pytest.mark.parametrize("value", [1.0, 1.5, True, False, Decimal(1), "1", None])
def test_token_counts_must_be_ints(field: str, value: object) -> None:
    # True would count as 1 and 1.5 would be truncated: both must be refused, not coerced.
    kwargs = {field: value}
    if field != "input_tokens":
        kwargs["input_tokens"] = 10  # so the cached-parts rule is not what fails
    error = refusal(field, **kwargs)
    assert "whole number" in error.reason
    assert type(value).__name__ in error.reason


@pytest.mark.parametrize("field", TOKEN_FIELDS)
def test_negative_token_counts(field: str) -> None:
    assert "must be >= 0, got -1" in refusal(field, **{field: -1}).reason


@pytest.mark.parametrize("field", TOKEN_FIELDS)
def test_token_counts_above_max_tokens(field: str) -> None:
    kwargs = {field: MAX_TOKENS + 1}
    if field != "input_tokens":
        kwargs["input_tokens"] = MAX_TOKENS
    assert f"must be <= {MAX_TOKENS:_}" in refusal(field, **kwargs).reason
    # The limit itself is accepted.
    Workload(model="m", **{**kwargs, field: MAX_TOKENS})  # type: ignore[arg-type]


@pytest.mark.parametrize("requests", [0, -1, MAX_REQUESTS + 1])
def test_requests_out_of_range(requests: int) -> None:
    refusal("requests", requests=requests)


@pytest.mark.parametrize("requests", [1.0, True, Decimal(2), "2"])
def test_requests_must_be_an_int(requests: object) -> None:
    assert "whole number" in refusal("requests", requests=requests).reason


def test_requests_limits_are_accepted() -> None:
    assert Workload(model="m", requests=1).requests == 1
    assert Workload(model="m", requests=MAX_REQUESTS).requests == MAX_REQUESTS


@pytest.mark.parametrize(
    "parts",
    [
        {"cached_input_tokens": 11},
        {"cache_write_tokens": 11},
        {"cache_write_1h_tokens": 11},
        {"cached_input_tokens": 6, "cache_write_tokens": 5},
        {"cached_input_tokens": 4, "cache_write_tokens": 4, "cache_write_1h_tokens": 3},
    ],
)
def test_cached_and_cache_write_tokens_cannot_exceed_the_prompt(parts: dict[str, int]) -> None:
    error = refusal("cached_input_tokens", input_tokens=10, **parts)
    assert "exceed input_tokens (10)" in error.reason


def test_cached_parts_may_fill_the_whole_prompt() -> None:
    usage = Usage(input_tokens=10, cached_input_tokens=4, cache_write_tokens=3, cache_write_1h_tokens=3)
    assert usage.input_tokens == 10


def test_naive_datetime() -> None:
    assert "timezone aware" in refusal("at", at=datetime(2025, 1, 31, 12)).reason


@pytest.mark.parametrize("at", ["2025-01-31T12:00:00Z", date(2025, 1, 31), 1738324800, 1738324800.0])
def test_at_must_be_a_datetime(at: object) -> None:
    assert "must be a datetime" in refusal("at", at=at).reason


@pytest.mark.parametrize("batch", [1, 0, "yes", None])
def test_batch_must_be_a_bool(batch: object) -> None:
    refusal("batch", batch=batch)


@pytest.mark.parametrize("model", ["", "   ", "\t\n", None, 42])
def test_model_name_must_be_non_empty(model: object) -> None:
    with pytest.raises(InvalidWorkloadError) as info:
        Workload(model=model)  # type: ignore[arg-type]
    assert info.value.field == "model"
    assert "non-empty model name" in str(info.value)


def test_errors_survive_decoding_from_json() -> None:
    # The HTTP service decodes workloads with msgspec, which turns the ValueError into a
    # ValidationError: the message must still say which field and why.
    with pytest.raises(msgspec.ValidationError, match=r"cached_input_tokens: cached \(5\)"):
        msgspec.json.decode(b'{"model": "m", "input_tokens": 1, "cached_input_tokens": 5}', type=Workload)
    with pytest.raises(msgspec.ValidationError, match="at: must be timezone aware"):
        msgspec.json.decode(b'{"model": "m", "at": "2025-01-31T12:00:00"}', type=Workload)


def test_every_workload_error_is_a_pricing_error_and_a_value_error() -> None:
    error = refusal("requests", requests=0)
    assert isinstance(error, PricingError)
    assert isinstance(error, ValueError)


# -- names ---------------------------------------------------------------------------------------


@pytest.fixture
def two_providers(make_catalog: Callable[..., Catalog]) -> Catalog:
    return make_catalog(*TWO_PROVIDERS)


def test_unknown_model_suggests_close_names(two_providers: Catalog) -> None:
    with pytest.raises(UnknownModelError) as info:
        two_providers.quote(Workload(model="turbo-larg", at=AT))
    assert info.value.name == "turbo-larg"
    assert "turbo-large" in info.value.suggestions
    assert "did you mean" in str(info.value) and "turbo-large" in str(info.value)
    assert not isinstance(info.value, AmbiguousModelError)


def test_unknown_model_without_anything_close(two_providers: Catalog) -> None:
    with pytest.raises(UnknownModelError) as info:
        two_providers.model("zzzzzzzzzz")
    assert info.value.suggestions == ()
    assert str(info.value) == "unknown model 'zzzzzzzzzz'"


def test_same_id_at_two_providers_is_ambiguous(two_providers: Catalog) -> None:
    with pytest.raises(AmbiguousModelError) as info:
        two_providers.quote(Workload(model="M", at=AT))
    assert info.value.suggestions == ("acme/m", "bolt/m")
    assert "acme/m" in str(info.value) and "bolt/m" in str(info.value)
    # A qualified name picks one.
    assert two_providers.quote(Workload(model="bolt/m", output_tokens=1_000_000, at=AT)).total == 4
    assert two_providers.quote(Workload(model="ACME/M", output_tokens=1_000_000, at=AT)).total == 2


def test_a_name_several_sell_means_the_makers_model(two_providers: Catalog) -> None:
    # "acme-m" is acme's alias and bolt's id: the provider named in it (acme) is the maker.
    assert two_providers.model("acme-m").provider == "acme"
    assert two_providers.model("bolt/acme-m").provider == "bolt"


def test_model_name_must_be_a_string(two_providers: Catalog) -> None:
    with pytest.raises(InvalidWorkloadError, match="model: must be a model name"):
        two_providers.model(None)  # type: ignore[arg-type]


# -- no price ------------------------------------------------------------------------------------

HISTORY = """
provider = "h"
[[models]]
id = "m"
[[models.periods]]
from = 2025-01-01T00:00:00Z
until = 2025-03-01T00:00:00Z
source = "https://h.example/pricing"
checked = 2025-01-01
input = 1
output = 2
[[models.periods]]
from = 2025-04-01T00:00:00+08:00
until = 2025-06-01T00:00:00Z
source = "https://h.example/pricing"
checked = 2025-04-01
input = 3
output = 4
"""


@pytest.fixture
def history(make_catalog: Callable[..., Catalog]) -> Catalog:
    return make_catalog(HISTORY)


def price_at(catalog: Catalog, at: datetime) -> Decimal:
    return catalog.quote(Workload(model="m", output_tokens=1_000_000, at=at)).total


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "no price before 2025-01-01T00:00:00+00:00 (its launch, or the earliest price a source shows)"),
        (datetime(2025, 3, 1, tzinfo=UTC), "no price after 2025-03-01T00:00:00+00:00 (retired, or a gap"),
        (datetime(2025, 3, 31, 15, 59, 59, 999999, tzinfo=UTC), "no price after 2025-03-01"),
        (datetime(2025, 6, 1, tzinfo=UTC), "no price after 2025-06-01T00:00:00+00:00 (retired"),
        (datetime(2030, 1, 1, tzinfo=UTC), "no price after 2025-06-01"),
    ],
    ids=["before launch", "start of a gap", "end of a gap", "at retirement", "long after retirement"],
)
def test_no_price(history: Catalog, at: datetime, message: str) -> None:
    with pytest.raises(NoPriceError) as info:
        price_at(history, at)
    assert message in str(info.value)
    assert str(info.value).startswith("no price for 'h/m': ")
    assert (info.value.model, info.value.at) == ("h/m", at)


def test_prices_up_to_each_edge(history: Catalog) -> None:
    assert price_at(history, datetime(2025, 1, 1, tzinfo=UTC)) == 2
    assert price_at(history, datetime(2025, 2, 28, 23, 59, 59, 999999, tzinfo=UTC)) == 2
    assert price_at(history, datetime(2025, 3, 31, 16, tzinfo=UTC)) == 4  # 2025-04-01T00:00+08:00
    assert price_at(history, datetime(2025, 5, 31, 23, 59, 59, 999999, tzinfo=UTC)) == 4


def test_no_batch_price(history: Catalog) -> None:
    at = datetime(2025, 2, 1, tzinfo=UTC)
    with pytest.raises(NoPriceError, match="h/m has no batch price at 2025-02-01T00:00:00"):
        history.quote(Workload(model="m", batch=True, at=at))


def test_period_at(history: Catalog) -> None:
    assert history.period_at("m", datetime(2025, 4, 2, tzinfo=UTC)).input == 3
    with pytest.raises(NoPriceError, match="timezone aware"):
        history.period_at("m", datetime(2025, 4, 2))
    with pytest.raises(NoPriceError, match="its launch"):
        history.period_at("m", datetime(2020, 1, 1, tzinfo=UTC))

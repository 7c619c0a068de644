"""Routes, shutdowns, window exception dates and second price lists, at their boundaries.

The catalog here is synthetic so that every boundary is a round number; the shipped DeepSeek data is
tested in ``tests/test_deepseek_data.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import (
    Catalog,
    InvalidWorkloadError,
    NoBatchPriceError,
    NoCurrencyPriceError,
    NoPriceError,
    Usage,
    Workload,
)

US = timedelta(microseconds=1)
ROUTE = datetime(2025, 6, 1, tzinfo=UTC)
SHUTDOWN = datetime(2025, 3, 1, tzinfo=UTC)
LATER_ROUTE = datetime(2025, 4, 1, tzinfo=UTC)

CATALOG = """\
provider = "acme"

[[models]]
id = "old"
aliases = ["old-latest"]

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 4
output = 8

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/zh/pricing"
checked = 2025-01-02
currency = "CNY"
input = 28
output = 56

[[models.routes]]
from = 2025-06-01T08:00:00+08:00
to = "new-alias"
source = "https://acme.example/deprecations"
checked = 2025-06-02
note = "old is served by new, billed at new's rates"

[[models]]
id = "new"
aliases = ["new-alias"]

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing/new"
checked = 2025-01-02
input = 1
output = 2

[models.periods.batch]
input = 0.5
output = 1

[[models]]
id = "gone"
shutdown = 2025-03-01T00:00:00Z
shutdown_source = "https://acme.example/deprecations"

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 3
output = 6

[[models.routes]]
from = 2025-04-01T00:00:00Z
to = "new"
source = "https://acme.example/deprecations"
checked = 2025-04-02

[[models]]
id = "ended"
shutdown = 2025-03-01T00:00:00Z
shutdown_source = "https://acme.example/deprecations"

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 3
output = 6

[[models]]
id = "to-later"

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 5
output = 5

[[models.routes]]
from = 2025-02-01T00:00:00Z
to = "late"
source = "https://acme.example/deprecations"
checked = 2025-02-02

[[models.routes]]
from = 2025-05-01T00:00:00Z
to = "to-ended"
source = "https://acme.example/deprecations"
checked = 2025-05-02

[[models]]
id = "late"

[[models.periods]]
from = 2025-03-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-03-02
input = 7
output = 7

[[models]]
id = "to-ended"

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 6
output = 6

[[models.routes]]
from = 2025-07-01T00:00:00Z
to = "ended"
source = "https://acme.example/deprecations"
checked = 2025-07-02

[[models]]
id = "chain"

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 9
output = 9

[[models.routes]]
from = 2025-01-15T00:00:00Z
to = "old"
source = "https://acme.example/deprecations"
checked = 2025-01-16
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.loads(CATALOG, names=["acme.toml"])


def quote(catalog: Catalog, model: str, at: datetime, **fields: object) -> object:
    return catalog.quote(Workload(model=model, input_tokens=1_000_000, output_tokens=1_000_000, at=at, **fields))


# -- routes -------------------------------------------------------------------------------------


def test_one_microsecond_before_the_route_the_name_is_priced_as_itself(catalog: Catalog) -> None:
    q = catalog.quote(Workload(model="old-latest", input_tokens=1_000_000, at=ROUTE - US))
    assert (q.model, q.routed_from, q.total, q.source) == ("old", None, Decimal(4), "https://acme.example/pricing")


@pytest.mark.parametrize("at", [ROUTE, ROUTE + US, ROUTE.astimezone(timezone(timedelta(hours=-7))),
                                datetime(2030, 1, 1, tzinfo=UTC)])
def test_from_the_route_on_the_name_is_priced_as_the_target(catalog: Catalog, at: datetime) -> None:
    q = catalog.quote(Workload(model="old-latest", input_tokens=1_000_000, output_tokens=1_000_000, at=at))
    target = catalog.quote(Workload(model="new", input_tokens=1_000_000, output_tokens=1_000_000, at=at))
    assert (q.model, q.provider, q.routed_from) == ("new", "acme", "old")
    assert q.at == at
    # Everything else is the target's quote, to the letter.
    assert q == type(q)(**{**{f: getattr(target, f) for f in target.__struct_fields__}, "routed_from": "old"})
    assert target.routed_from is None


def test_a_routed_batch_uses_the_targets_batch_rates(catalog: Catalog) -> None:
    q = catalog.quote(Workload(model="old", output_tokens=1_000_000, at=ROUTE, batch=True))
    assert (q.model, q.routed_from, q.batch, q.total) == ("new", "old", True, Decimal(1))
    with pytest.raises(NoBatchPriceError):
        catalog.quote(Workload(model="old", output_tokens=1, at=ROUTE - US, batch=True))


def test_a_route_to_a_model_not_yet_priced_is_a_clear_error(catalog: Catalog) -> None:
    at = datetime(2025, 2, 28, 23, 59, 59, 999999, tzinfo=UTC)
    with pytest.raises(NoPriceError) as info:
        quote(catalog, "to-later", at)
    assert info.value.model == "acme/to-later"
    assert "acme/to-later is billed as acme/late from 2025-02-01T00:00:00+00:00" in str(info.value)
    assert "acme/late has no price before 2025-03-01" in str(info.value)
    assert quote(catalog, "to-later", at + US).model == "late"  # type: ignore[attr-defined]
    assert quote(catalog, "to-later", datetime(2025, 2, 1, tzinfo=UTC) - US).model == "to-later"  # type: ignore[attr-defined]


def test_the_newest_route_started_is_in_force(catalog: Catalog) -> None:
    assert quote(catalog, "to-later", datetime(2025, 5, 1, tzinfo=UTC) - US).model == "late"  # type: ignore[attr-defined]
    assert quote(catalog, "to-later", datetime(2025, 5, 1, tzinfo=UTC)).model == "to-ended"  # type: ignore[attr-defined]


def test_a_route_chain_is_refused_with_the_fix(catalog: Catalog) -> None:
    # chain -> old from 2025-01-15; old -> new from 2025-06-01: before that, chain is billed as old.
    assert quote(catalog, "chain", ROUTE - US).model == "old"  # type: ignore[attr-defined]
    with pytest.raises(NoPriceError) as info:
        quote(catalog, "chain", ROUTE)
    assert info.value.model == "acme/chain"
    assert "acme/old is itself billed as another model" in str(info.value)
    assert "route to the final model" in str(info.value)


def test_a_route_to_a_model_shut_down_names_both(catalog: Catalog) -> None:
    # to-later -> to-ended from 2025-05-01; to-ended -> ended from 2025-07-01 is a chain; before it,
    # to-ended is priced. "ended" itself is shut down: a route onto it would fail with its shutdown.
    assert quote(catalog, "to-ended", datetime(2025, 7, 1, tzinfo=UTC) - US).model == "to-ended"  # type: ignore[attr-defined]
    with pytest.raises(NoPriceError) as info:
        quote(catalog, "to-ended", datetime(2025, 7, 1, tzinfo=UTC))
    assert info.value.model == "acme/to-ended"
    assert "is billed as acme/ended from 2025-07-01" in str(info.value)
    assert "acme/ended was shut down on 2025-03-01" in str(info.value)


def test_period_at_follows_routes_and_shutdowns(catalog: Catalog) -> None:
    assert catalog.period_at("old", ROUTE - US).source == "https://acme.example/pricing"
    assert catalog.period_at("old", ROUTE).source == "https://acme.example/pricing/new"
    assert catalog.period_at("old", ROUTE - US, currency="CNY").currency == "CNY"
    with pytest.raises(NoPriceError, match="shut down"):
        catalog.period_at("ended", SHUTDOWN)


# -- shutdowns ----------------------------------------------------------------------------------


def test_a_model_prices_up_to_its_shutdown_and_not_from_it(catalog: Catalog) -> None:
    assert quote(catalog, "ended", SHUTDOWN - US).total == 9  # type: ignore[attr-defined]
    for at in (SHUTDOWN, SHUTDOWN + US, datetime(2031, 1, 1, tzinfo=UTC)):
        with pytest.raises(NoPriceError) as info:
            quote(catalog, "ended", at)
        assert str(info.value).startswith("no price for 'acme/ended': acme/ended was shut down on 2025-03-01 ")
        assert "https://acme.example/deprecations" in str(info.value)
        assert (info.value.model, info.value.at) == ("acme/ended", at)


def test_a_route_after_a_shutdown_prices_the_name_again(catalog: Catalog) -> None:
    assert quote(catalog, "gone", SHUTDOWN - US).model == "gone"  # type: ignore[attr-defined]
    with pytest.raises(NoPriceError, match="shut down on 2025-03-01"):
        quote(catalog, "gone", LATER_ROUTE - US)
    q = quote(catalog, "gone", LATER_ROUTE)
    assert (q.model, q.routed_from) == ("new", "gone")  # type: ignore[attr-defined]


# -- compare and quote_many ---------------------------------------------------------------------


def test_compare_lists_a_routed_model_once_and_skips_shut_down_ones(catalog: Catalog) -> None:
    usage = Usage(input_tokens=1_000_000, at=ROUTE)
    ranked = catalog.compare(usage)
    # old, gone, to-later and chain are billed as other models then, ended is shut down.
    assert [(q.model, q.routed_from) for q in ranked] == [("new", None), ("to-ended", None), ("late", None)]
    named = catalog.compare(usage, ["old", "new"], baseline="old")
    # Equal totals keep the order asked for.
    assert [(q.model, q.routed_from, q.savings_percent) for q in named] == [
        ("new", "old", Decimal("0.00")), ("new", None, Decimal("0.00"))]
    with pytest.raises(NoPriceError, match="shut down"):
        catalog.compare(usage, ["new", "ended"])


def test_quote_many_prices_as_quote_does(catalog: Catalog) -> None:
    workloads = [Workload(model=m, input_tokens=1000, at=at) for m in ("old", "new", "gone")
                 for at in (LATER_ROUTE, ROUTE - US, ROUTE)]
    assert catalog.quote_many(workloads) == [catalog.quote(w) for w in workloads]


# -- second price list --------------------------------------------------------------------------


def test_a_cny_quote_uses_the_cny_price_list(catalog: Catalog) -> None:
    q = quote(catalog, "old", ROUTE - US, currency="CNY")
    assert (q.currency, q.total, q.source) == ("CNY", Decimal(84), "https://acme.example/zh/pricing")  # type: ignore[attr-defined]
    usd = quote(catalog, "old", ROUTE - US)
    assert (usd.currency, usd.total) == ("USD", Decimal(12))  # type: ignore[attr-defined]
    assert quote(catalog, "old", ROUTE - US, currency="USD") == usd


def test_a_currency_the_model_has_no_price_list_in(catalog: Catalog) -> None:
    with pytest.raises(NoCurrencyPriceError) as info:
        quote(catalog, "old", ROUTE - US, currency="EUR")
    error = info.value
    assert (error.model, error.currency, error.available) == ("acme/old", "EUR", ("USD", "CNY"))
    assert "acme/old has no price list in EUR; it is priced in USD, CNY" in str(error)
    assert isinstance(error, NoPriceError)


def test_a_routed_name_is_priced_in_the_targets_price_lists(catalog: Catalog) -> None:
    with pytest.raises(NoCurrencyPriceError) as info:
        quote(catalog, "old", ROUTE, currency="CNY")
    assert (info.value.model, info.value.available) == ("acme/old", ("USD",))
    assert "acme/old is billed as acme/new from 2025-06-01T00:00:00+00:00, and acme/new has no price list in CNY" \
        in str(info.value)


def test_compare_in_a_currency(catalog: Catalog) -> None:
    usage = Usage(output_tokens=1_000_000, at=ROUTE - US, currency="CNY")
    assert [(q.model, q.currency, q.total) for q in catalog.compare(usage)] == [("old", "CNY", Decimal(56))]
    with pytest.raises(NoCurrencyPriceError):
        catalog.compare(usage, ["old", "new"])


@pytest.mark.parametrize("currency", ["cny", "CN", "YUAN", "", "C1Y", "ÇNY"])
def test_a_currency_that_is_not_a_code_is_refused(currency: str) -> None:
    with pytest.raises(InvalidWorkloadError) as info:
        Workload(model="old", currency=currency)
    assert info.value.field == "currency"
    assert "ISO 4217" in info.value.reason


def test_each_currency_is_its_own_timeline(make_catalog: Callable[..., Catalog]) -> None:
    catalog = make_catalog("""
        provider = "acme"
        [[models]]
        id = "m"
        [[models.periods]]
        from = 2025-01-01T00:00:00Z
        source = "https://acme.example/pricing"
        checked = 2025-01-02
        input = 1
        output = 1
        [[models.periods]]
        from = 2025-03-01T00:00:00Z
        until = 2025-04-01T00:00:00Z
        source = "https://acme.example/zh"
        checked = 2025-03-02
        currency = "CNY"
        input = 7
        output = 7
        [[models.periods]]
        from = 2025-02-01T00:00:00Z
        source = "https://acme.example/pricing"
        checked = 2025-02-02
        input = 2
        output = 2
        [[models.periods]]
        from = 2025-05-01T00:00:00Z
        source = "https://acme.example/zh"
        checked = 2025-05-02
        currency = "CNY"
        input = 8
        output = 8
    """)

    def total(at: datetime, currency: str | None = None) -> Decimal:
        return catalog.quote(Workload(model="m", input_tokens=1_000_000, at=at, currency=currency)).total

    march = datetime(2025, 3, 15, tzinfo=UTC)
    assert (total(march), total(march, "USD"), total(march, "CNY")) == (2, 2, 7)
    with pytest.raises(NoPriceError, match="no CNY price before 2025-03-01"):
        total(datetime(2025, 3, 1, tzinfo=UTC) - US, "CNY")
    with pytest.raises(NoPriceError, match="no CNY price after 2025-04-01"):
        total(datetime(2025, 4, 1, tzinfo=UTC), "CNY")
    assert total(datetime(2025, 5, 1, tzinfo=UTC), "CNY") == 8
    assert total(datetime(2025, 2, 1, tzinfo=UTC) - US) == 1


# -- window exception dates ---------------------------------------------------------------------


def windowed(timezone_name: str, start: str, end: str, except_dates: str, days: str = "[]") -> Catalog:
    return Catalog.loads(f"""
provider = "acme"
[[models]]
id = "m"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 1
output = 1
[[models.periods.windows]]
name = "peak"
timezone = "{timezone_name}"
start = {start}
end = {end}
days = {days}
except_dates = {except_dates}
input = 2
output = 2
""")


def window_at(catalog: Catalog, at: datetime) -> str | None:
    return catalog.quote(Workload(model="m", input_tokens=1, at=at)).window


SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = '["mon", "tue", "wed", "thu", "fri"]'


def local(zone: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=zone, fold=fold)  # type: ignore[misc]


def test_a_holiday_in_a_weekday_window_in_shanghai() -> None:
    catalog = windowed("Asia/Shanghai", "09:00:00", "12:00:00", "[2025-10-01, 2025-10-02]", WEEKDAYS)
    # Tuesday 30 September is a working day; Wednesday 1 and Thursday 2 October are holidays.
    assert window_at(catalog, local(SHANGHAI, 2025, 9, 30, 9)) == "peak"
    assert window_at(catalog, local(SHANGHAI, 2025, 9, 30, 11, 59, 59, 999999)) == "peak"
    for day in (1, 2):
        assert window_at(catalog, local(SHANGHAI, 2025, 10, day, 8, 59, 59, 999999)) is None
        assert window_at(catalog, local(SHANGHAI, 2025, 10, day, 9)) is None
        assert window_at(catalog, local(SHANGHAI, 2025, 10, day, 11, 59, 59, 999999)) is None
    assert window_at(catalog, local(SHANGHAI, 2025, 10, 3, 9)) == "peak"
    # The same instants in UTC: 01:00Z is 09:00 in Shanghai.
    assert window_at(catalog, datetime(2025, 10, 1, 1, tzinfo=UTC)) is None
    assert window_at(catalog, datetime(2025, 10, 3, 1, tzinfo=UTC)) == "peak"


def test_a_holiday_on_a_window_past_midnight_skips_the_run_that_starts_that_day() -> None:
    catalog = windowed("Asia/Shanghai", "22:00:00", "06:00:00", "[2025-10-01]")
    assert window_at(catalog, local(SHANGHAI, 2025, 10, 1, 5, 59, 59, 999999)) == "peak"  # began 30 Sep
    assert window_at(catalog, local(SHANGHAI, 2025, 10, 1, 22)) is None
    assert window_at(catalog, local(SHANGHAI, 2025, 10, 2, 5, 59, 59, 999999)) is None  # began 1 Oct
    assert window_at(catalog, local(SHANGHAI, 2025, 10, 2, 22)) == "peak"


def test_a_holiday_on_a_dst_change_day() -> None:
    zone = ZoneInfo("America/New_York")
    catalog = windowed("America/New_York", "23:00:00", "02:00:00", "[2025-03-08, 2025-11-01]")
    # 1 November: the run starting 23:00 EDT ends at 02:00 EST on the 2nd, after 01:00-02:00 twice.
    assert window_at(catalog, local(zone, 2025, 11, 1, 23)) is None
    assert window_at(catalog, local(zone, 2025, 11, 2, 1, 30, fold=0)) is None  # EDT
    assert window_at(catalog, local(zone, 2025, 11, 2, 1, 30, fold=1)) is None  # EST, an hour later
    assert window_at(catalog, local(zone, 2025, 10, 31, 23)) == "peak"
    assert window_at(catalog, local(zone, 2025, 11, 2, 23)) == "peak"
    assert window_at(catalog, local(zone, 2025, 11, 3, 1, 59, 59, 999999)) == "peak"
    # 8 March: the run that starts at 23:00 EST runs into the night the clocks go forward.
    assert window_at(catalog, local(zone, 2025, 3, 8, 23)) is None
    assert window_at(catalog, datetime(2025, 3, 9, 6, 30, tzinfo=UTC)) is None  # 01:30 EST on the 9th
    assert window_at(catalog, datetime(2025, 3, 10, 5, 30, tzinfo=UTC)) == "peak"  # 01:30 EDT on the 10th
    assert window_at(catalog, local(zone, 2025, 3, 7, 23, 30)) == "peak"


HOLIDAYS = (date(2025, 1, 28), date(2025, 1, 29), date(2025, 5, 1), date(2025, 10, 1))
WITH = windowed("Asia/Shanghai", "22:00:00", "06:00:00", "[" + ", ".join(d.isoformat() for d in HOLIDAYS) + "]")
WITHOUT = windowed("Asia/Shanghai", "22:00:00", "06:00:00", "[]")


@given(st.datetimes(datetime(2025, 1, 1), datetime(2026, 1, 1), timezones=st.just(UTC)))
def test_an_exception_date_removes_exactly_the_run_that_starts_on_it(at: datetime) -> None:
    plain = window_at(WITHOUT, at)
    with_holidays = window_at(WITH, at)
    here = at.astimezone(SHANGHAI)
    started = here.date() if here.hour >= 22 else here.date() - timedelta(days=1)
    assert with_holidays == (None if started in HOLIDAYS else plain)

"""The loader's rules for routes, shutdowns, window exception dates and second price lists.

Like ``test_engine_catalog_errors``: each case edits one line of a valid catalog (``VALID``), the
edit is asserted to apply, and the error must name the file and the field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pricing import Catalog, CatalogError
from pricing.schema import CatalogFile
from pricing.tomlwrite import dumps

VALID = """\
provider = "acme"

[[models]]
id = "old"
aliases = ["old-latest"]
shutdown = 2025-06-01T00:00:00Z
shutdown_source = "https://acme.example/deprecations"

[[models.periods]]
from = 2025-01-01T00:00:00Z
until = 2025-06-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 1
output = 2

[[models.periods.windows]]
name = "peak"
timezone = "Asia/Shanghai"
start = 09:00:00
end = 12:00:00
days = ["mon", "tue", "wed", "thu", "fri"]
except_dates = [2025-01-28, 2025-01-29]
input = 2
output = 4

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/zh/pricing"
checked = 2025-01-02
currency = "CNY"
input = 7
output = 14

[[models.routes]]
from = 2025-06-01T00:00:00Z
to = "New-Alias"
source = "https://acme.example/deprecations"
checked = 2025-06-02
note = "old is served by new"

[[models.routes]]
from = 2025-09-01T00:00:00+08:00
to = "newer"
source = "https://acme.example/deprecations"
checked = 2025-09-02

[[models]]
id = "new"
aliases = ["new-alias"]

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 0.5
output = 1

[[models]]
id = "newer"

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 0.25
output = 0.5
"""

M0 = "$.models[0]"
WINDOW = f"{M0}.periods[0].windows[0]"


def edit(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once in the catalog"
    return text.replace(old, new)


def test_the_valid_catalog_loads_with_every_new_field() -> None:
    old = Catalog.loads(VALID).model("old")
    assert old.shutdown == datetime(2025, 6, 1, tzinfo=UTC)
    assert old.shutdown_source == "https://acme.example/deprecations"
    assert [(r.to, r.starts) for r in old.routes] == [
        ("New-Alias", datetime(2025, 6, 1, tzinfo=UTC)),
        ("newer", datetime.fromisoformat("2025-09-01T00:00:00+08:00")),
    ]
    assert old.routes[0].note == "old is served by new" and old.routes[1].note == ""
    assert old.periods[0].windows[0].except_dates == (date(2025, 1, 28), date(2025, 1, 29))
    assert [p.currency for p in old.periods] == ["USD", "CNY"]


def test_the_new_fields_round_trip_through_tomlwrite() -> None:
    from pricing.loader import parse_catalog_file

    parsed = parse_catalog_file("acme.toml", VALID)
    again = parse_catalog_file("again.toml", dumps(parsed))
    assert again == parsed
    assert isinstance(again, CatalogFile)


CASES = {
    # routes
    "route to an unknown model": (edit('to = "newer"', 'to = "newest"'), f"{M0}.routes[1].to", "'newest' is not a model of provider 'acme' in this file"),
    "route to itself": (edit('to = "newer"', 'to = "old"'), f"{M0}.routes[1].to", "not the model itself"),
    "route to its own alias": (edit('to = "newer"', 'to = "OLD-latest"'), f"{M0}.routes[1].to", "not the model itself"),
    "route to a provider-qualified name": (edit('to = "newer"', 'to = "acme/newer"'), f"{M0}.routes[1].to", "is not a model"),
    "routes out of order": (edit("from = 2025-09-01T00:00:00+08:00", "from = 2025-05-01T00:00:00Z"), f"{M0}.routes[1].from", "routes must be in time order"),
    "two routes at one instant": (edit("from = 2025-09-01T00:00:00+08:00", "from = 2025-06-01T08:00:00+08:00"), f"{M0}.routes[1].from", "time order"),
    "naive route instant": (edit("from = 2025-09-01T00:00:00+08:00", "from = 2025-09-01T00:00:00"), f"{M0}.routes[1].from", "no UTC offset"),
    "route from a date": (edit("from = 2025-09-01T00:00:00+08:00", "from = 2025-09-01"), f"{M0}.routes[1].from", "Expected `datetime`"),
    "route source not a URL": (edit('source = "https://acme.example/deprecations"\nchecked = 2025-09-02', 'source = "x"\nchecked = 2025-09-02'), f"{M0}.routes[1].source", "must be the URL"),
    "route source missing": (edit('source = "https://acme.example/deprecations"\nchecked = 2025-09-02\n', "checked = 2025-09-02\n"), f"{M0}.routes[1]", "missing required field `source`"),
    "route checked missing": (edit("checked = 2025-09-02\n", ""), f"{M0}.routes[1]", "missing required field `checked`"),
    "route without target": (edit('to = "newer"\n', ""), f"{M0}.routes[1]", "missing required field `to`"),
    "unknown key in a route": (edit('to = "newer"', 'to = "newer"\nrate = 1'), f"{M0}.routes[1]", "unknown field `rate`"),
    # shutdown
    "naive shutdown": (edit("shutdown = 2025-06-01T00:00:00Z", "shutdown = 2025-06-01T00:00:00"), f"{M0}.shutdown", "no UTC offset"),
    "shutdown as a date": (edit("shutdown = 2025-06-01T00:00:00Z", "shutdown = 2025-06-01"), f"{M0}.shutdown", "Expected `datetime | null`"),
    "shutdown without source": (edit('shutdown_source = "https://acme.example/deprecations"\n', ""), f"{M0}.shutdown_source", "give the URL where the shutdown was announced"),
    "shutdown source not a URL": (edit('shutdown_source = "https://acme.example/deprecations"', 'shutdown_source = "the blog"'), f"{M0}.shutdown_source", "must be a URL"),
    "shutdown source without shutdown": (edit("shutdown = 2025-06-01T00:00:00Z\n", ""), f"{M0}.shutdown_source", "without shutdown"),
    # window exception dates
    "except dates out of order": (edit("except_dates = [2025-01-28, 2025-01-29]", "except_dates = [2025-01-29, 2025-01-28]"), f"{WINDOW}.except_dates[1]", "ascending order"),
    "except date twice": (edit("except_dates = [2025-01-28, 2025-01-29]", "except_dates = [2025-01-28, 2025-01-28]"), f"{WINDOW}.except_dates[1]", "once each"),
    "except date with a time": (edit("except_dates = [2025-01-28, 2025-01-29]", "except_dates = [2025-01-28T00:00:00Z]"), f"{WINDOW}.except_dates[0]", "Expected `date`"),
    # second price list
    "periods of one currency collide": (edit('currency = "CNY"', 'currency = "USD"'), f"{M0}.periods[1].from", "time order"),
    "periods of one currency out of order": (edit("[[models.routes]]\nfrom = 2025-06-01", '[[models.periods]]\nfrom = 2024-06-01T00:00:00Z\nsource = "https://acme.example/zh/pricing"\nchecked = 2025-01-02\ncurrency = "CNY"\ninput = 7\noutput = 14\n\n[[models.routes]]\nfrom = 2025-06-01'), f"{M0}.periods[2].from", "time order"),
}


@pytest.mark.parametrize(("text", "path", "reason"), list(CASES.values()), ids=list(CASES))
def test_each_rule_names_file_and_field(text: str, path: str, reason: str) -> None:
    with pytest.raises(CatalogError) as info:
        Catalog.loads(text, names=["bad.toml"])
    error = info.value
    assert (error.file, error.path) == ("bad.toml", path), str(error)
    assert reason in error.reason, error.reason


def test_a_route_target_in_another_file_of_the_provider_is_refused() -> None:
    # A route is read with its file: the target must be in the same file, so the file alone loads.
    moved = VALID.split('[[models]]\nid = "newer"')[0]
    other = 'provider = "acme"\n[[models]]\nid = "newer"\n' + VALID.split('[[models]]\nid = "newer"\n')[1]
    with pytest.raises(CatalogError) as info:
        Catalog.loads(moved, other, names=["acme.toml", "acme-more.toml"])
    assert (info.value.file, info.value.path) == ("acme.toml", f"{M0}.routes[1].to")


def test_a_currency_may_start_later_than_another() -> None:
    later = edit('from = 2025-01-01T00:00:00Z\nsource = "https://acme.example/zh/pricing"',
                 'from = 2025-03-01T00:00:00Z\nsource = "https://acme.example/zh/pricing"')
    old = Catalog.loads(later).model("old")
    assert old.periods[1].starts == datetime(2025, 3, 1, tzinfo=UTC)

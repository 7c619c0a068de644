"""Every loader rule refuses a bad catalog with a message naming the file and the field path.

Each case edits one line of a valid catalog (``VALID``); the edit is asserted to apply, so a case
cannot silently test the valid file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pricing import Catalog, CatalogError, PricingError

VALID = """\
provider = "acme"
provider_name = "Acme"

[[models]]
id = "m"
aliases = ["m-alias"]

[[models.periods]]
from = 2025-01-01T00:00:00Z
until = 2025-06-01T00:00:00Z
source = "https://acme.example/pricing/2025"
checked = 2025-01-02
currency = "USD"
input = 1.25
cached_input = 0.5
output = 2

[[models.periods.tiers]]
threshold = 1000
boundary = ">"
input = 2.25
output = 4

[[models.periods.tiers]]
threshold = 2000
boundary = ">="
input = 3
output = 6

[[models.periods.windows]]
name = "off-peak"
timezone = "Asia/Shanghai"
start = 22:00:00
end = 06:00:00
days = ["mon", "fri"]
from = 2025-02-01T00:00:00Z
until = 2025-03-01T00:00:00Z
source = "https://acme.example/off-peak"
input = 0.625
output = 1

[models.periods.batch]
input = 0.75
output = 1.5

[[models.periods]]
from = 2025-06-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-06-02
input = 1.5
output = 3

[[models]]
id = "n"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 1.75
output = 2
"""

P0 = "$.models[0].periods[0]"
P1 = "$.models[0].periods[1]"
WINDOW = f"{P0}.windows[0]"


def edit(old: str, new: str, text: str = VALID) -> str:
    assert text.count(old) == 1, f"{old!r} must occur exactly once in the catalog"
    return text.replace(old, new)


def refused(text: str, name: str = "bad.toml") -> CatalogError:
    with pytest.raises(CatalogError) as info:
        Catalog.loads(text, names=[name])
    return info.value


def assert_names(error: CatalogError, path: str, reason: str, file: str = "bad.toml") -> None:
    assert error.file == file
    assert error.path == path
    where = f"{file}: {path}: " if path else f"{file}: "
    assert str(error).startswith(where), str(error)
    assert reason in error.reason, error.reason


def test_the_valid_catalog_loads() -> None:
    catalog = Catalog.loads(VALID, names=["good.toml"])
    assert [m.id for m in catalog.models()] == ["m", "n"]
    assert catalog.sources == ("good.toml",)


CASES = {
    # unknown keys, at each level
    "unknown key in a period": (edit('currency = "USD"', 'currency = "USD"\ncolour = "red"'), P0, "unknown field `colour`"),
    "unknown key at the top": (edit('provider_name = "Acme"', 'provider_nmae = "Acme"'), "$", "unknown field `provider_nmae`"),
    "unknown key in a window": (edit('name = "off-peak"', 'name = "off-peak"\nweekdays = ["mon"]'), WINDOW, "unknown field `weekdays`"),
    "unknown key in a tier": (edit('boundary = ">"\n', 'boundary = ">"\nlimit = 5\n'), f"{P0}.tiers[0]", "unknown field `limit`"),
    # prices
    "negative price": (edit("input = 1.25", "input = -1.25"), f"{P0}.input", ">= 0, got -1.25"),
    "negative tier price": (edit("input = 2.25", "input = -2.25"), f"{P0}.tiers[0].input", ">= 0"),
    "negative window price": (edit("input = 0.625", "input = -0.625"), f"{WINDOW}.input", ">= 0"),
    "negative batch price": (edit("input = 0.75", "input = -0.75"), f"{P0}.batch.input", ">= 0"),
    "negative zero price": (edit("input = 1.25", "input = -0.0"), f"{P0}.input", "got -0.0"),
    "NaN price": (edit("cached_input = 0.5", "cached_input = nan"), f"{P0}.cached_input", "finite"),
    "infinite price": (edit("output = 3", "output = inf"), f"{P1}.output", "finite"),
    "minus infinite price": (edit("output = 1.5", "output = -inf"), f"{P0}.batch.output", "finite"),
    "price with 21 decimals": (edit("input = 1.25", "input = 0.000000000000000000001"), f"{P0}.input", "more than 20 digits after the point"),
    "price of 10**12": (edit("input = 1.25", "input = 1e12"), f"{P0}.input", "not below 1000000000000"),
    "price as text": (edit("input = 1.25", 'input = "cheap"'), f"{P0}.input", "Invalid decimal"),
    # periods
    "overlapping periods": (edit("until = 2025-06-01T00:00:00Z", "until = 2025-07-01T00:00:00Z"), f"{P1}.from", "overlaps the previous period"),
    "unordered periods": (edit("from = 2025-06-01T00:00:00Z", "from = 2024-06-01T00:00:00Z"), f"{P1}.from", "time order"),
    "two periods with one start": (edit("from = 2025-06-01T00:00:00Z", "from = 2025-01-01T00:00:00Z"), f"{P1}.from", "time order"),
    "until before from": (edit("until = 2025-06-01T00:00:00Z", "until = 2024-12-01T00:00:00Z"), f"{P0}.until", "is not after from"),
    "until equal to from": (edit("until = 2025-06-01T00:00:00Z", "until = 2025-01-01T00:00:00Z"), f"{P0}.until", "is not after from"),
    "naive from": (edit("from = 2025-06-01T00:00:00Z", "from = 2025-06-01T00:00:00"), f"{P1}.from", "no UTC offset"),
    "naive until": (edit("until = 2025-06-01T00:00:00Z", "until = 2025-06-01T00:00:00"), f"{P0}.until", "no UTC offset"),
    "naive window from": (edit("from = 2025-02-01T00:00:00Z", "from = 2025-02-01T00:00:00"), f"{WINDOW}.from", "no UTC offset"),
    "naive window until": (edit("until = 2025-03-01T00:00:00Z", "until = 2025-03-01T00:00:00"), f"{WINDOW}.until", "no UTC offset"),
    "a date for from": (edit("from = 2025-06-01T00:00:00Z", "from = 2025-06-01"), f"{P1}.from", "Expected `datetime`"),
    "bad currency, lower case": (edit('currency = "USD"', 'currency = "usd"'), f"{P0}.currency", "ISO 4217"),
    "bad currency, too short": (edit('currency = "USD"', 'currency = "US"'), f"{P0}.currency", "ISO 4217"),
    "bad currency, a word": (edit('currency = "USD"', 'currency = "DOLLAR"'), f"{P0}.currency", "ISO 4217"),
    "source not a URL": (edit('"https://acme.example/pricing/2025"', '"acme.example/pricing"'), f"{P0}.source", "must be the URL"),
    "window source not a URL": (edit('"https://acme.example/off-peak"', '"ftp://acme.example"'), f"{WINDOW}.source", "must be the URL"),
    "missing source": (edit('source = "https://acme.example/pricing/2025"\n', ""), P0, "missing required field `source`"),
    "missing checked": (edit("checked = 2025-01-02\ncurrency", "currency"), P0, "missing required field `checked`"),
    "missing output in batch": (edit("output = 1.5\n", ""), f"{P0}.batch", "missing required field `output`"),
    "missing provider": (edit('provider = "acme"\n', ""), "$", "missing required field `provider`"),
    # models and names
    "provider not an id": (edit('provider = "acme"', 'provider = "Acme Inc"'), "$.provider", "is not an id"),
    "model id not an id": (edit('id = "n"', 'id = "N N"'), "$.models[1].id", "is not an id"),
    "model without periods": (edit('id = "n"', 'id = "n"\nperiods = []').split("[[models.periods]]\nfrom = 2025-01-01T00:00:00Z\nsource = \"https://acme.example/pricing\"\nchecked = 2025-01-02\ninput = 1.75")[0], "$.models[1].periods", "has no price periods"),
    "model sets its provider": (edit('id = "n"', 'id = "n"\nprovider = "bolt"'), "$.models[1].provider", "set the provider once"),
    "alias with spaces": (edit('aliases = ["m-alias"]', 'aliases = [" m-alias"]'), "$.models[0].aliases[0]", "surrounding spaces"),
    "empty alias": (edit('aliases = ["m-alias"]', 'aliases = ["m-alias", ""]'), "$.models[0].aliases[1]", "empty"),
    "alias used by another model": (edit('id = "n"', 'id = "n"\naliases = ["M-Alias"]'), "$.models[1].aliases[0]", "used twice in provider 'acme'"),
    "alias equal to another model's id": (edit('id = "n"', 'id = "n"\naliases = ["m"]'), "$.models[1].aliases[0]", "'m' is used twice"),
    "alias equal to its own id": (edit('aliases = ["m-alias"]', 'aliases = ["M"]'), "$.models[0].aliases[0]", "used twice"),
    "duplicate model": (edit('id = "n"', 'id = "m"'), "$.models[1].id", "'m' is used twice in provider 'acme'"),
    # windows
    "bad time zone": (edit('"Asia/Shanghai"', '"Asia/Shanghia"'), f"{WINDOW}.timezone", "unknown time zone 'Asia/Shanghia'"),
    "empty time zone": (edit('"Asia/Shanghai"', '""'), f"{WINDOW}.timezone", "unknown time zone"),
    "time zone path": (edit('"Asia/Shanghai"', '"../../etc/passwd"'), f"{WINDOW}.timezone", "unknown time zone"),
    "time zone that is a folder": (edit('"Asia/Shanghai"', '"America"'), f"{WINDOW}.timezone", "unknown time zone"),
    "empty window, start == end": (edit("end = 06:00:00", "end = 22:00:00"), f"{WINDOW}.end", "end equals start"),
    "duplicate weekday": (edit('days = ["mon", "fri"]', 'days = ["mon", "fri", "mon"]'), f"{WINDOW}.days", "listed twice"),
    "unknown weekday": (edit('days = ["mon", "fri"]', 'days = ["mon", "funday"]'), f"{WINDOW}.days[1]", "Invalid enum value 'funday'"),
    "capitalised weekday": (edit('days = ["mon", "fri"]', 'days = ["Mon"]'), f"{WINDOW}.days[0]", "Invalid enum value 'Mon'"),
    "window until before from": (edit("until = 2025-03-01T00:00:00Z", "until = 2025-01-01T00:00:00Z"), f"{WINDOW}.until", "until must be after from"),
    "two windows with one name": (edit("[models.periods.batch]", '[[models.periods.windows]]\nname = "off-peak"\nstart = 01:00:00\nend = 02:00:00\ninput = 1\noutput = 1\n\n[models.periods.batch]'), f"{P0}.windows[1].name", "used twice in this period"),
    "time of day as text": (edit("start = 22:00:00", 'start = "22:00"'), f"{WINDOW}.start", "Invalid"),
    # tiers
    "tiers not increasing": (edit("threshold = 2000", "threshold = 500"), f"{P0}.tiers[1].threshold", "increasing threshold order"),
    "tiers with one threshold": (edit("threshold = 2000", "threshold = 1000"), f"{P0}.tiers[1].threshold", "increasing threshold order"),
    "tier threshold zero": (edit("threshold = 1000", "threshold = 0"), f"{P0}.tiers[0].threshold", "positive token count"),
    "tier threshold not an integer": (edit("threshold = 1000", "threshold = 1000.5"), f"{P0}.tiers[0].threshold", "Expected `int`"),
    "tier boundary missing": (edit('boundary = ">"\n', ""), f"{P0}.tiers[0]", "missing required field `boundary`"),
    "tier boundary unknown": (edit('boundary = ">"\n', 'boundary = "=>"\n'), f"{P0}.tiers[0].boundary", "Invalid enum value '=>'"),
}


@pytest.mark.parametrize(("text", "path", "reason"), list(CASES.values()), ids=list(CASES))
def test_each_rule_names_file_and_field(text: str, path: str, reason: str) -> None:
    assert_names(refused(text), path, reason)


@pytest.mark.parametrize(
    "text",
    [edit("input = 1.25", "input = 1.25.3"), edit('id = "n"', 'id = "n'), edit("[[models]]\nid = \"n\"", "[[models]\nid = \"n\""), "= 1"],
    ids=["bad number", "open string", "bad header", "no key"],
)
def test_invalid_toml_names_the_file_and_line(text: str) -> None:
    error = refused(text)
    assert error.file == "bad.toml" and error.path == ""
    assert str(error).startswith("bad.toml: not valid TOML: ")
    assert "line" in error.reason  # tomllib says where: "(at line 14, column 13)"


def test_not_utf8() -> None:
    with pytest.raises(CatalogError) as info:
        Catalog.loads(VALID.encode() + b"\nnote = '\xff'\n", names=["latin.toml"])
    assert str(info.value).startswith("latin.toml: not UTF-8 text")


def test_a_price_with_20_decimals_or_just_below_the_limit_loads() -> None:
    text = edit("input = 1.25", "input = 999999999999.99999999999999999999")
    text = edit("output = 3", "output = 0.00000000000000000001", text)
    period = Catalog.loads(text).model("m").periods[0]
    assert str(period.input) == "999999999999.99999999999999999999"
    assert str(Catalog.loads(text).model("m").periods[1].output) == "1E-20"


def test_a_price_given_as_a_decimal_string_is_still_exact() -> None:
    # msgspec accepts a decimal in a string; it must come through digit for digit.
    text = edit("input = 1.25", 'input = "1.2500"')
    assert str(Catalog.loads(text).model("m").periods[0].input) == "1.2500"


# -- across files --------------------------------------------------------------------------------

SECOND_FILE = """\
provider = "acme"
[[models]]
id = "k"
aliases = ["{alias}"]
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://acme.example/pricing"
checked = 2025-01-02
input = 1
output = 1
"""


def test_duplicate_model_across_files_of_one_provider() -> None:
    other = SECOND_FILE.replace('id = "k"', 'id = "n"').replace('aliases = ["{alias}"]\n', "")
    with pytest.raises(CatalogError) as info:
        Catalog.loads(VALID, other, names=["acme.toml", "acme-more.toml"])
    assert_names(info.value, "$.models[0].id", "'n' of provider 'acme' is already used in acme.toml",
                 file="acme-more.toml")


def test_alias_collision_across_files_of_one_provider() -> None:
    with pytest.raises(CatalogError) as info:
        Catalog.loads(VALID, SECOND_FILE.format(alias="M-ALIAS"), names=["acme.toml", "acme-more.toml"])
    assert_names(info.value, "$.models[0].aliases[0]", "already used in acme.toml", file="acme-more.toml")


def test_the_same_name_at_another_provider_is_fine() -> None:
    other = SECOND_FILE.format(alias="m").replace('provider = "acme"', 'provider = "bolt"')
    catalog = Catalog.loads(VALID, other)
    assert catalog.model("bolt/m").id == "k"


# -- files on disk -------------------------------------------------------------------------------


def test_load_names_the_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "acme.toml"
    path.write_text(edit('currency = "USD"', 'currency = "usd"'))
    with pytest.raises(CatalogError) as info:
        Catalog.load(path)
    assert info.value.file == "acme.toml"
    assert str(info.value).startswith(f"acme.toml: {P0}.currency: ")


def test_load_a_folder(tmp_path: Path) -> None:
    (tmp_path / "acme.toml").write_text(VALID)
    (tmp_path / "notes.txt").write_text("not a catalog")
    assert [m.id for m in Catalog.load(tmp_path).models()] == ["m", "n"]


@pytest.mark.parametrize("kind", ["missing", "empty folder"])
def test_load_nothing(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nowhere" if kind == "missing" else tmp_path
    with pytest.raises(CatalogError) as info:
        Catalog.load(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(str(path))


def test_catalog_errors_are_pricing_errors() -> None:
    assert issubclass(CatalogError, PricingError)

"""Round trips: catalog files through ``tests.tomlwrite``, quotes and workloads through JSON and msgpack."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing import (
    Catalog,
    CatalogError,
    CatalogFile,
    Model,
    NoPriceError,
    Period,
    Quote,
    RankedQuote,
    Usage,
    Window,
    Workload,
)
from pricing.loader import parse_catalog_file
from tests.strategies import OFFSETS, catalog_files, catalogs, fixed_offset_instants, instants_near, usages
from tests.tomlwrite import dumps

AT = datetime(2025, 6, 1, tzinfo=UTC)


# -- catalog files through the TOML writer -------------------------------------------------------------


@given(catalog_files())
def test_written_catalog_files_load_back_equal(catalog_file: CatalogFile) -> None:
    text = dumps(catalog_file)
    assert parse_catalog_file("written.toml", text) == catalog_file
    # Writing what was read gives the same text: nothing is lost or reordered on the way.
    assert dumps(parse_catalog_file("written.toml", text)) == text


@given(catalogs())
def test_written_catalogs_load_back_equal(generated: tuple[CatalogFile, ...]) -> None:
    catalog = Catalog.loads(*(dumps(f) for f in generated))
    expected = sorted((m for f in generated for m in f.models), key=lambda m: f"{m.provider}/{m.id}")
    assert list(catalog.models()) == expected
    assert catalog.providers() == tuple(sorted(f.provider for f in generated))


SHIPPED = sorted(Path(str(files("pricing") / "data")).glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_catalog_files_round_trip(path: Path) -> None:
    # Whatever the shipped files hold, writing them back loses nothing.
    original = parse_catalog_file(path.name, path.read_bytes())
    assert parse_catalog_file(path.name, dumps(original)) == original


def small_file(**period: object) -> CatalogFile:
    fields: dict[str, object] = {"starts": AT, "source": "https://example.com", "checked": date(2025, 6, 2),
                                 "input": Decimal("0.55"), "output": Decimal("2.19"), **period}
    return CatalogFile(provider="p", models=(Model(id="m", periods=(Period(**fields),)),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [("0.55", "0.55"), ("1.10", "1.10"), ("0.000000075", "0.000000075"), ("7.5E-8", "0.000000075"),
     ("1E-7", "0.0000001"), ("1E-20", "0.00000000000000000001"), ("1.2E+3", "1.2E+3"), ("15", "15"), ("0", "0"),
     ("0.00", "0.00"), ("0E-7", "0.0000000"), ("999999999999.99999999999999999999", "999999999999.99999999999999999999")],
)
def test_decimals_keep_their_exact_digits(value: str, text: str) -> None:
    written = dumps(small_file(input=Decimal(value)))
    assert f"\ninput = {text}\n" in written
    (model,) = parse_catalog_file("x.toml", written).models
    # The same digits and exponent, not merely an equal value.
    assert model.periods[0].input.as_tuple() == Decimal(value).as_tuple()


def test_instants_dates_and_times() -> None:
    window = Window(name="night", start=time(16, 30), end=time(0, 30, 0, 250), timezone="Asia/Shanghai",
                    days=("mon", "tue"), starts=datetime(2025, 2, 26, 16, 30, tzinfo=timezone(timedelta(hours=8))),
                    until=datetime(2025, 9, 5, 16, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
                    input=Decimal("0.135"), output=Decimal("0.55"))
    text = dumps(small_file(windows=(window,), until=datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))))
    for line in ("from = 2025-06-01T00:00:00Z", "until = 2026-01-01T00:00:00Z", "checked = 2025-06-02",
                 "start = 16:30:00", "end = 00:30:00.000250", 'days = ["mon", "tue"]',
                 "from = 2025-02-26T16:30:00+08:00", "until = 2025-09-05T16:00:00.123456-09:30",
                 "[[models.periods.windows]]"):
        assert f"\n{line}\n" in text, line
    assert parse_catalog_file("x.toml", text).models[0].periods[0].windows == (window,)


def test_arrays_of_tables_nest_in_order() -> None:
    generated = parse_catalog_file("x.toml", """
provider = "p"
[[models]]
id = "a"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com"
checked = 2025-01-01
input = 1
output = 2
[[models.periods.tiers]]
threshold = 10
boundary = ">"
input = 3
output = 4
[models.periods.batch]
input = 0.5
output = 1
[[models.periods.batch.tiers]]
threshold = 10
boundary = ">="
input = 1.5
output = 2
[[models.periods]]
from = 2025-02-01T00:00:00Z
source = "https://example.com"
checked = 2025-02-01
input = 5
output = 6
[[models]]
id = "b"
[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com"
checked = 2025-01-01
input = 7
output = 8
""")
    text = dumps(generated)
    headers = [line for line in text.splitlines() if line.startswith("[")]
    assert headers == ["[[models]]", "[[models.periods]]", "[[models.periods.tiers]]", "[models.periods.batch]",
                       "[[models.periods.batch.tiers]]", "[[models.periods]]", "[[models]]", "[[models.periods]]"]
    assert parse_catalog_file("x.toml", text) == generated


@pytest.mark.parametrize("note", ['say "hi"', "back\\slash", "line\nbreak", "tab\there", "bell\x07", "del\x7f",
                                  "nul\x00", "unicode: 价格 ✓ 😀", "'single'", '"""', "\\u0041", "trailing\\"])
def test_strings_are_escaped(note: str) -> None:
    text = dumps(small_file(note=note))
    assert tomllib.loads(text)["models"][0]["periods"][0]["note"] == note
    assert parse_catalog_file("x.toml", text).models[0].periods[0].note == note


def test_defaults_are_left_out_and_the_provider_is_written_once() -> None:
    text = dumps(small_file())
    assert "currency" not in text and "until" not in text and "windows" not in text and "note" not in text
    assert text.count("provider") == 1
    loaded = parse_catalog_file("x.toml", text)
    assert loaded.models[0].provider == "p"
    assert dumps(loaded) == text


def test_a_model_without_periods_is_written_and_refused_on_load() -> None:
    text = dumps(CatalogFile(provider="p", models=(Model(id="m", periods=()),)))
    assert "periods = []" in text
    with pytest.raises(CatalogError, match=r"\$\.models\[0\]\.periods: model 'm' has no price periods"):
        parse_catalog_file("x.toml", text)


def test_bad_values_are_written_so_the_loader_can_refuse_them() -> None:
    # The writer is also how the error tests can produce bad files: naive instants, NaN prices.
    text = dumps(small_file(input=Decimal("NaN"), output=Decimal("-Infinity")))
    assert "input = nan\n" in text and "output = -inf\n" in text
    with pytest.raises(CatalogError, match=r"periods\[0\]\.input: price must be a finite number"):
        parse_catalog_file("x.toml", text)
    text = dumps(small_file(starts=datetime(2025, 6, 1)))
    assert "\nfrom = 2025-06-01T00:00:00\n" in text
    with pytest.raises(CatalogError, match=r"periods\[0\]\.from: .* has no UTC offset"):
        parse_catalog_file("x.toml", text)


@pytest.mark.parametrize(
    ("catalog_file", "error"),
    [
        (small_file(input=0.55), TypeError),
        (small_file(starts=datetime(2025, 1, 1, tzinfo=timezone(timedelta(seconds=30)))), ValueError),
        (small_file(windows=(Window(name="w", start=time(1, tzinfo=UTC), end=time(2), input=Decimal(1),
                                    output=Decimal(1)),)), ValueError),
        (small_file(note="lone \ud800 surrogate"), ValueError),
        (small_file(input=Decimal("sNaN")), ValueError),
        (CatalogFile(provider="p", models=(Model(id="m", provider="q", periods=()),)), ValueError),
    ],
    ids=["float price", "offset with seconds", "time with offset", "surrogate", "signalling NaN",
         "model of another provider"],
)
def test_what_toml_cannot_hold_is_refused(catalog_file: CatalogFile, error: type[Exception]) -> None:
    with pytest.raises(error):
        dumps(catalog_file)


# -- quotes and workloads through JSON and msgpack -----------------------------------------------------


@st.composite
def quotes(draw: st.DrawFn) -> tuple[Quote, ...]:
    generated = draw(catalogs(max_files=2, max_models=2, max_periods=2))
    catalog = Catalog.loads(*(dumps(f) for f in generated))
    model = draw(st.sampled_from([m for f in generated for m in f.models]))
    # Fixed offsets: a datetime in a zone, inside a DST fold, never equals one with a fixed offset.
    at = draw(instants_near(model)).astimezone(draw(st.sampled_from(OFFSETS)))
    usage = draw(usages(at=st.just(at)))
    key = f"{model.provider}/{model.id}"
    try:
        quote = catalog.quote(Workload(model=key, **msgspec.structs.asdict(usage)))
    except NoPriceError:
        return ()
    return (quote, *catalog.compare(usage, baseline=key))


@given(quotes())
def test_quotes_survive_json_and_msgpack(generated: tuple[Quote, ...]) -> None:
    for quote in generated:
        kind = type(quote)
        assert msgspec.json.decode(msgspec.json.encode(quote), type=kind) == quote
        assert msgspec.msgpack.decode(msgspec.msgpack.encode(quote), type=kind) == quote
        # Money is a decimal string in JSON, never a binary float.
        raw = msgspec.json.decode(msgspec.json.encode(quote))
        assert raw["total"] == str(quote.total)
        assert all(isinstance(line["amount"], str) and isinstance(line["rate"], str) for line in raw["lines"])


def test_a_quote_in_a_dst_fold_keeps_its_instant() -> None:
    catalog = Catalog.loads(parse_and_dump_small())
    at = datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York"))  # the second 01:30
    quote = catalog.quote(Workload(model="m", output_tokens=1, at=at))
    decoded = msgspec.json.decode(msgspec.json.encode(quote), type=Quote)
    assert decoded.at.utcoffset() == timedelta(hours=-5)
    assert decoded.at.timestamp() == at.timestamp()
    assert msgspec.structs.replace(decoded, at=quote.at) == quote


def parse_and_dump_small() -> str:
    return dumps(small_file())


def test_json_shape_of_a_quote() -> None:
    catalog = Catalog.loads(parse_and_dump_small())
    quote = catalog.quote(Workload(model="m", output_tokens=1_000_000, at=AT))
    raw = msgspec.json.decode(msgspec.json.encode(quote))
    assert raw["total"] == "2.19" and raw["at"] == "2025-06-01T00:00:00Z" and raw["checked"] == "2025-06-02"
    assert msgspec.json.decode(msgspec.json.encode(quote), type=RankedQuote).savings_percent is None


@given(usages(at=st.one_of(st.none(), fixed_offset_instants())), st.sampled_from(["m", "p/m", "deepseek-r1"]))
def test_workloads_survive_json_and_msgpack(usage: Usage, model: str) -> None:
    workload = Workload(model=model, **msgspec.structs.asdict(usage))
    assert msgspec.json.decode(msgspec.json.encode(workload), type=Workload) == workload
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(workload), type=Workload) == workload
    assert msgspec.json.decode(msgspec.json.encode(usage), type=Usage) == usage

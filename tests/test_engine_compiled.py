"""The compiled catalog cache: used only for the exact TOML (and loader) it was made from, never blindly.

The engine only reads it; the service's loads write it (``service.catalog_cache``), as these do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pricing import Catalog, CatalogError, compiled
from service import catalog_cache
from service.api.settings import load_catalog
from tests.support import ACME, ZETA


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(compiled.CACHE_ENV, str(folder))
    return folder


def _catalog_folder(tmp_path: Path, text: str = ACME) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir(exist_ok=True)
    (folder / "acme.toml").write_text(text)
    return folder


def test_a_first_load_compiles_and_the_next_reads_the_same_catalog(tmp_path: Path, cache: Path) -> None:
    folder = _catalog_folder(tmp_path)
    first = load_catalog(str(folder))
    files = list(cache.glob("*.json"))
    assert len(files) == 1 and first.digest.removeprefix("sha256:") in files[0].name
    second = load_catalog(str(folder))
    assert second.models() == first.models() and second.digest == first.digest
    assert compiled.read(first.digest) == list(first.models())


def test_a_changed_toml_is_loaded_afresh(tmp_path: Path, cache: Path) -> None:
    folder = _catalog_folder(tmp_path)
    load_catalog(str(folder))
    (folder / "acme.toml").write_text(ACME.replace("output = 4", "output = 9", 1))
    changed = load_catalog(str(folder))
    assert str(changed.model("alpha").periods[0].output) == "9"
    assert len(list(cache.glob("*.json"))) == 2


def test_a_changed_broken_toml_still_fails_even_with_a_compiled_older_version(tmp_path: Path, cache: Path) -> None:
    folder = _catalog_folder(tmp_path)
    load_catalog(str(folder))
    (folder / "acme.toml").write_text(ACME.replace("input = 3", "input = -3"))
    with pytest.raises(CatalogError):
        load_catalog(str(folder))


@pytest.mark.parametrize("damage", ["truncate", "tamper", "other-digest", "garbage"])
def test_a_damaged_or_tampered_compiled_file_is_ignored_and_rewritten(tmp_path: Path, cache: Path,
                                                                      damage: str) -> None:
    folder = _catalog_folder(tmp_path)
    catalog = load_catalog(str(folder))
    (path,) = cache.glob("*.json")
    data = path.read_bytes()
    head, _, payload = data.partition(b"\n")
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "tamper":  # a price changed without fixing the checksum
        path.write_bytes(head + b"\n" + payload.replace(b'"output":"4"', b'"output":"0"'))
    elif damage == "other-digest":
        header = json.loads(head)
        header["digest"] = "sha256:" + "0" * 64
        path.write_bytes(json.dumps(header).encode() + b"\n" + payload)
    else:
        path.write_bytes(b"[" * 100_000)
    assert compiled.read(catalog.digest) is None
    again = load_catalog(str(folder))
    assert again.models() == catalog.models()
    assert compiled.read(catalog.digest) == list(catalog.models())


def test_the_cache_can_be_off_or_unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _catalog_folder(tmp_path)
    monkeypatch.setenv(compiled.CACHE_ENV, "off")
    assert load_catalog(str(folder)).model("alpha")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(compiled.CACHE_ENV, str(blocker / "cache"))
    assert load_catalog(str(folder)).model("alpha")


def test_the_cache_keeps_a_bounded_number_of_files(tmp_path: Path, cache: Path) -> None:
    folder = _catalog_folder(tmp_path)
    for i in range(catalog_cache.KEEP + 4):
        (folder / "zeta.toml").write_text(ZETA.replace("input = 2", f"input = {i + 1}"))
        load_catalog(str(folder))
    assert len(list(cache.glob("*.json"))) == catalog_cache.KEEP


def test_the_embedded_catalog_compiles_to_what_the_toml_gives(cache: Path) -> None:
    data = Path(compiled.__file__).with_name("data")
    fresh = load_catalog(str(data))
    cached = load_catalog(str(data))
    assert cached.models() == fresh.models()
    for model in cached.models()[:20]:
        for period in model.periods:
            assert period.starts.utcoffset() is not None  # offsets survive the round trip


def test_the_engine_reads_the_cache_but_never_writes_it(tmp_path: Path, cache: Path) -> None:
    folder = _catalog_folder(tmp_path)
    fresh = Catalog.load(folder)
    assert not cache.exists() or list(cache.glob("*.json")) == []
    catalog_cache.save(fresh)
    assert compiled.read(fresh.digest) == list(fresh.models())
    assert Catalog.load(folder).models() == fresh.models()

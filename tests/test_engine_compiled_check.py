"""``compiled.is_current``: the check ``catalog_cache.save`` makes after every load, short of decoding."""

from __future__ import annotations

from pathlib import Path

import pytest

from pricing import Catalog, compiled
from service import catalog_cache
from tests.support import ACME


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(compiled.CACHE_ENV, str(folder))
    return folder


def test_an_intact_file_is_current_and_a_damaged_one_is_not(cache: Path) -> None:
    catalog = Catalog.loads(ACME)
    assert not compiled.is_current(catalog.digest)
    catalog_cache.save(catalog)
    assert compiled.is_current(catalog.digest)
    assert not compiled.is_current("sha256:" + "0" * 64)
    (path,) = cache.glob("*.json")
    head, _, payload = path.read_bytes().partition(b"\n")
    path.write_bytes(head + b"\n" + payload.replace(b'"output":"4"', b'"output":"0"'))
    assert not compiled.is_current(catalog.digest) and compiled.read(catalog.digest) is None
    catalog_cache.save(catalog)  # a file that fails the check is written again
    assert compiled.is_current(catalog.digest)
    assert compiled.read(catalog.digest) == list(catalog.models())


def test_nothing_is_current_with_the_cache_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compiled.CACHE_ENV, "off")
    assert not compiled.is_current(Catalog.loads(ACME).digest)

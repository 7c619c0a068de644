"""Helpers shared by the tests: a small catalog whose every price the tests control, and a client.

Its prices are made up for the tests (no real provider's, in ``tests/fixtures/catalog/``), so they
never change when the shipped catalog does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec
from litestar.testing import TestClient

from pricing import Catalog
from service.api.app import create_app

#: A test catalog folder: two made-up providers whose every price the tests control.
CATALOG_DIR = Path(__file__).parent / "fixtures" / "catalog"
ACME = (CATALOG_DIR / "acme.toml").read_text()
ZETA = (CATALOG_DIR / "zeta.toml").read_text()
#: One model with a time-of-day window in a zone of its own (Asia/Shanghai): the far-instant cases.
ZONED = (CATALOG_DIR / "zoned.toml").read_text()

#: An instant every model above has a price at, outside alpha's night window.
AT = "2025-06-02T12:00:00Z"
#: Inside alpha's night window.
NIGHT = "2025-06-02T23:00:00Z"
JSON = {"content-type": "application/json"}
PROBLEM = "application/problem+json"


def test_catalog() -> Catalog:
    return Catalog.loads(ACME, ZETA, names=["acme.toml", "zeta.toml"])


# pytest would collect a function named test_* imported into a test module: it is a factory.
test_catalog.__test__ = False  # type: ignore[attr-defined]


@contextmanager
def service_client(catalog: Catalog | None = None) -> Iterator[TestClient[Any]]:
    """Litestar's test client on the app over ``catalog`` (the test catalog by default)."""
    with TestClient(create_app(catalog or test_catalog())) as c:
        yield c


def post(client: TestClient[Any], path: str, body: Any) -> Any:
    """POST ``body`` (encoded as JSON unless already bytes) with the JSON content type."""
    content = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return client.post(path, content=content, headers=JSON)

"""Shared by the service and CLI tests: a small catalog whose every price the tests control.

No tests here. Its prices are made up for the tests (no real provider's), so they never change
when the shipped catalog does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from litestar.testing import TestClient

from pricing import Catalog
from service.api.app import create_app

ACME = """
provider = "acme"
provider_name = "Acme"

[[models]]
id = "alpha"
name = "Alpha"
aliases = ["a1"]

[[models.periods]]
from = 2025-01-01T00:00:00Z
source = "https://example.com/acme/pricing"
checked = 2026-11-28
input = 1
cached_input = 0.5
cache_write = 1.25
cache_write_1h = 2
output = 4

[[models.periods.windows]]
name = "night"
timezone = "UTC"
start = 22:00:00
end = 06:00:00
input = 0.5
cached_input = 0.25
output = 2

[[models.periods.tiers]]
threshold = 200000
boundary = ">"
input = 2
output = 8

[models.periods.batch]
input = 0.5
output = 2

[[models]]
id = "beta"
aliases = ["shared"]

[[models.periods]]
from = 2025-01-01T00:00:00Z
until = 2026-01-01T00:00:00Z
source = "https://example.com/acme/pricing"
checked = 2026-11-28
input = 3
output = 6

[[models]]
id = "gamma"

[[models.periods]]
from = 2024-01-01T00:00:00Z
source = "https://example.com/acme/pricing"
checked = 2026-11-28
input = 0.1
output = 0.3
"""

ZETA = """
provider = "zeta"

[[models]]
id = "shared"

[[models.periods]]
from = 2024-06-01T00:00:00Z
source = "https://example.com/zeta/prices"
checked = 2026-11-28
currency = "EUR"
input = 2
output = 5
"""

#: An instant every model above has a price at, outside alpha's night window.
AT = "2025-06-02T12:00:00Z"
#: Inside alpha's night window.
NIGHT = "2025-06-02T23:00:00Z"
JSON = {"content-type": "application/json"}
PROBLEM = "application/problem+json"


def test_catalog() -> Catalog:
    return Catalog.loads(ACME, ZETA, names=["acme.toml", "zeta.toml"])


# pytest would collect a module-level function named test_*: it is a factory, not a test.
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

"""The catalog a worker serves, in one place, swapped whole on reload (SIGHUP)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pricing
from pricing import Catalog, CatalogError
from service import catalog_cache, responses

_log = logging.getLogger("service.reload")
#: The folder ``Catalog.default()`` reads: reloading the embedded catalog re-reads it.
EMBEDDED = Path(pricing.__file__).with_name("data")


class CurrentCatalog:
    """Holds the catalog in use and its health document; ``get`` is what route modules call per request.

    A request calls ``get()`` once and keeps that catalog to the end, so a reload never changes the
    prices under a request in flight: the swap replaces one reference (atomic under the GIL).
    """

    __slots__ = ("_state", "listeners", "path")

    def __init__(self, catalog: Catalog, path: str | None = None) -> None:
        #: Where the catalog was loaded from (None: the embedded one).
        self.path = path
        #: Called with each newly installed catalog (the metrics' catalog info, say).
        self.listeners: list[Callable[[Catalog], None]] = []
        self._state = (catalog, responses.encode_health(catalog))

    def get(self) -> Catalog:
        return self._state[0]

    def health(self) -> bytes:
        """``GET /healthz``'s body for the catalog in use."""
        return self._state[1]

    def install(self, catalog: Catalog) -> None:
        self._state = (catalog, responses.encode_health(catalog))
        for listener in self.listeners:
            listener(catalog)

    def load(self) -> Catalog:
        """The catalog read afresh from where this one came from (blocking; raises ``CatalogError``)."""
        catalog = Catalog.load(EMBEDDED if self.path is None else self.path)
        catalog_cache.save(catalog)
        return catalog

    def reload(self) -> bool:
        """Re-read and install the catalog; on failure keep the old one and log why. True if swapped."""
        old = self.get()
        try:
            new = self.load()
        except CatalogError as exc:
            _log.error("catalog reload refused, still serving %s: %s", old.digest, exc)
            return False
        except Exception as exc:  # an unexpected loader failure must not take the old catalog down
            _log.exception("catalog reload failed, still serving %s: %s", old.digest, exc)
            return False
        self.install(new)
        _log.info("catalog reloaded: %s -> %s (%d models)", old.digest, new.digest, len(new.models()))
        return True

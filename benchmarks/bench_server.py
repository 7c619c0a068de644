"""Serve the quote service or a bare Litestar endpoint on one port, with the service's own settings.

Used by bench_service.py: both apps go through ``service.api.server.run`` with the same ``Settings``,
so they differ only in what the handler does.

    python benchmarks/bench_server.py service 8101
    python benchmarks/bench_server.py bare 8102
"""

from __future__ import annotations

import sys
from typing import Any

from litestar import Litestar, Request, Response, get, post

from pricing import Catalog
from service.api.bodies import BATCH_DECODER, WORKLOAD_DECODER
from service.api.current import CurrentCatalog
from service.api.server import run
from service.api.settings import MAX_BODY_BYTES, Settings

_CONSTANT = b'{"ok":true}'


def create_bare_app() -> Litestar:
    """Same routes and the same msgspec decode of the same bodies; answers a constant."""

    @post("/v1/quotes", status_code=200)
    async def quote(request: Request[Any, Any, Any]) -> Response[bytes]:
        WORKLOAD_DECODER.decode(await request.body())
        return Response(_CONSTANT, media_type="application/json")

    @post("/v1/quotes/batch", status_code=200)
    async def batch(request: Request[Any, Any, Any]) -> Response[bytes]:
        BATCH_DECODER.decode(await request.body())
        return Response(_CONSTANT, media_type="application/json")

    @get("/healthz")
    async def healthz() -> Response[bytes]:
        return Response(_CONSTANT, media_type="application/json")

    return Litestar([quote, batch, healthz], request_max_body_size=MAX_BODY_BYTES, debug=False)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("service", "bare"):
        print("usage: bench_server.py service|bare PORT", file=sys.stderr)
        return 2
    app = CurrentCatalog(Catalog.default()) if argv[0] == "service" else create_bare_app()
    run(app, Settings(port=int(argv[1]), log_level="warning"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

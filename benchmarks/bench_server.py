"""Serve the quote service or a bare Litestar endpoint on one port, with the service's own settings.

Used by bench_service.py: both apps go through ``service.api.server.run`` with the same ``Settings``,
so they differ only in what the handler does.

    python benchmarks/bench_server.py service 8101
    python benchmarks/bench_server.py bare 8102
    python benchmarks/bench_server.py service 8103 2     # two worker processes
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


#: What each worker process builds when the bare app runs with several (uvicorn imports it by name;
#: its workers are spawned with this process's ``sys.path``, which has this folder first).
BARE_FACTORY = "bench_server:create_bare_app"


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[0] not in ("service", "bare"):
        print("usage: bench_server.py service|bare PORT [WORKERS]", file=sys.stderr)
        return 2
    workers = int(argv[2]) if len(argv) == 3 else 1
    settings = Settings(port=int(argv[1]), log_level="warning", workers=workers)
    if argv[0] == "service":
        run(CurrentCatalog(Catalog.default()), settings)
    else:
        run(create_bare_app(), settings, factory=BARE_FACTORY)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Cost of the operations layer (guard: limits, request id, metrics, log decision) per request, in-process.

    .venv/bin/python benchmarks/bench_guard.py              # a few seconds

Drives the ASGI app directly (no sockets, no HTTP parsing) with ``POST /v1/quotes`` of one workload,
alternating rounds of the bare Litestar app and of the same app inside ``service.api.guard.Guard``,
and prints the median microseconds per request of each and their ratio (measured in the same run).
Over a socket the parser and the event loop add a fixed cost to both, so the ratio there is closer
to 1 than this one.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from pricing import Catalog
from service.api.app import create_app
from service.api.guard import Guard

BODY = b'{"model": "gpt-4o", "input_tokens": 1200, "output_tokens": 300, "at": "2025-06-01T12:00:00Z"}'
SCOPE: dict[str, Any] = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
    "path": "/v1/quotes", "raw_path": b"/v1/quotes", "query_string": b"", "root_path": "",
    "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                (b"content-length", str(len(BODY)).encode())],
    "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000),
}


async def _round(app: Any, n: int) -> float:
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    start = time.perf_counter()
    for _ in range(n):
        await app(dict(SCOPE, state={}), receive, send)
    elapsed = time.perf_counter() - start
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses {sorted(set(statuses))}")
    return elapsed / n * 1e6


async def main(rounds: int, n: int) -> None:
    bare = create_app(Catalog.default())
    guarded = Guard(create_app(Catalog.default()), max_concurrent=64, request_timeout=10,  # type: ignore[arg-type]
                    access_log=False)
    await _round(bare, 200)
    await _round(guarded, 200)
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a.append(await _round(bare, n))
        b.append(await _round(guarded, n))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"app alone: {ma:.1f} us/request; inside the guard: {mb:.1f} us/request; "
          f"guard cost {mb - ma:.1f} us; ratio (requests/s guarded / alone) {ma / mb:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.requests))

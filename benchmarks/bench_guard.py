"""Cost per request of the service's layers, in-process: the bare Litestar endpoint, the service's app,
and the app inside the operations layer (``service.api.guard.Guard``: limits, deadline, request id,
metrics, the log decision).

    .venv/bin/python benchmarks/bench_guard.py              # a few seconds

Drives each ASGI app directly (no sockets, no HTTP parsing) with ``POST /v1/quotes`` of one workload,
in alternating rounds, and prints the median microseconds per request of each, in CPU time of this
process (``time.process_time``: on a machine shared with other jobs, wall-clock rounds mostly measure
the other jobs) and in wall-clock time, with ratios measured in the same run:

- **bare**: benchmarks/bench_server.py's endpoint (read the body, decode it into a ``Workload``
  with the service's decoder, answer a constant), what bench_service.py measures against;
- **app**: the service's ``create_app`` (checks the content type, decodes, prices, encodes the quote);
- **guarded**: the same app inside the guard, as ``inference-cost serve`` runs it.

Over a socket the HTTP parsing and the event loop add the same fixed cost to every contender, so
bench_service.py's ratio is closer to 1 than the one here.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_server import create_bare_app

from pricing import Catalog
from service.api.app import create_app
from service.api.guard import Guard
from service.api.server import freeze_startup_objects

BODY = b'{"model": "gpt-4o", "input_tokens": 1200, "output_tokens": 300, "at": "2025-06-01T12:00:00Z"}'
SCOPE: dict[str, Any] = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
    "path": "/v1/quotes", "raw_path": b"/v1/quotes", "query_string": b"", "root_path": "",
    "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                (b"content-length", str(len(BODY)).encode())],
    "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000),
}


async def _round(app: Any, n: int) -> tuple[float, float]:
    """(CPU, wall-clock) microseconds per request over ``n`` requests, each in a task as uvicorn runs it."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    loop = asyncio.get_running_loop()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        await loop.create_task(app(dict(SCOPE, state={}), receive, send))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses {sorted(set(statuses))}")
    return cpu / n * 1e6, wall / n * 1e6


async def main(rounds: int, n: int, parts: bool) -> None:
    apps: dict[str, Callable[..., Any]] = {
        "bare": create_bare_app(),
        "app": create_app(Catalog.default()),
        "guarded": Guard(create_app(Catalog.default()), max_concurrent=64, request_timeout=10,  # type: ignore[arg-type]
                         access_log=False),
    }
    for app in apps.values():  # warm-up
        await _round(app, 300)
    freeze_startup_objects()  # as the server does once the app is built
    cpu: dict[str, list[float]] = {k: [] for k in apps}
    wall: dict[str, list[float]] = {k: [] for k in apps}
    for r in range(rounds):
        names = list(apps)
        for name in names[r % len(names):] + names[:r % len(names)]:  # the order rotates each round
            c, w = await _round(apps[name], n)
            cpu[name].append(c)
            wall[name].append(w)
    print(f"{rounds} rounds of {n:,} requests per app, order rotated; CPU time of the best round (the one "
          "least disturbed by other jobs) and the median\n")
    print("| contender | CPU us/request, best | vs bare (requests/s) | CPU us/request, median | vs bare | "
          "wall us/request, median |")
    print("|---|---|---|---|---|---|")
    best = {k: min(v) for k, v in cpu.items()}
    med = {k: statistics.median(v) for k, v in cpu.items()}
    for name in apps:
        print(f"| {name} | {best[name]:.1f} | {best['bare'] / best[name]:.3f} | {med[name]:.1f} | "
              f"{med['bare'] / med[name]:.3f} | {statistics.median(wall[name]):.1f} |")
    print(f"\nCPU per request over bare (best rounds): the app's own work {best['app'] - best['bare']:.1f} us, "
          f"the guard {best['guarded'] - best['app']:.1f} us; (medians: {med['app'] - med['bare']:.1f} us, "
          f"{med['guarded'] - med['app']:.1f} us)")
    base_c = best["bare"]
    if parts:
        print_parts(base_c)


def print_parts(bare_us: float) -> None:
    """CPU time of each piece of work the service's handler does that the bare endpoint does not."""
    import timeit

    from service import responses
    from service.api import metrics
    from service.api.bodies import WORKLOAD_DECODER, content_type, require_json

    catalog = Catalog.default()
    workload = WORKLOAD_DECODER.decode(BODY)
    quote = catalog.quote(workload)
    pieces: dict[str, Callable[[], object]] = {
        "Catalog.quote (the engine: look-up, period, window, exact lines)": lambda: catalog.quote(workload),
        "encode the itemised Quote (msgspec)": lambda: responses.encode_quote(quote),
        "Content-Type check": lambda: require_json(content_type(SCOPE)),
        "quotes-priced counter": metrics.QUOTES.inc,
    }
    empty: Callable[[], object] = lambda: None  # noqa: E731 - the call overhead to subtract
    n = 20_000
    overhead = min(timeit.repeat(empty, number=n, repeat=5, timer=time.process_time)) / n * 1e6
    print(f"\nThe handler's own pieces (CPU us per call, best of 5 x {n:,}; % of the bare request's {bare_us:.1f} us):\n")
    print("| piece | us | % of bare |")
    print("|---|---|---|")
    for label, fn in pieces.items():
        us = min(timeit.repeat(fn, number=n, repeat=5, timer=time.process_time)) / n * 1e6 - overhead
        print(f"| {label} | {us:.2f} | {us / bare_us * 100:.1f} % |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop (as the server does) instead of asyncio")
    parser.add_argument("--parts", action="store_true", help="also time each piece of the handler's own work")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.run(main(args.rounds, args.requests, args.parts))
    else:
        asyncio.run(main(args.rounds, args.requests, args.parts))

"""The real service with faults injected into its answers: proof that the load gate can fail.

    python -m load.faulty --port 8123 --delay-ms 150         # every POST answered 150 ms late
    python -m load.faulty --port 8123 --error-every 5        # every 5th POST answered 500
    python -m load.faulty --port 8123 --corrupt-totals       # each POST answer's first total off by 1e-6
    python -m load.run --host http://127.0.0.1:8123          # must FAIL, naming the right threshold

Faults hit ``POST`` requests only (the quotes, batches and comparisons); ``GET`` requests, among them
the catalog the load test builds its mix from and ``/healthz``, are answered as usual.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from pricing import Catalog
from service.api.app import create_app
from service.api.server import run
from service.api.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: Any ASGI application (Litestar's own signature is narrower than this, and still one).
ASGIApp = Callable[..., Awaitable[None]]

_TOTAL = re.compile(rb'"total":"([^"]+)"')
_ERROR = b'{"type":"about:blank","title":"injected fault","status":500,"detail":"load.faulty: injected fault"}'


class Faults(msgspec.Struct, frozen=True, kw_only=True):
    #: Milliseconds each POST waits before it is handled.
    delay_ms: float = 0
    #: Answer every n-th POST with a 500 (0: never).
    error_every: int = 0
    #: Add 0.000001 to the first ``"total"`` of each POST answer (a wrong sum with a 200 status).
    corrupt_totals: bool = False


def _corrupt(body: bytes) -> bytes:
    def plus_a_millionth(match: re.Match[bytes]) -> bytes:
        wrong = Decimal(match[1].decode()) + Decimal("0.000001")
        return b'"total":"' + str(wrong).encode() + b'"'

    return _TOTAL.sub(plus_a_millionth, body, count=1)


def inject(app: ASGIApp, faults: Faults) -> ASGIApp:
    """``app`` with ``faults`` applied to its POST requests."""
    posts = 0

    async def faulty(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal posts
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        posts += 1
        if faults.delay_ms:
            await asyncio.sleep(faults.delay_ms / 1000)
        if faults.error_every and posts % faults.error_every == 0:
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/problem+json"),
                                    (b"content-length", str(len(_ERROR)).encode())]})
            await send({"type": "http.response.body", "body": _ERROR})
            return
        if not faults.corrupt_totals:
            await app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            # Hold the answer until its whole body is in, then send it altered, with its new length.
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = _corrupt(b"".join(chunks))
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, rewrite)

    return faulty


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m load.faulty", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--error-every", type=int, default=0)
    parser.add_argument("--corrupt-totals", action="store_true")
    args = parser.parse_args(argv)
    if args.delay_ms < 0 or args.error_every < 0:
        parser.error("--delay-ms and --error-every must be >= 0")
    faults = Faults(delay_ms=args.delay_ms, error_every=args.error_every, corrupt_totals=args.corrupt_totals)
    app = inject(create_app(Catalog.default()), faults)
    run(app, Settings(host="127.0.0.1", port=args.port, log_level="warning"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

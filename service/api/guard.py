"""The ASGI layer around the app: operator limits (concurrency, time), request ids, the request log
line and the request metrics. It sees headers and status codes, never a body it would keep.

It is on the path of every request, so it is built to cost little there: one watchdog task checks
every request's deadline a few times a second (instead of a timer scheduled and cancelled per
request), a request's state is one slotted object, a response is scanned for its problem code only
when its status is 4xx/5xx, and request ids are a per-process random prefix and a counter (no
system call per request).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any

import msgspec

from service.api import metrics
from service.api.problems import ABOUT_BLANK, PROBLEM_JSON, Problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_log = logging.getLogger("service.request")
_ENCODER = msgspec.json.Encoder()
_CODE = re.compile(rb'"code":"([a-z_]{1,64})"')
_PROBLEM_JSON = PROBLEM_JSON.encode()
#: A client's request id is kept if it is this short and printable; else the service makes one.
_REQUEST_ID = re.compile(rb"^[\x21-\x7e]{1,128}$")
#: Seconds a client is told to wait when the worker is at its concurrency limit.
RETRY_AFTER_SECONDS = 1
#: Longest time between two checks of the requests' deadlines, in seconds: a request is answered
#: 408/503 at most this long after its timeout (a tenth of the timeout, if that is shorter).
WATCHDOG_TICK_SECONDS = 0.1


def _problem_message(status: int, code: str, detail: str, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    body = _ENCODER.encode(Problem(type=ABOUT_BLANK, status=status, title=HTTPStatus(status).phrase,
                                   detail=detail, code=code))
    return [
        {"type": "http.response.start", "status": status,
         "headers": [(b"content-type", _PROBLEM_JSON), (b"content-length", str(len(body)).encode()),
                     *headers]},
        {"type": "http.response.body", "body": body, "more_body": False},
    ]


class _Exchange:
    """One request as the guard sees it: its answer's status and problem code, whether its body has
    all arrived, and when it must be done by. Its ``send`` and ``receive`` are what the app gets."""

    __slots__ = ("_receive", "_send", "body_done", "code", "deadline", "id_header", "problem", "status", "task",
                 "timed_out")

    def __init__(self, receive: Receive, send: Send, id_header: tuple[bytes, bytes], deadline: float) -> None:
        self._receive = receive
        self._send = send
        self.id_header = id_header
        #: ``time.perf_counter()`` after which the watchdog cancels the request.
        self.deadline = deadline
        #: The task serving the request (uvicorn runs each request in its own), which the watchdog cancels.
        self.task: asyncio.Task[Any] | None = None
        #: The answer's status; 0 until the response has started.
        self.status = 0
        self.code: str | None = None
        self.problem = False
        self.body_done = False
        #: Set by the watchdog just before it cancels the request (a cancellation without it is the server's).
        self.timed_out = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            status = self.status = message["status"]
            headers = [*message.get("headers", ()), self.id_header]
            if status >= 400:  # problem documents are only ever errors: 2xx/3xx are not scanned
                self.problem = any(k == b"content-type" and v.startswith(_PROBLEM_JSON) for k, v in headers)
            message = {**message, "headers": headers}
        elif (self.problem and self.code is None and message["type"] == "http.response.body"
              and (found := _CODE.search(message.get("body", b"")[:512]))):
            self.code = found[1].decode()
        await self._send(message)

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            self.body_done = True
        return message


class Guard:
    """Wraps ``app``: at most ``max_concurrent`` requests at once (503 beyond), each done within
    ``request_timeout`` seconds (408 if its body had not all arrived, else 503), each logged and counted."""

    def __init__(self, app: ASGIApp, *, max_concurrent: int, request_timeout: float, access_log: bool) -> None:
        self.app = app
        self.max_concurrent = max_concurrent
        self.request_timeout = request_timeout
        self.access_log = access_log
        #: The requests being served, each with its deadline.
        self.in_flight: set[_Exchange] = set()
        self._tick = max(min(WATCHDOG_TICK_SECONDS, request_timeout / 10), 0.001)
        self._watchdog: asyncio.Task[None] | None = None
        self._watchdog_loop: asyncio.AbstractEventLoop | None = None
        # Unique per process (the prefix is random) and cheap: no system call per request.
        self._id_prefix = os.urandom(8).hex()
        self._ids = itertools.count()
        # prometheus-client's labels() takes a lock and builds a key each call: keep the children,
        # the counter and the histogram of each (route, method, status) in one look-up.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        metrics.count_in_flight(lambda: len(self.in_flight))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        exchange = _Exchange(receive, send, (b"x-request-id", self._request_id(scope)), started + self.request_timeout)
        in_flight = self.in_flight
        if len(in_flight) >= self.max_concurrent:
            metrics.REJECTED.labels(reason="concurrency").inc()
            for message in _problem_message(
                    503, "overloaded", f"the service is at its limit of {self.max_concurrent} requests at once; "
                    f"retry after {RETRY_AFTER_SECONDS} s", [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]):
                await exchange.send(message)
            self._finish(scope, exchange, started)
            return
        loop = asyncio.get_running_loop()
        if self._watchdog_loop is not loop:
            self._start_watchdog(loop)
        exchange.task = asyncio.current_task()
        in_flight.add(exchange)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except asyncio.CancelledError:
            if exchange.timed_out:
                self._timed_out(scope, exchange)
                for message in self._timeout_messages(scope, exchange):
                    await exchange.send(message)
            else:
                # The server cancels what is still running when the shutdown's grace period ends (a
                # stalled upload, say): answer it, quietly, rather than leave uvicorn to log a traceback.
                metrics.REJECTED.labels(reason="shutdown").inc()
                if not exchange.status:
                    for message in _problem_message(503, "shutting_down", "the service is shutting down; retry",
                                                    [(b"connection", b"close")]):
                        await exchange.send(message)
        finally:
            in_flight.discard(exchange)
            self._finish(scope, exchange, started)

    def _timed_out(self, scope: Scope, exchange: _Exchange) -> None:
        metrics.REJECTED.labels(reason="timeout").inc()
        if exchange.task is not None:
            # The cancellation was the guard's, and it is handled here: the task goes on as not cancelled.
            exchange.task.uncancel()

    def _timeout_messages(self, scope: Scope, exchange: _Exchange) -> list[Message]:
        if exchange.status:  # the answer had started: nothing more can be said
            return []
        if exchange.body_done or scope.get("method") in ("GET", "HEAD"):
            return _problem_message(503, "timeout", f"the request took over {self.request_timeout:g} s",
                                    [(b"connection", b"close")])
        return _problem_message(408, "request_timeout", f"the request body did not arrive within "
                                f"{self.request_timeout:g} s", [(b"connection", b"close")])

    def _start_watchdog(self, loop: asyncio.AbstractEventLoop) -> None:
        self._watchdog_loop = loop
        self._watchdog = loop.create_task(self._watch(), name="inference-cost request deadlines")

    async def _watch(self) -> None:
        """Every tick, cancel each request past its deadline (the request answers 408/503 itself)."""
        while True:
            await asyncio.sleep(self._tick)
            now = time.perf_counter()
            for exchange in self.in_flight:
                if exchange.deadline <= now and not exchange.timed_out and exchange.task is not None:
                    exchange.timed_out = True
                    exchange.task.cancel()

    def _request_id(self, scope: Scope) -> bytes:
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                if _REQUEST_ID.match(value):
                    return bytes(value)
                break
        return f"{self._id_prefix}{next(self._ids):016x}".encode()

    def _finish(self, scope: Scope, exchange: _Exchange, started: float) -> None:
        elapsed = time.perf_counter() - started
        # The route's template, not its path: a label per model name would grow without bound.
        route = scope.get("path_template") or "unmatched"
        status = exchange.status
        method = scope.get("method", "")
        children = self._children.get((route, method, status))
        if children is None:
            children = self._children[(route, method, status)] = (
                metrics.REQUESTS.labels(route=route, method=method, status=str(status)),
                metrics.LATENCY.labels(route=route))
        children[0].inc()
        children[1].observe(elapsed)
        if exchange.code is not None:
            metrics.PROBLEMS.labels(code=exchange.code).inc()
        if self.access_log or status >= 500:
            client = scope.get("client")
            _log.log(logging.ERROR if status >= 500 else logging.INFO, "request", extra={
                "request_id": exchange.id_header[1].decode("ascii"), "method": scope.get("method"), "route": route,
                "path": scope.get("path"), "status": status, "duration_ms": round(elapsed * 1000, 3),
                "code": exchange.code, "client": f"{client[0]}:{client[1]}" if client else None,
            })

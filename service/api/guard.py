"""The ASGI layer around the app: operator limits (concurrency, time), request ids, the request log
line and the request metrics. It sees headers and status codes, never a body it would keep."""

from __future__ import annotations

import asyncio
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
#: A client's request id is kept if it is this short and printable; else the service makes one.
_REQUEST_ID = re.compile(rb"^[\x21-\x7e]{1,128}$")
#: Seconds a client is told to wait when the worker is at its concurrency limit.
RETRY_AFTER_SECONDS = 1


def _problem_message(status: int, code: str, detail: str, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    body = _ENCODER.encode(Problem(type=ABOUT_BLANK, status=status, title=HTTPStatus(status).phrase,
                                   detail=detail, code=code))
    return [
        {"type": "http.response.start", "status": status,
         "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
                     *headers]},
        {"type": "http.response.body", "body": body, "more_body": False},
    ]


class Guard:
    """Wraps ``app``: at most ``max_concurrent`` requests at once (503 beyond), each done within
    ``request_timeout`` seconds (408 if its body had not all arrived, else 503), each logged and counted."""

    def __init__(self, app: ASGIApp, *, max_concurrent: int, request_timeout: float, access_log: bool) -> None:
        self.app = app
        self.max_concurrent = max_concurrent
        self.request_timeout = request_timeout
        self.access_log = access_log
        self.active = 0
        # prometheus-client's labels() takes a lock and builds a key each call: keep the children.
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._latency: dict[str, Any] = {}
        metrics.count_in_flight(lambda: self.active)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        id_header = (b"x-request-id", request_id.encode())
        state: dict[str, Any] = {"status": 0, "code": None, "problem": False, "body_done": False, "started": False}

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["started"] = True
                headers = list(message.get("headers", ()))
                headers.append(id_header)
                state["problem"] = any(k == b"content-type" and v.startswith(b"application/problem+json")
                                       for k, v in headers)
                message = {**message, "headers": headers}
            elif (message["type"] == "http.response.body" and state["problem"] and state["code"] is None
                  and (found := _CODE.search(message.get("body", b"")[:512]))):
                state["code"] = found[1].decode()
            await send(message)

        async def receive_wrapped() -> Message:
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                state["body_done"] = True
            return message

        if self.active >= self.max_concurrent:
            metrics.REJECTED.labels(reason="concurrency").inc()
            for message in _problem_message(
                    503, "overloaded", f"the service is at its limit of {self.max_concurrent} requests at once; "
                    f"retry after {RETRY_AFTER_SECONDS} s", [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]):
                await send_wrapped(message)
            self._finish(scope, request_id, state, started)
            return
        self.active += 1
        try:
            async with asyncio.timeout(self.request_timeout):
                await self.app(scope, receive_wrapped, send_wrapped)
        except TimeoutError:
            metrics.REJECTED.labels(reason="timeout").inc()
            if not state["started"]:
                if state["body_done"] or scope.get("method") in ("GET", "HEAD"):
                    messages = _problem_message(503, "timeout", f"the request took over {self.request_timeout:g} s",
                                                [(b"connection", b"close")])
                else:
                    messages = _problem_message(
                        408, "request_timeout", f"the request body did not arrive within {self.request_timeout:g} s",
                        [(b"connection", b"close")])
                for message in messages:
                    await send_wrapped(message)
        except asyncio.CancelledError:
            # The server cancels what is still running when the shutdown's grace period ends (a
            # stalled upload, say): answer it, quietly, rather than leave uvicorn to log a traceback.
            metrics.REJECTED.labels(reason="shutdown").inc()
            if not state["started"]:
                for message in _problem_message(503, "shutting_down", "the service is shutting down; retry",
                                                [(b"connection", b"close")]):
                    await send_wrapped(message)
        finally:
            self.active -= 1
            self._finish(scope, request_id, state, started)

    def _finish(self, scope: Scope, request_id: str, state: dict[str, Any], started: float) -> None:
        elapsed = time.perf_counter() - started
        # The route's template, not its path: a label per model name would grow without bound.
        route = scope.get("path_template") or "unmatched"
        status = state["status"]
        method = scope.get("method", "")
        counter = self._requests.get((route, method, status))
        if counter is None:
            counter = self._requests[(route, method, status)] = metrics.REQUESTS.labels(
                route=route, method=method, status=str(status))
        counter.inc()
        histogram = self._latency.get(route)
        if histogram is None:
            histogram = self._latency[route] = metrics.LATENCY.labels(route=route)
        histogram.observe(elapsed)
        if state["code"] is not None:
            metrics.PROBLEMS.labels(code=state["code"]).inc()
        if self.access_log or status >= 500:
            client = scope.get("client")
            _log.log(logging.ERROR if status >= 500 else logging.INFO, "request", extra={
                "request_id": request_id, "method": scope.get("method"), "route": route,
                "path": scope.get("path"), "status": status, "duration_ms": round(elapsed * 1000, 3),
                "code": state["code"], "client": f"{client[0]}:{client[1]}" if client else None,
            })


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if _REQUEST_ID.match(value):
                return bytes(value).decode("ascii")
            break
    return os.urandom(16).hex()

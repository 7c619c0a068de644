"""The guard's deadlines, request ids and problem codes, driven in-process over ASGI.

The watchdog that times requests out is a task of its own: these tests pin what it must do (a
stalled body is 408, a slow answer 503, a slow GET 503, an answer that had started is left alone,
the request task is not left cancelled, a new event loop gets a watchdog of its own) with real
event loops and real waiting, against tiny apps whose slowness is the point.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from prometheus_client import REGISTRY

from service.api.guard import Guard, Message

Scope = dict[str, Any]
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: in the whole suite, the browser tests' session keeps
    an event loop running on the main thread."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def scope(method: str = "POST", headers: list[tuple[bytes, bytes]] | None = None) -> Scope:
    return {"type": "http", "method": method, "path": "/slow", "headers": headers or [], "client": ("127.0.0.1", 1)}


class Client:
    """One request's side of the ASGI conversation: what it sends, what it got back."""

    def __init__(self, body_parts: list[bytes], stall: bool = False) -> None:
        self.parts = list(body_parts)
        self.stall = stall
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self.parts:
            part = self.parts.pop(0)
            return {"type": "http.request", "body": part, "more_body": bool(self.parts) or self.stall}
        await asyncio.sleep(3600)  # a client that never sends the rest
        raise AssertionError("unreachable")

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(next(m["status"] for m in self.sent if m["type"] == "http.response.start"))

    def header(self, name: bytes) -> bytes | None:
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return next((v for k, v in start["headers"] if k == name), None)

    @property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")))


async def read_all_then_sleep(scope: Scope, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    await asyncio.sleep(3600)


async def answer_then_stall(scope: Scope, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"part", "more_body": True})
    await asyncio.sleep(3600)


async def ok(scope: Scope, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"code":"not_a_problem"}'})


async def problem(scope: Scope, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/problem+json")]})
    await send({"type": "http.response.body", "body": b'{"status":422,"code":"invalid_request"}'})


def guard(app: Any, timeout: float = 0.3) -> Guard:
    return Guard(app, max_concurrent=4, request_timeout=timeout, access_log=False)


async def served(g: Guard, client: Client, method: str = "POST") -> float:
    """Seconds the guard took to answer ``client``'s request in a task of its own (as uvicorn runs it)."""
    started = time.perf_counter()
    task = asyncio.get_running_loop().create_task(g(scope(method), client.receive, client.send))
    await asyncio.wait_for(task, 10)
    assert task.cancelling() == 0  # the guard's own cancellation does not stay on the task
    return time.perf_counter() - started


def test_a_body_that_does_not_arrive_is_a_408_soon_after_the_timeout() -> None:
    client = Client([b'{"model":'], stall=True)
    took = run(served(guard(read_all_then_sleep), client))
    assert client.status == 408 and client.body["code"] == "request_timeout"
    assert client.header(b"connection") == b"close"
    assert 0.3 <= took < 0.3 + 0.5  # the watchdog's tick is a tenth of the timeout here


def test_a_slow_answer_to_a_whole_body_is_a_503() -> None:
    client = Client([b"{}"])
    run(served(guard(read_all_then_sleep), client))
    assert client.status == 503 and client.body["code"] == "timeout"


def test_a_slow_get_is_a_503() -> None:
    client = Client([])
    run(served(guard(read_all_then_sleep), client, "GET"))
    assert client.status == 503 and client.body["code"] == "timeout"


def test_an_answer_that_had_started_is_cut_off_not_answered_twice() -> None:
    client = Client([b"{}"])
    run(served(guard(answer_then_stall), client))
    assert [m["type"] for m in client.sent] == ["http.response.start", "http.response.body"]
    assert client.status == 200


def test_each_new_event_loop_gets_its_own_watchdog() -> None:
    g = guard(read_all_then_sleep, timeout=0.2)
    for _ in range(2):  # the first loop's watchdog died with it
        client = Client([b"{}"])
        run(served(g, client))
        assert client.status == 503


def test_timed_out_requests_are_counted_and_leave_the_in_flight_set() -> None:
    def timeouts() -> float:
        return REGISTRY.get_sample_value("inference_cost_rejected_total", {"reason": "timeout"}) or 0.0

    before = timeouts()
    g = guard(read_all_then_sleep, timeout=0.2)

    async def three() -> None:
        await asyncio.gather(*(served(g, Client([b"{}"])) for _ in range(3)))

    run(three())
    assert timeouts() == before + 3
    assert g.in_flight == set()


def test_request_ids_are_unique_32_hex_characters_or_the_clients() -> None:
    g = guard(ok)

    async def ids() -> list[bytes | None]:
        got = []
        for headers in ([], [], [(b"x-request-id", b"trace-7")], [(b"x-request-id", b"a b")]):
            client = Client([])
            await g({**scope("GET"), "headers": headers}, client.receive, client.send)
            got.append(client.header(b"x-request-id"))
        return got

    made, again, kept, refused = run(ids())
    assert made != again and kept == b"trace-7"
    for value in (made, again, refused):
        assert value is not None and re.fullmatch(rb"[0-9a-f]{32}", value)


def test_the_problem_code_is_counted_for_errors_only() -> None:
    def problems(code: str) -> float:
        return REGISTRY.get_sample_value("inference_cost_problems_total", {"code": code}) or 0.0

    before = problems("invalid_request"), problems("not_a_problem")

    async def both() -> None:
        for app in (problem, ok):
            client = Client([])
            await guard(app)(scope(), client.receive, client.send)

    run(both())
    assert (problems("invalid_request"), problems("not_a_problem")) == (before[0] + 1, before[1])

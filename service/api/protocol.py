"""uvicorn's httptools protocol with the limits it lacks, and problem documents for what its parser refuses.

uvicorn has no header timeout (a client that sends half a request line holds its connection for
ever) and no limit on the request target or on header size. This protocol times the line and
headers out (408), refuses a long target (414) or too many header bytes (431), and answers a request
the parser cannot read with a problem document instead of uvicorn's text/plain 400.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any, ClassVar

import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.api.problems import ABOUT_BLANK, Problem

_ENCODER = msgspec.json.Encoder()


class _Refused(Exception):
    """Raised in a parser callback: httptools stops parsing and uvicorn calls ``send_400_response``."""


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    max_url_bytes: int = 8192
    max_header_bytes: int = 65536
    header_timeout: float = 10.0


def problem_bytes(status: int, code: str, detail: str) -> bytes:
    """A whole HTTP/1.1 response carrying a problem document; the connection closes after it."""
    body = _ENCODER.encode(Problem(type=ABOUT_BLANK, status=status, title=HTTPStatus(status).phrase,
                                   detail=detail, code=code))
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/problem+json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return head.encode("latin-1") + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    limits: ClassVar[Limits] = Limits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0
        self._refusal: tuple[int, str, str] | None = None
        self._header_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.limits.header_timeout, self._header_timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self.transport.write(problem_bytes(
                408, "header_timeout", f"the request line and headers did not arrive within "
                f"{self.limits.header_timeout:g} s"))
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is timed out too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            self._refusal = (414, "uri_too_long", f"the request target is over {self.limits.max_url_bytes:,} bytes")
            raise _Refused

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self.limits.max_header_bytes:
            self._refusal = (431, "headers_too_large",
                             f"the request headers are over {self.limits.max_header_bytes:,} bytes")
            raise _Refused
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        status, code, detail = self._refusal or (
            400, "bad_request", "the request is not valid HTTP/1.1 (malformed request line, header, "
            "chunked body, or Content-Length with Transfer-Encoding)")
        self._refusal = None
        self._disarm()
        self.transport.write(problem_bytes(status, code, detail))
        self.transport.close()

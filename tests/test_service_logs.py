"""Log lines: one JSON object a line, or a short text line for a terminal; control characters escaped."""

from __future__ import annotations

import json
import logging

from service.api.logs import JsonFormatter, TextFormatter, escape


def record(message: str = "request", **fields: object) -> logging.LogRecord:
    rec = logging.LogRecord("service.request", logging.INFO, __file__, 1, message, None, None)
    for name, value in fields.items():
        setattr(rec, name, value)
    return rec


REQUEST = {"request_id": "id\n1", "method": "GET", "route": "/v1/models/{name}",
           "path": "/v1/models/evil\nFORGED\x1b[31m\u2028", "status": 404, "duration_ms": 1.25,
           "code": "unknown_model", "client": "127.0.0.1:5"}


def test_escape_writes_every_control_character_as_an_escape() -> None:
    assert escape("a\nb\r\x00\x7f\x85\u2028c") == "a\\x0ab\\x0d\\x00\\x7f\\x85\\u2028c"
    assert escape("plain ascii and ünïcode") == "plain ascii and ünïcode"


def test_a_json_line_is_one_line_with_the_request_fields() -> None:
    line = JsonFormatter().format(record(**REQUEST))
    assert "\n" not in line and "\x1b" not in line and "\u2028" not in line
    data = json.loads(line)
    assert data["logger"] == "service.request" and data["level"] == "info"
    assert data["path"] == "/v1/models/evil\\x0aFORGED\\x1b[31m\\u2028"
    assert data["request_id"] == "id\\x0a1"
    assert (data["status"], data["duration_ms"], data["code"]) == (404, 1.25, "unknown_model")


def test_a_message_with_a_newline_stays_one_json_line() -> None:
    line = JsonFormatter().format(record("catalog reload refused: a.toml: bad\nFORGED"))
    assert "\n" not in line
    assert json.loads(line)["message"].endswith("bad\\x0aFORGED")


def test_the_text_line_is_short_and_escaped() -> None:
    line = TextFormatter().format(record(**REQUEST))
    assert "\n" not in line and "\x1b" not in line
    assert " info GET /v1/models/evil\\x0aFORGED\\x1b[31m\\u2028 404 1.25 ms code=unknown_model id=id\\x0a1" in line
    plain = TextFormatter().format(record("catalog reloaded"))
    assert plain.endswith("info service.request: catalog reloaded")

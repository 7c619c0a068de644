"""The service's log lines: one JSON object per line (or readable text on a terminal), never a body.

Every string a client chose (path, request id, a model name in a message) is escaped: a control
character cannot start a forged line.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import msgspec

_ENCODER = msgspec.json.Encoder()
#: Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))} | {0x2028: "\\u2028", 0x2029: "\\u2029"}
#: The fields a request log line carries, in order (an absent one is left out).
REQUEST_FIELDS = ("request_id", "method", "route", "path", "status", "duration_ms", "code", "client")


def escape(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x0a``)."""
    return text.translate(_CONTROL)


class JsonFormatter(logging.Formatter):
    """``{"time": ..., "level": ..., "logger": ..., "message": ..., <request fields>}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": escape(record.getMessage()),
        }
        for field in REQUEST_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = escape(value) if isinstance(value, str) else value
        if record.exc_info:
            line["error"] = escape(self.formatException(record.exc_info))
        # JSON escapes what is left (quotes, backslashes); the line stays one line.
        return _ENCODER.encode(line).decode()


class TextFormatter(logging.Formatter):
    """``12:00:00 info POST /v1/quotes 422 1.2 ms code=invalid_request id=...`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        status = getattr(record, "status", None)
        if status is None:
            text = f"{stamp} {record.levelname.lower()} {record.name}: {escape(record.getMessage())}"
            if record.exc_info:
                text += "\n" + self.formatException(record.exc_info)
            return text
        parts = [stamp, record.levelname.lower(), escape(str(getattr(record, "method", ""))),
                 escape(str(getattr(record, "path", ""))), str(status), f"{getattr(record, 'duration_ms', '?')} ms"]
        if (code := getattr(record, "code", None)) is not None:
            parts.append(f"code={escape(code)}")
        parts.append(f"id={escape(str(getattr(record, 'request_id', '')))}")
        return " ".join(parts)


def configure(log_format: str, level: str) -> None:
    """Send the service's loggers (``service.*``) to stderr in ``log_format`` (auto: text on a terminal)."""
    use_text = log_format == "text" or (log_format == "auto" and sys.stderr.isatty())
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if use_text else JsonFormatter())
    logger = logging.getLogger("service")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if level == "trace" else level.upper())
    logger.propagate = False

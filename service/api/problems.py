"""RFC 9457 problem documents: the one shape every error response of the service has."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from service.api.settings import MAX_BODY_BYTES

PROBLEM_JSON = "application/problem+json"
ABOUT_BLANK = "about:blank"
_log = logging.getLogger("service")


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An error: what went wrong (``detail``), where (``field``), and what might have been meant."""

    #: ``about:blank``: the HTTP status and ``code`` carry the meaning (RFC 9457, section 4.2.1).
    type: str
    status: int
    title: str
    detail: str
    #: A stable, machine-readable name of the error, e.g. ``unknown_model``.
    code: str
    #: JSON path of the offending value in the request, e.g. ``$.workloads[3].input_tokens``.
    field: str | None = None
    #: Position of the offending workload in a batch.
    index: int | None = None
    #: Close or candidate model names, for an unknown or ambiguous model.
    matches: tuple[str, ...] | None = None


class ProblemError(Exception):
    """Raised anywhere in a request; the app turns it into its problem document."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    index: int | None = None,
    matches: tuple[str, ...] | None = None,
) -> ProblemError:
    """A ``ProblemError`` to raise, titled with the status's standard phrase."""
    return ProblemError(
        Problem(type=ABOUT_BLANK, status=status, title=HTTPStatus(status).phrase, detail=detail, code=code,
                field=field, index=index, matches=matches)
    )


_ENCODER = msgspec.json.Encoder()


def problem_response(p: Problem, headers: dict[str, str] | None = None) -> Response[bytes]:
    return Response(_ENCODER.encode(p), status_code=p.status, media_type=PROBLEM_JSON, headers=headers)


# Litestar's own errors (routing, body size) keep their status; these codes and details make them
# as actionable as ours.
_HTTP_CODES = {
    400: ("bad_request", None),
    404: ("not_found", "no such path; the API is under /v1 (see /schema for the list)"),
    405: ("method_not_allowed", None),
    413: ("body_too_large", None),
}


def handle_problem(_: Request[Any, Any, Any], exc: ProblemError) -> Response[bytes]:
    return problem_response(exc.problem)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    code, detail = _HTTP_CODES.get(status, ("http_error", None))
    if status == 405:
        allowed = (exc.headers or {}).get("allow", "")
        detail = f"{request.method} is not allowed on {request.url.path}; use {allowed or 'another method'}"
    elif status == 413:
        limit = request.app.request_max_body_size or MAX_BODY_BYTES
        detail = (f"the request body is over the limit of {limit:,} bytes; "
                  "split a batch into several requests")
    elif detail is None:
        detail = exc.detail or HTTPStatus(status).phrase
    p = Problem(type=ABOUT_BLANK, status=status, title=HTTPStatus(status).phrase, detail=detail, code=code)
    return problem_response(p, headers=dict(exc.headers) if exc.headers else None)


def handle_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    # A bug, not bad input: log it whole, answer without internals.
    _log.exception("unhandled error", exc_info=exc)
    p = Problem(type=ABOUT_BLANK, status=500, title=HTTPStatus(500).phrase, code="internal_error",
                detail="the service failed on this request; it has been logged")
    return problem_response(p)

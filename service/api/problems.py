"""RFC 9457 problem documents: the one shape every error response of the service has."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

from pricing.schema import doc
from service.api.settings import MAX_BODY_BYTES

PROBLEM_JSON = "application/problem+json"
ABOUT_BLANK = "about:blank"
_log = logging.getLogger("service")



class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document (`application/problem+json`): what went wrong (`detail`), where
    (`field`), and what might have been meant (`matches`)."""

    type: Annotated[str, doc("`about:blank`: the HTTP status and `code` carry the meaning (RFC 9457, 4.2.1).")]
    status: Annotated[int, doc("The HTTP status code.")]
    title: Annotated[str, doc("The status's standard phrase.")]
    detail: Annotated[str, doc("What went wrong and what to do about it, for a person.")]
    code: Annotated[str, doc(
        "Stable machine-readable name: `malformed_json`, `unsupported_media_type`, `empty_body`, "
        "`body_too_large`, `invalid_request`, `unknown_model`, `ambiguous_model`, `unknown_provider`, "
        "`no_price`, `not_found`, `method_not_allowed`, `internal_error`; `bad_request` and `http_error` "
        "for other errors of the HTTP layer.")]
    field: Annotated[str | None, doc(
        "JSON path of the offending value in the request, e.g. `$.workloads[3].input_tokens`.")] = None
    index: Annotated[int | None, doc(
        "Position of the offending item in the request's list (a batch's workload, a compare's model).")] = None
    matches: Annotated[tuple[str, ...] | None, doc(
        "Close matches of an unknown model name, or the candidates of an ambiguous one.")] = None


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
        Problem(type=ABOUT_BLANK, status=status, title=HTTPStatus(status).phrase, detail=capped(detail), code=code,
                field=field, index=index, matches=matches)
    )


#: The longest ``detail``: the engine's messages repeat what the client sent (a zone, a profile, an
#: offer), and a client may send megabytes of it.
MAX_DETAIL = 1_000


def capped(detail: str) -> str:
    """``detail``, or its first ``MAX_DETAIL`` characters and how long it was."""
    if len(detail) <= MAX_DETAIL:
        return detail
    return f"{detail[:MAX_DETAIL]}... (cut: {len(detail):,} characters; the request repeated at length)"


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

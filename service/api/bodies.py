"""Request bodies: their types, decoded strictly with msgspec, and every failure a problem naming its field.

The service decodes bodies itself rather than through Litestar's ``data`` parameter: Litestar
converts in msgspec's lax mode (``"5"`` would become 5 tokens, ``5.0`` too), and its 400 names the
field for a type error but not for an unknown field or a rule the engine checks (cached tokens above
the prompt, say). Decoding the raw body strictly was measured at the same speed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import msgspec

from pricing import Usage, Workload
from service.api.problems import ProblemError, problem
from service.api.settings import MAX_BATCH, MAX_COMPARE_MODELS

T = TypeVar("T")

_STRICT = {"frozen": True, "kw_only": True, "forbid_unknown_fields": True}


class BatchRequest(msgspec.Struct, **_STRICT):
    """Workloads to price in one request."""

    workloads: Annotated[list[Workload], msgspec.Meta(max_length=MAX_BATCH, description=(
        f"Up to {MAX_BATCH:,} workloads; one invalid workload fails the request with a 422 naming its "
        "index and field."))]


class CompareRequest(msgspec.Struct, **_STRICT):
    """One token profile priced on several models."""

    workload: Annotated[Usage, msgspec.Meta(description="The token profile (no `model`).")]
    models: Annotated[Annotated[list[str], msgspec.Meta(min_length=1, max_length=MAX_COMPARE_MODELS)] | None,
                      msgspec.Meta(description=(
                          f"Names of the models to price (1 to {MAX_COMPARE_MODELS:,}); leave out to price "
                          "every model with a price at that instant."))] = None
    baseline: Annotated[str | None, msgspec.Meta(description=(
        "A model to compare against (`savings_percent`); it is priced and listed too."))] = None


WORKLOAD_DECODER = msgspec.json.Decoder(Workload)
BATCH_DECODER = msgspec.json.Decoder(BatchRequest)
COMPARE_DECODER = msgspec.json.Decoder(CompareRequest)
#: Error path only. Decimal holds any JSON number exactly, so a number no float holds (1e400) is
#: still JSON to this decoder.
_UNTYPED = msgspec.json.Decoder(float_hook=Decimal)


# msgspec appends the location of a failure: "Expected `int`, got `str` - at `$.workloads[3].input_tokens`".
_AT = re.compile(r"^(?P<message>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)
# The engine's InvalidWorkloadError puts the field first: "input_tokens: must be >= 0, got -1".
_FIELD_FIRST = re.compile(r"^(?P<field>[a-z_][a-z0-9_]*): (?P<reason>.*)$", re.DOTALL)
# msgspec names the field of an unknown or missing key in the message, not in the path.
_NAMED_FIELD = re.compile(r"^Object (?:contains unknown|missing required) field `(?P<field>[^`]*)`$")
_INDEX = re.compile(r"^\$\.[a-z_]+\[(\d+)\]")


def content_type(scope: Mapping[str, Any]) -> str | None:
    """The request's Content-Type, read from the ASGI scope (servers lower-case header names).

    Cheaper than building Litestar's ``request.headers`` on the hot path."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bytes(value).decode("latin-1")
    return None


def require_json(content_type: str | None) -> None:
    """Refuse a body that does not say it is JSON (curl's ``-d`` sends a form type, for one)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        return
    shown = content_type if content_type is None or len(content_type) <= 100 else content_type[:100] + "..."
    got = f"Content-Type {shown!r}" if content_type else "no Content-Type"
    raise problem(400, "unsupported_media_type",
                  f"the body must be JSON: send 'Content-Type: application/json' (got {got})")


def decode(body: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """``body`` decoded (strictly: no string-to-number coercion) by ``decoder``, or a problem."""
    if not body:
        raise problem(400, "empty_body", "the request body is empty; send a JSON object")
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        # msgspec validates while it parses, so a body that breaks off after a bad field reports
        # the field: check it is JSON at all first (error path only).
        malformed(body)
        raise invalid(str(exc)) from None
    except msgspec.DecodeError as exc:
        if str(exc).startswith("Number out of range"):
            # Valid JSON (1e400) that no field can hold: name the field it is in.
            located = _out_of_range(body, decoder)
            if located is not None:
                raise located from None
        raise problem(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise _too_deep() from None


def malformed(body: bytes) -> None:
    """Raise the 400 problem if ``body`` is not well-formed JSON."""
    try:
        _UNTYPED.decode(body)
    except msgspec.DecodeError as exc:
        raise problem(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        # Deeper than the interpreter lets a parser recurse (about 1,000 levels; no request body
        # of this API nests more than 4).
        raise _too_deep() from None


def _too_deep() -> ProblemError:
    return problem(400, "malformed_json", "the body nests arrays or objects too deeply to read; "
                   "no request of this API nests more than 4 levels")


def _out_of_range(body: bytes, decoder: msgspec.json.Decoder[Any]) -> ProblemError | None:
    """The 422 naming the field of a number too large for any type (``1e400``), if it is found."""
    try:
        # Converting names the field that refuses the number.
        raw = _UNTYPED.decode(body)
        msgspec.convert(raw, decoder.type, strict=True)
    except msgspec.ValidationError as exc:
        return invalid(str(exc))
    except (msgspec.DecodeError, RecursionError):
        return None
    return None


def locate(message: str) -> tuple[str, str]:
    """``(field path, reason)`` of a msgspec validation message."""
    match = _AT.match(message)
    assert match is not None  # the pattern matches any text
    reason, path = match["message"], match["path"] or "$"
    if named := _NAMED_FIELD.match(reason):
        return f"{path}.{named['field']}", reason
    if first := _FIELD_FIRST.match(reason):
        return f"{path}.{first['field']}", first["reason"]
    return path, reason


def invalid(message: str) -> ProblemError:
    """A 422 problem for a msgspec validation message, naming the field (and batch index)."""
    field, reason = locate(message)
    index = int(m.group(1)) if (m := _INDEX.match(field)) else None
    return problem(422, "invalid_request", f"{field}: {reason}", field=field, index=index)

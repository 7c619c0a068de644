"""What is being priced: a token profile (``Usage``) and, with a model, a ``Workload``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import msgspec

from pricing.errors import InvalidWorkloadError

#: Largest token count accepted per request in any one field (ten billion: far beyond any context).
MAX_TOKENS = 10_000_000_000
#: Largest number of requests in one workload.
MAX_REQUESTS = 1_000_000_000_000


def _count(text: str, low: int = 0, high: int = MAX_TOKENS) -> msgspec.Meta:
    # Documented bounds only: __post_init__ enforces them, with messages that name the field and
    # the limit, for decoded bodies and Python callers alike (a decoding constraint would answer first,
    # in msgspec's words).
    return msgspec.Meta(description=f"{text} A whole number from {low} to {high:,}.",
                        extra_json_schema={"minimum": low, "maximum": high})


_TOKEN_FIELDS = ("input_tokens", "cached_input_tokens", "cache_write_tokens",
                 "cache_write_1h_tokens", "output_tokens")


def _check_count(field: str, value: object, low: int, high: int) -> None:
    # bool is an int subclass and float/Decimal would silently truncate: refuse all three.
    if type(value) is not int:
        raise InvalidWorkloadError(field, f"must be a whole number, got {type(value).__name__} {value!r}")
    if value < low:
        raise InvalidWorkloadError(field, f"must be >= {low}, got {value}")
    if value > high:
        raise InvalidWorkloadError(field, f"must be <= {high:_}, got {value:_}")


def _is_currency(value: object) -> bool:
    return type(value) is str and len(value) == 3 and value.isascii() and value.isalpha() and value.isupper()


class Usage(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A token profile: counts per request, how many requests, when and how they run. Unknown fields are
    refused.

    ``input_tokens`` is the whole prompt; ``cached_input_tokens`` (cache reads) and the two
    cache-write counts are parts of it. ``output_tokens`` includes reasoning tokens. ``at`` must
    be timezone aware; ``None`` means now.
    """

    input_tokens: Annotated[int, _count(
        "Prompt tokens per request: the whole prompt, cached and cache-write parts included.")] = 0
    cached_input_tokens: Annotated[int, _count(
        "The part of `input_tokens` read from the provider's cache (cache hits).")] = 0
    cache_write_tokens: Annotated[int, _count(
        "The part of `input_tokens` written to the cache (Anthropic's 5-minute cache).")] = 0
    cache_write_1h_tokens: Annotated[int, _count(
        "The part of `input_tokens` written to a longer-lived cache (Anthropic's 1-hour cache). The cached "
        "and cache-write parts together cannot exceed `input_tokens`.")] = 0
    output_tokens: Annotated[int, _count("Output tokens per request, reasoning tokens included.")] = 0
    requests: Annotated[int, _count("How many requests of this size.", 1, MAX_REQUESTS)] = 1
    at: Annotated[datetime | None, msgspec.Meta(description=(
        "When the requests run, RFC 3339 with an offset (`2025-01-31T12:00:00Z`); prices and discount "
        "windows in force then apply. Default (null): now."))] = None
    batch: Annotated[bool, msgspec.Meta(description=(
        "Price at the provider's batch-API rates (refused when the model has none then)."))] = False
    currency: Annotated[str | None, msgspec.Meta(description=(
        "The price list to quote from, as an ISO 4217 code (`CNY` for DeepSeek's yuan prices, say); "
        "null: the model's first-listed currency."))] = None

    def __post_init__(self) -> None:
        # Every service request builds one of these: check the valid case in one expression, and
        # walk the fields one by one (to name the culprit) only when it fails.
        inp, cached, written, written_1h = (self.input_tokens, self.cached_input_tokens,
                                            self.cache_write_tokens, self.cache_write_1h_tokens)
        out, n, at, currency = self.output_tokens, self.requests, self.at, self.currency
        if (
            type(inp) is int and type(cached) is int and type(written) is int and type(written_1h) is int
            and type(out) is int and type(n) is int and type(self.batch) is bool
            and cached >= 0 and written >= 0 and written_1h >= 0
            and cached + written + written_1h <= inp <= MAX_TOKENS
            and 0 <= out <= MAX_TOKENS and 1 <= n <= MAX_REQUESTS
            and (at is None or (type(at) is datetime and (at.tzinfo is UTC or at.utcoffset() is not None)))
            and (currency is None or _is_currency(currency))
        ):
            return
        self._explain()

    def _explain(self) -> None:
        for field in _TOKEN_FIELDS:
            _check_count(field, getattr(self, field), 0, MAX_TOKENS)
        _check_count("requests", self.requests, 1, MAX_REQUESTS)
        parts = self.cached_input_tokens + self.cache_write_tokens + self.cache_write_1h_tokens
        if parts > self.input_tokens:
            raise InvalidWorkloadError(
                "cached_input_tokens",
                f"cached ({self.cached_input_tokens}) plus cache-write "
                f"({self.cache_write_tokens + self.cache_write_1h_tokens}) tokens exceed "
                f"input_tokens ({self.input_tokens}); input_tokens is the whole prompt, "
                "the cached and cache-write tokens are parts of it",
            )
        if self.at is not None:
            if not isinstance(self.at, datetime):
                raise InvalidWorkloadError("at", f"must be a datetime, got {type(self.at).__name__}")
            if self.at.tzinfo is None or self.at.utcoffset() is None:
                raise InvalidWorkloadError(
                    "at", "must be timezone aware (give an offset, e.g. 2025-01-31T12:00:00Z)"
                )
        if type(self.batch) is not bool:
            raise InvalidWorkloadError("batch", f"must be true or false, got {self.batch!r}")
        if self.currency is not None and not _is_currency(self.currency):
            raise InvalidWorkloadError(
                "currency", f"must be an ISO 4217 code in capitals such as 'USD' or 'CNY', got {self.currency!r}"
            )


class Workload(Usage, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A token profile on one model (a canonical id, an alias or ``provider/id``). Unknown fields are refused."""

    model: Annotated[str, msgspec.Meta(
        description="Model name: a canonical id, an alias, or `provider/id` (any case); not blank.",
        extra_json_schema={"minLength": 1, "pattern": r"\S"})]

    def __post_init__(self) -> None:
        model = self.model
        if not isinstance(model, str) or not model or model.isspace():
            raise InvalidWorkloadError("model", "must be a non-empty model name, e.g. 'deepseek-reasoner'")
        super().__post_init__()

"""The service's settings: one Struct whose fields carry their bounds, read from ``INFERENCE_COST_*``
variables and command-line options through ``msgspec.convert`` (as ``load/profile.py`` reads its profiles)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

from pricing import Catalog
from service import catalog_cache

#: Every environment variable the service reads starts with this.
ENV_PREFIX = "INFERENCE_COST_"

#: Largest request body accepted, in bytes (413 above it). A full batch of ``MAX_BATCH`` workloads
#: with every field set is about 2.5 MB of JSON, so this leaves room for pretty-printed bodies.
#: The default of ``max_body_bytes``, and its largest value.
MAX_BODY_BYTES = 8 * 1024 * 1024
#: Most workloads in one ``POST /v1/quotes/batch`` (the default of ``max_batch``, and its largest value).
MAX_BATCH = 10_000
#: Most model names in one ``POST /v1/compare``.
MAX_COMPARE_MODELS = 1_000
#: Seconds uvicorn lets in-flight requests finish after SIGTERM before it closes them (the default).
GRACEFUL_SHUTDOWN_SECONDS = 15
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
LOG_FORMATS = ("auto", "json", "text")


class SettingsError(ValueError):
    """A setting has a value the service cannot use; the message names the setting."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """How ``inference-cost serve`` runs. Each field has an ``INFERENCE_COST_<FIELD>`` variable."""

    host: Annotated[str, msgspec.Meta(min_length=1, description="Address to bind.")] = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535, description="Port to bind (0: any free one).")] = 8000
    workers: Annotated[int, msgspec.Meta(ge=1, le=512, description="Worker processes.")] = 1
    catalog: Annotated[str | None, msgspec.Meta(
        description="A catalog file or folder to serve instead of the embedded one.")] = None
    log_level: Annotated[Literal["critical", "error", "warning", "info", "debug", "trace"], msgspec.Meta(
        description="Least severe log record written.")] = "info"
    log_format: Annotated[Literal["auto", "json", "text"], msgspec.Meta(
        description="Request log lines: JSON, text, or auto (text on a terminal, else JSON).")] = "auto"
    access_log: Annotated[bool, msgspec.Meta(
        description="Write one log line per request.")] = False
    max_body_bytes: Annotated[int, msgspec.Meta(
        ge=1024, le=MAX_BODY_BYTES, description="Largest request body, in bytes (413 above it).")] = MAX_BODY_BYTES
    max_batch: Annotated[int, msgspec.Meta(
        ge=1, le=MAX_BATCH, description="Most workloads in one batch request (422 above it).")] = MAX_BATCH
    max_concurrent: Annotated[int, msgspec.Meta(
        ge=1, le=100_000, description="Requests served at once by a worker; beyond it, 503 with Retry-After.")] = 64
    request_timeout: Annotated[float, msgspec.Meta(
        gt=0, le=3600, description="Seconds a request may take, body upload included (408 or 503 after).")] = 10.0
    header_timeout: Annotated[float, msgspec.Meta(
        gt=0, le=3600, description="Seconds a client has to send a request's line and headers.")] = 10.0
    max_url_bytes: Annotated[int, msgspec.Meta(
        ge=256, le=1_048_576, description="Longest request target (path and query), in bytes (414 above).")] = 8192
    max_header_bytes: Annotated[int, msgspec.Meta(
        ge=1024, le=16_777_216, description="Most bytes of header names and values in one request (431 above).")] = 65536
    graceful_shutdown: Annotated[float, msgspec.Meta(
        ge=0, le=3600, description="Seconds in-flight requests get to finish after SIGTERM.")] = float(
            GRACEFUL_SHUTDOWN_SECONDS)


#: The fields, in order; each is also a ``serve`` option and an ``INFERENCE_COST_<FIELD>`` variable.
FIELDS: tuple[str, ...] = Settings.__struct_fields__
_INFO = {f.name: f for f in msgspec.inspect.type_info(Settings).fields}  # type: ignore[attr-defined]
_FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
          "off": False, "": False}
_AT = re.compile(r" - at `\$\.(?P<field>\w+)`$")


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _explain(field: str, value: object) -> str:
    """What ``field`` accepts, for an error naming it."""
    info = _INFO[field].type
    info = getattr(info, "type", info)  # Metadata wraps an annotated type
    inner = getattr(info, "types", (info,))
    kinds = {type(t).__name__ for t in inner}
    lowest = next((getattr(t, attr) for t in inner for attr in ("ge", "gt") if getattr(t, attr, None) is not None), None)
    highest = next((t.le for t in inner if getattr(t, "le", None) is not None), None)
    if "LiteralType" in kinds:
        choices = next(t.values for t in inner if type(t).__name__ == "LiteralType")
        return f"must be one of {', '.join(choices)}, got {value!r}"
    if "BoolType" in kinds:
        return f"expected true or false, got {value!r}"
    number = "a whole number" if "IntType" in kinds else "a number"
    if lowest is not None and highest is not None:
        try:
            number_value = (int if "IntType" in kinds else float)(value)  # type: ignore[call-overload,arg-type]
        except (TypeError, ValueError):
            return f"expected {number}, got {value!r}"
        return f"must be between {lowest} and {highest}, got {number_value}"
    if isinstance(value, str) and "StrType" in kinds:
        return f"must not be empty, got {value!r}"
    return f"expected {number}, got {value!r}"


def settings_from(values: Mapping[str, Any], origin: Mapping[str, str] | None = None) -> Settings:
    """``values`` (text from the environment, or typed from options) as ``Settings``, defaults for the rest.

    ``origin`` names where each value came from (an environment variable) for the error message;
    a value without one is named by its field."""
    try:
        return msgspec.convert(dict(values), Settings, strict=False)
    except msgspec.ValidationError as exc:
        match = _AT.search(str(exc))
        if match is None:  # pragma: no cover - every field error carries its path
            raise SettingsError(str(exc)) from None
        field = match["field"]
        where = (origin or {}).get(field)
        message = _explain(field, values.get(field))
        raise SettingsError(f"{where}: {message}" if where else f"{field.replace('_', ' ')} {message}") from None


def settings_from_env(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """The settings the ``INFERENCE_COST_*`` variables give, ``overrides`` (options) over them."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for field in FIELDS:
        raw = env.get(env_name(field))
        if raw is None or (not raw.strip() and field in ("host", "catalog")):
            continue
        values[field] = raw.strip()
        origin[field] = env_name(field)
        if field == "access_log":
            values[field] = _FLAGS.get(values[field].lower(), values[field])
        if field == "log_level":
            values[field] = values[field].lower()
    for field, value in overrides.items():
        if value is not None:
            values[field] = value
            origin.pop(field, None)
    return settings_from(values, origin)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes ``settings_from_env`` give ``settings`` (for worker processes)."""
    env: dict[str, str] = {}
    for field in FIELDS:
        value = getattr(settings, field)
        if value is None:
            continue
        env[env_name(field)] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return env


def load_catalog(path: str | None) -> Catalog:
    """The catalog at ``path``, or the embedded one; raises the loader's ``CatalogError``."""
    catalog = Catalog.default() if path is None else Catalog.load(path)
    catalog_cache.save(catalog)  # the next process reads the compiled form instead of the TOML
    return catalog

"""The service's settings: defaults, environment variables, and the documented request limits."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

from pricing import Catalog

#: Every environment variable the service reads starts with this.
ENV_PREFIX = "INFERENCE_COST_"

#: Largest request body accepted, in bytes (413 above it). A full batch of ``MAX_BATCH`` workloads
#: with every field set is about 2.5 MB of JSON, so this leaves room for pretty-printed bodies.
MAX_BODY_BYTES = 8 * 1024 * 1024
#: Most workloads in one ``POST /v1/quotes/batch``.
MAX_BATCH = 10_000
#: Most model names in one ``POST /v1/compare``.
MAX_COMPARE_MODELS = 1_000
#: Seconds uvicorn lets in-flight requests finish after SIGTERM before it closes them.
GRACEFUL_SHUTDOWN_SECONDS = 10
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


class SettingsError(ValueError):
    """A setting has a value the service cannot use; the message names the setting."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """How ``inference-cost serve`` runs. Each field has an ``INFERENCE_COST_<FIELD>`` variable."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    #: A catalog file or folder to serve instead of the embedded one.
    catalog: str | None = None
    log_level: str = "info"
    access_log: bool = False


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env_int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}{name}: expected a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{ENV_PREFIX}{name}: must be between {low} and {high}, got {value}")
    return value


def check_port(port: int) -> int:
    if not 0 <= port <= 65535:
        raise SettingsError(f"port must be between 0 and 65535, got {port}")
    return port


def check_workers(workers: int) -> int:
    if not 1 <= workers <= 512:
        raise SettingsError(f"workers must be between 1 and 512, got {workers}")
    return workers


def check_log_level(level: str) -> str:
    if level.lower() not in LOG_LEVELS:
        raise SettingsError(f"log level must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return level.lower()


def settings_from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings the ``INFERENCE_COST_*`` variables give, defaults for the rest."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    if (raw := env.get(ENV_PREFIX + "HOST")) is not None and raw.strip():
        values["host"] = raw.strip()
    if (raw := env.get(ENV_PREFIX + "PORT")) is not None:
        values["port"] = _env_int("PORT", raw, 0, 65535)
    if (raw := env.get(ENV_PREFIX + "WORKERS")) is not None:
        values["workers"] = _env_int("WORKERS", raw, 1, 512)
    if (raw := env.get(ENV_PREFIX + "CATALOG")) is not None and raw.strip():
        values["catalog"] = raw.strip()
    if (raw := env.get(ENV_PREFIX + "LOG_LEVEL")) is not None:
        try:
            values["log_level"] = check_log_level(raw.strip())
        except SettingsError as exc:
            raise SettingsError(f"{ENV_PREFIX}LOG_LEVEL: {exc}") from None
    if (raw := env.get(ENV_PREFIX + "ACCESS_LOG")) is not None:
        flag = raw.strip().lower()
        if flag not in _TRUE | _FALSE:
            raise SettingsError(f"{ENV_PREFIX}ACCESS_LOG: expected true or false, got {raw!r}")
        values["access_log"] = flag in _TRUE
    return Settings(**values)  # type: ignore[arg-type]


def load_catalog(path: str | None) -> Catalog:
    """The catalog at ``path``, or the embedded one; raises the loader's ``CatalogError``."""
    return Catalog.default() if path is None else Catalog.load(path)

"""Load profiles: the shape of a run (users, run time, processes) and the thresholds it must meet.

They are read from a TOML file (``load/thresholds.toml``: one table a profile) and each value can be
overridden from the environment (``LOAD_<FIELD>``, e.g. ``LOAD_MAX_P95_MS=80``) or the command line
(``--max-p95-ms 80``), the command line winning. Every error names where the bad value came from.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec

from load.verdict import Limits

#: The thresholds file shipped with the profiles ``ci`` and ``long``.
DEFAULT_FILE = Path(__file__).resolve().parent / "thresholds.toml"
ENV_PREFIX = "LOAD_"

_TIMESPAN = re.compile(r"(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")

Positive = Annotated[int, msgspec.Meta(ge=1)]
#: msgspec's bound also refuses nan (no comparison holds for it); inf is allowed: "no limit".
NonNegative = Annotated[float, msgspec.Meta(ge=0)]


class ProfileError(ValueError):
    """A profile cannot be used; the message names the file, variable or option and the field."""


def seconds(timespan: str) -> int:
    """Seconds in a locust run time: ``90``, ``20s``, ``5m``, ``1h30m``."""
    text = timespan.strip()
    if text.isdigit():
        total = int(text)
    else:
        match = _TIMESPAN.fullmatch(text)
        if not text or match is None:
            raise ValueError(f"run_time must look like 20s, 5m or 1h30m, got {timespan!r}")
        total = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    if total <= 0:
        raise ValueError(f"run_time must be at least one second, got {timespan!r}")
    return total


class Profile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One load profile. ``inf`` as a limit turns that threshold off."""

    #: Simulated users, all started at once (``spawn_rate`` a second).
    users: Positive
    spawn_rate: Annotated[float, msgspec.Meta(gt=0)]
    #: How long the load runs (locust's ``--run-time``): ``20s``, ``5m``.
    run_time: str
    #: Task runs a second per user (``constant_throughput``); 0: back to back, as fast as answered.
    user_rate: NonNegative = 0.0
    #: Load-generator processes (locust's ``--processes``); 1: no distribution.
    processes: Positive = 1
    #: uvicorn worker processes of the service started for the run.
    service_workers: Positive = 1
    #: Seed of the request mix.
    seed: int = 20261128
    max_failures: Annotated[int, msgspec.Meta(ge=0)] = 0
    max_p95_ms: NonNegative
    max_p99_ms: NonNegative
    min_rps: NonNegative

    def __post_init__(self) -> None:
        seconds(self.run_time)  # raises ValueError, which msgspec reports with the field

    @property
    def run_seconds(self) -> int:
        return seconds(self.run_time)

    def limits(self) -> Limits:
        return Limits(max_failures=self.max_failures, max_p95_ms=self.max_p95_ms,
                      max_p99_ms=self.max_p99_ms, min_rps=self.min_rps)


FIELDS: dict[str, Any] = {f.name: f.type for f in msgspec.structs.fields(Profile)}


def option(field: str) -> str:
    """The command-line option of ``field``: ``--max-p95-ms``."""
    return "--" + field.replace("_", "-")


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def _override(value: str, field: str, origin: str) -> Any:
    """``value`` (text) as ``field``'s type; a bad value names its ``origin``."""
    try:
        return msgspec.convert(value.strip(), FIELDS[field], strict=False)
    except msgspec.ValidationError as exc:
        raise ProfileError(f"{origin}: cannot use {value!r}: {str(exc).split(' - at ')[0]}") from None


def read_profiles(path: Path) -> dict[str, dict[str, Any]]:
    """The tables of a thresholds file, by profile name."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML: {exc}") from None
    tables = {name: table for name, table in data.items() if isinstance(table, dict)}
    if not tables or len(tables) != len(data):
        raise ProfileError(f"{path}: expected only tables, one a profile ([ci], [long], ...)")
    return tables


def load_profile(
    name: str,
    path: Path = DEFAULT_FILE,
    environ: Mapping[str, str] | None = None,
    options: Mapping[str, str | None] | None = None,
) -> Profile:
    """Profile ``name`` from ``path``, overridden by ``LOAD_*`` variables, then by ``options`` (field ->
    text, ``None`` for not given)."""
    tables = read_profiles(path)
    if name not in tables:
        raise ProfileError(f"{path}: no profile {name!r}; it has: {', '.join(sorted(tables))}")
    values = dict(tables[name])
    for key, raw in (environ or {}).items():
        if not key.startswith(ENV_PREFIX):
            continue
        field = key[len(ENV_PREFIX):].lower()
        if field not in FIELDS:
            # A misspelt override silently ignored would gate CI on the wrong threshold.
            known = ", ".join(env_name(f) for f in FIELDS)
            raise ProfileError(f"unknown variable {key}; the load profile reads: {known}")
        values[field] = _override(raw, field, key)
    for field, given in (options or {}).items():
        if given is not None:
            values[field] = _override(given, field, option(field))
    try:
        return msgspec.convert(values, Profile)
    except msgspec.ValidationError as exc:
        raise ProfileError(f"{path} [{name}]: {exc}") from None

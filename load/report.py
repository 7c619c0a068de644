"""Locust's CSV reports read into the ``Stats`` a verdict is made from.

The gate judges the same files CI keeps as artifacts (``<prefix>_stats.csv``, ``_failures.csv``,
``_exceptions.csv``), so what failed a pipeline can be read afterwards.
"""

from __future__ import annotations

import ast
import csv
import re
from collections import Counter
from pathlib import Path

from load.verdict import Stats


class ReportError(Exception):
    """The reports are missing or not what locust writes; the message says which file."""


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except OSError as exc:
        raise ReportError(f"{path}: cannot read locust's report: {exc.strerror or exc}") from None


def _number(row: dict[str, str], column: str, path: Path) -> float | None:
    text = (row.get(column) or "").strip()
    if text in ("", "N/A"):
        return None
    try:
        return float(text)
    except ValueError:
        raise ReportError(f"{path}: column {column!r} is not a number: {text!r}") from None


def _one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


_WRAPPED = re.compile(r"(?P<cls>[A-Za-z_]\w*)\((?P<repr>'.*'|\".*\")\)", re.DOTALL)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def unwrap(error: str) -> str:
    """A failure as the check wrote it: locust stores ``CatchResponseError('reason')``."""
    match = _WRAPPED.fullmatch(error.strip())
    if match and match["cls"] == "CatchResponseError":
        try:
            return str(ast.literal_eval(match["repr"]))
        except (ValueError, SyntaxError):
            pass
    return error


def top_failure(rows: list[dict[str, str]]) -> str | None:
    """The most frequent kind of failure, with one example: failures that differ only in their numbers
    (``total != sum of line amounts (0.03 != 0.02)``) are one kind, whichever request they hit."""
    kinds: Counter[str] = Counter()
    example: dict[str, tuple[str, str]] = {}
    for row in rows:
        error = unwrap(row.get("Error") or "")
        kind = _NUMBER.sub("#", error)
        kinds[kind] += int(row.get("Occurrences") or 0)
        example.setdefault(kind, (row.get("Name") or "", error))
    if not kinds:
        return None
    kind, count = kinds.most_common(1)[0]
    name, error = example[kind]
    return _one_line(f"{name}: {error} (x{count} like it)")


def read_stats(prefix: Path, run_seconds: float | None = None) -> Stats:
    """The stats of a run whose reports locust wrote with ``--csv <prefix>``.

    With ``run_seconds`` (the run time asked for), requests a second are counted over all of it.
    locust's own figure divides by the time up to the last request *answered*: a service that stops
    answering half-way keeps its early rate there, and would pass a floor it did not meet.
    """
    path = prefix.with_name(prefix.name + "_stats.csv")
    total = [r for r in _rows(path) if r.get("Name") == "Aggregated"]
    if len(total) != 1:
        raise ReportError(f"{path}: no 'Aggregated' row: locust did not finish its report")
    row = total[0]
    requests, failures, rps = (_number(row, c, path) for c in ("Request Count", "Failure Count", "Requests/s"))
    if requests is None or failures is None:
        raise ReportError(f"{path}: no request or failure count in the 'Aggregated' row")

    failures_path = prefix.with_name(prefix.name + "_failures.csv")
    worst = top_failure(_rows(failures_path)) if failures and failures_path.exists() else None

    exceptions_path = prefix.with_name(prefix.name + "_exceptions.csv")
    errors, top_error = 0, None
    if exceptions_path.exists():
        rows = sorted(_rows(exceptions_path), key=lambda r: -int(r.get("Count") or 0))
        errors = sum(int(r.get("Count") or 0) for r in rows)
        if rows:
            top_error = _one_line(f"{rows[0].get('Message')} (x{rows[0].get('Count')})")

    return Stats(
        requests=int(requests),
        failures=int(failures),
        rps=requests / run_seconds if run_seconds else rps or 0.0,
        p50_ms=_number(row, "50%", path),
        p95_ms=_number(row, "95%", path),
        p99_ms=_number(row, "99%", path),
        errors=errors,
        top_failure=worst,
        top_error=top_error,
    )

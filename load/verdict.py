"""Pass or fail of a load run: the run's stats and the limits in, a verdict with a one-line reason out.

Pure: no files, no clock, no locust. ``load/report.py`` reads locust's CSV reports into ``Stats``;
``load/profile.py`` reads the limits from ``load/thresholds.toml`` and its overrides.
"""

from __future__ import annotations

import msgspec


class Stats(msgspec.Struct, frozen=True, kw_only=True):
    """What a load run measured, over all requests (locust's "Aggregated" row)."""

    requests: int
    failures: int
    #: Requests a second over the run.
    rps: float
    #: Latency percentiles in milliseconds; ``None`` when nothing was measured.
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    #: Exceptions raised in the locustfile itself (a broken client, not a failed request).
    errors: int = 0
    #: The most frequent failure, as ``name: reason (xN)``, to name in the verdict.
    top_failure: str | None = None
    top_error: str | None = None


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """The thresholds a run must stay within."""

    #: Most failed requests allowed (0: any failure fails the run).
    max_failures: int = 0
    max_p95_ms: float
    max_p99_ms: float
    #: Fewest requests a second: below it, the service did not keep up with the offered load.
    min_rps: float


class Verdict(msgspec.Struct, frozen=True):
    passed: bool
    #: One line: every threshold crossed, or the measurements against their limits when passed.
    reason: str


def _one_line(text: str) -> str:
    # Failure messages quote response bodies; a verdict must stay one line in a CI log.
    return " ".join(text.split())


def _num(value: float) -> str:
    # 1000000 rather than 1e+06, 150 rather than 150.0; inf stays inf.
    return str(int(value)) if float(value).is_integer() else f"{value:.10g}"


def _ms(value: float) -> str:
    return f"{_num(value)} ms"


def judge(stats: Stats, limits: Limits) -> Verdict:
    """Whether ``stats`` are within ``limits``; the reason lists every threshold crossed, failures first."""
    if stats.requests <= 0:
        return Verdict(False, "no requests were made: the load generator did not run or could not connect")
    crossed = []
    if stats.failures > limits.max_failures:
        detail = f"; most frequent: {stats.top_failure}" if stats.top_failure else ""
        crossed.append(f"{stats.failures} of {stats.requests} requests failed "
                       f"(limit {limits.max_failures}){detail}")
    if stats.errors > 0:
        detail = f": {stats.top_error}" if stats.top_error else ""
        crossed.append(f"the locustfile raised {stats.errors} exceptions{detail}")
    for name, value, limit in (("p95", stats.p95_ms, limits.max_p95_ms), ("p99", stats.p99_ms, limits.max_p99_ms)):
        if value is None:
            crossed.append(f"no {name} latency was measured")
        elif value > limit:
            crossed.append(f"{name} latency {_ms(value)} above the limit {_ms(limit)}")
    if stats.rps < limits.min_rps:
        crossed.append(f"{stats.rps:.1f} requests/s below the floor {_num(limits.min_rps)}")
    if crossed:
        return Verdict(False, _one_line("; ".join(crossed)))
    return Verdict(True, (
        f"{stats.requests} requests, {stats.failures} failed (limit {limits.max_failures}), "
        f"{stats.rps:.1f} requests/s (floor {_num(limits.min_rps)}), p50 {_ms(stats.p50_ms or 0)}, "
        f"p95 {_ms(stats.p95_ms or 0)} (limit {_ms(limits.max_p95_ms)}), "
        f"p99 {_ms(stats.p99_ms or 0)} (limit {_ms(limits.max_p99_ms)})"))

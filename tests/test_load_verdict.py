"""The load gate's pure parts: the verdict on a run's stats, the profiles and their overrides, and
reading locust's CSV reports."""

from __future__ import annotations

import math
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from load.profile import DEFAULT_FILE, ProfileError, load_profile, read_profiles, seconds
from load.report import ReportError, read_stats, top_failure, unwrap
from load.verdict import Limits, Stats, judge

LIMITS = Limits(max_failures=0, max_p95_ms=150, max_p99_ms=400, min_rps=480)
GOOD = Stats(requests=12_000, failures=0, rps=600.0, p50_ms=6, p95_ms=25, p99_ms=70)


def with_(stats: Stats, **changes: object) -> Stats:
    return msgspec.structs.replace(stats, **changes)


# -- the verdict -------------------------------------------------------------------------------------


def test_a_run_within_every_limit_passes_and_says_so() -> None:
    verdict = judge(GOOD, LIMITS)
    assert verdict.passed
    assert verdict.reason == ("12000 requests, 0 failed (limit 0), 600.0 requests/s (floor 480), p50 6 ms, "
                              "p95 25 ms (limit 150 ms), p99 70 ms (limit 400 ms)")


@pytest.mark.parametrize(("changes", "reason"), [
    ({"failures": 1, "top_failure": "POST /v1/quotes: HTTP 500: boom (x1 like it)"},
     "1 of 12000 requests failed (limit 0); most frequent: POST /v1/quotes: HTTP 500: boom (x1 like it)"),
    ({"p95_ms": 151}, "p95 latency 151 ms above the limit 150 ms"),
    ({"p99_ms": 410.5}, "p99 latency 410.5 ms above the limit 400 ms"),
    ({"rps": 479.94}, "479.9 requests/s below the floor 480"),
    ({"rps": 12.0, "p95_ms": 1e6 + 0.5}, "p95 latency 1000000.5 ms above the limit 150 ms; 12.0 requests/s below the floor 480"),
    ({"errors": 3, "top_error": "KeyError('x') (x3)"}, "the locustfile raised 3 exceptions: KeyError('x') (x3)"),
    ({"p95_ms": None}, "no p95 latency was measured"),
])
def test_each_threshold_crossed_fails_with_its_own_reason(changes: dict[str, object], reason: str) -> None:
    verdict = judge(with_(GOOD, **changes), LIMITS)
    assert not verdict.passed
    assert verdict.reason == reason


def test_limits_are_inclusive() -> None:
    at_limits = with_(GOOD, p95_ms=150, p99_ms=400, rps=480.0)
    assert judge(at_limits, LIMITS).passed
    assert judge(with_(GOOD, failures=2), with_limits(max_failures=2)).passed
    assert not judge(with_(GOOD, failures=3), with_limits(max_failures=2)).passed


def with_limits(**changes: object) -> Limits:
    return msgspec.structs.replace(LIMITS, **changes)


def test_every_crossed_threshold_is_named_on_one_line_failures_first() -> None:
    bad = with_(GOOD, failures=5, top_failure="GET /healthz: HTTP 503:\n  down\n (x5 like it)",
                p95_ms=900, p99_ms=2000, rps=12.0)
    verdict = judge(bad, LIMITS)
    assert not verdict.passed
    assert "\n" not in verdict.reason
    parts = verdict.reason.split("; ")
    assert parts[0] == "5 of 12000 requests failed (limit 0)"
    assert parts[1] == "most frequent: GET /healthz: HTTP 503: down (x5 like it)"
    assert parts[2:] == ["p95 latency 900 ms above the limit 150 ms", "p99 latency 2000 ms above the limit 400 ms",
                         "12.0 requests/s below the floor 480"]


def test_no_requests_never_passes_even_with_every_threshold_off() -> None:
    off = Limits(max_failures=10**9, max_p95_ms=math.inf, max_p99_ms=math.inf, min_rps=0)
    verdict = judge(Stats(requests=0, failures=0, rps=0.0, p50_ms=None, p95_ms=None, p99_ms=None), off)
    assert not verdict.passed
    assert verdict.reason.startswith("no requests were made")


def test_an_infinite_limit_turns_a_threshold_off() -> None:
    slow = with_(GOOD, p95_ms=10_000, p99_ms=60_000)
    assert judge(slow, with_limits(max_p95_ms=math.inf, max_p99_ms=math.inf)).passed


@given(
    requests=st.integers(1, 10**7), failures=st.integers(0, 10**7), rps=st.floats(0, 1e5),
    p95=st.floats(0, 1e5), p99=st.floats(0, 1e5),
    max_failures=st.integers(0, 100), max_p95=st.floats(0, 1e5), max_p99=st.floats(0, 1e5), floor=st.floats(0, 1e5),
)
def test_the_verdict_passes_exactly_when_every_limit_holds(
    requests: int, failures: int, rps: float, p95: float, p99: float,
    max_failures: int, max_p95: float, max_p99: float, floor: float,
) -> None:
    stats = Stats(requests=requests, failures=failures, rps=rps, p50_ms=p95 / 2, p95_ms=p95, p99_ms=p99)
    limits = Limits(max_failures=max_failures, max_p95_ms=max_p95, max_p99_ms=max_p99, min_rps=floor)
    verdict = judge(stats, limits)
    within = failures <= max_failures and p95 <= max_p95 and p99 <= max_p99 and rps >= floor
    assert verdict.passed == within
    assert "\n" not in verdict.reason
    # A failed verdict names each threshold crossed, and no other.
    assert ("requests failed" in verdict.reason) == (failures > max_failures)
    assert ("p95 latency" in verdict.reason) == (p95 > max_p95)
    assert ("p99 latency" in verdict.reason) == (p99 > max_p99)
    assert ("below the floor" in verdict.reason) == (rps < floor)


# -- profiles ----------------------------------------------------------------------------------------


def test_the_shipped_profiles_load_and_leave_room_under_their_own_offered_rate() -> None:
    assert set(read_profiles(DEFAULT_FILE)) >= {"ci", "long"}
    for name in ("ci", "long"):
        profile = load_profile(name, environ={})
        assert profile.max_failures == 0
        assert 0 < profile.max_p95_ms <= profile.max_p99_ms < math.inf
        # The floor must be reachable: below the rate the paced users offer.
        assert 0 < profile.min_rps < profile.users * profile.user_rate
    ci = load_profile("ci", environ={})
    # `make test` runs it: about 20 s of load, no more.
    assert ci.run_seconds <= 30


def test_command_line_beats_environment_beats_file() -> None:
    base = load_profile("ci", environ={})
    env = load_profile("ci", environ={"LOAD_MAX_P95_MS": "80", "LOAD_USERS": "7", "PATH": "/bin"})
    assert (env.max_p95_ms, env.users, env.max_p99_ms) == (80.0, 7, base.max_p99_ms)
    both = load_profile("ci", environ={"LOAD_MAX_P95_MS": "80"}, options={"max_p95_ms": "90", "users": None})
    assert (both.max_p95_ms, both.users) == (90.0, base.users)
    assert load_profile("ci", environ={}, options={"max_p99_ms": "inf"}).max_p99_ms == math.inf


@pytest.mark.parametrize(("environ", "options", "message"), [
    ({"LOAD_MAX_P95": "80"}, {}, "unknown variable LOAD_MAX_P95; the load profile reads: LOAD_USERS"),
    ({"LOAD_USERS": "many"}, {}, "LOAD_USERS: cannot use 'many': Expected `int`, got `str`"),
    ({}, {"users": "0"}, "--users: cannot use '0': Expected `int` >= 1"),
    ({}, {"min_rps": "-1"}, "--min-rps: cannot use '-1': Expected `float` >= 0.0"),
    ({}, {"max_p95_ms": "nan"}, "--max-p95-ms: cannot use 'nan': Expected `float` >= 0.0"),
    ({"LOAD_SPAWN_RATE": "0"}, {}, "LOAD_SPAWN_RATE: cannot use '0': Expected `float` > 0.0"),
    ({}, {"run_time": "20 seconds"}, "run_time must look like 20s, 5m or 1h30m, got '20 seconds'"),
])
def test_a_bad_override_is_refused_naming_where_it_came_from(
    environ: dict[str, str], options: dict[str, str], message: str
) -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile("ci", environ=environ, options=options)
    assert message in str(caught.value)


def test_a_bad_thresholds_file_is_refused_naming_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "limits.toml"
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile("ci", path, environ={})
    path.write_text('[ci]\nusers = 3\nspawn_rate = 3\nrun_time = "5s"\nmax_p95_ms = 1\nmax_p99_ms = 1\n'
                    'min_rps = 1\nmax_p59_ms = 3\n')
    with pytest.raises(ProfileError, match=r"limits.toml \[ci\]: Object contains unknown field `max_p59_ms`"):
        load_profile("ci", path, environ={})
    with pytest.raises(ProfileError, match="no profile 'nightly'; it has: ci"):
        load_profile("nightly", path, environ={})
    path.write_text('[ci]\nusers = 3\n')
    with pytest.raises(ProfileError, match="missing required field"):
        load_profile("ci", path, environ={})
    path.write_text('users = 3\n')
    with pytest.raises(ProfileError, match="expected only tables"):
        load_profile("ci", path, environ={})


@pytest.mark.parametrize(("text", "expected"), [("20s", 20), ("5m", 300), ("1h30m", 5400), ("90", 90), ("1m5s", 65)])
def test_run_times_read_like_locust(text: str, expected: int) -> None:
    assert seconds(text) == expected


@pytest.mark.parametrize("text", ["", "0s", "s", "5 m", "-5s", "1.5m", "20ms"])
def test_bad_run_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="run_time"):
        seconds(text)


# -- locust's reports --------------------------------------------------------------------------------

HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
          "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
          "99.99%,100%\n")


def write_report(tmp_path: Path, stats: str, failures: str = "", exceptions: str = "") -> Path:
    prefix = tmp_path / "final"
    (tmp_path / "final_stats.csv").write_text(HEADER + stats)
    (tmp_path / "final_failures.csv").write_text("Method,Name,Error,Occurrences,First Seen,Last Seen\n" + failures)
    (tmp_path / "final_exceptions.csv").write_text("Count,Message,Traceback,Nodes\n" + exceptions)
    return prefix


def test_the_aggregated_row_becomes_the_stats(tmp_path: Path) -> None:
    prefix = write_report(tmp_path, (
        "POST,POST /v1/quotes,100,2,3,4.5,0.2,90,700,50.0,1.0,3,4,5,6,8,12,20,33,80,90,90\n"
        ",Aggregated,150,2,3,4.1,0.2,95,650,75.5,1.0,3,4,5,6,8,13,21,35,85,95,95\n"))
    stats = read_stats(prefix)
    assert stats == Stats(requests=150, failures=2, rps=75.5, p50_ms=3, p95_ms=13, p99_ms=35)
    # Over the run time asked for, not locust's "up to the last answer".
    assert read_stats(prefix, run_seconds=3).rps == 50.0


def test_failures_are_grouped_by_kind_and_unwrapped(tmp_path: Path) -> None:
    rows = (
        'POST,POST /v1/quotes,"CatchResponseError(\'quote: total != sum of line amounts (0.032065 != 0.032064)\')",3,x,y\n'
        'POST,POST /v1/quotes,"CatchResponseError(\'quote: total != sum of line amounts (1.5 != 1.4)\')",2,x,y\n'
        'POST,POST /v1/quotes/batch [2-10],"CatchResponseError(\'HTTP 500: oops\')",4,x,y\n'
    )
    prefix = write_report(tmp_path, ",Aggregated,10,9,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n", rows,
                          '2,"KeyError(\'model\')","Traceback ...",vm\n')
    stats = read_stats(prefix)
    assert stats.top_failure == "POST /v1/quotes: quote: total != sum of line amounts (0.032065 != 0.032064) (x5 like it)"
    assert (stats.errors, stats.top_error) == (2, "KeyError('model') (x2)")


def test_unwrap_leaves_other_errors_alone() -> None:
    assert unwrap("CatchResponseError('HTTP 500: {\"a\": 1}')") == 'HTTP 500: {"a": 1}'
    assert unwrap('CatchResponseError("it\'s wrong")') == "it's wrong"
    assert unwrap("ConnectionRefusedError(111, 'Connection refused')") == \
        "ConnectionRefusedError(111, 'Connection refused')"
    assert top_failure([]) is None


def test_a_missing_or_unfinished_report_is_an_error_not_a_pass(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="cannot read locust's report"):
        read_stats(tmp_path / "final")
    prefix = write_report(tmp_path, "POST,POST /v1/quotes,100,0,3,4.5,0.2,90,700,50.0,0,3,4,5,6,8,12,20,33,80,90,90\n")
    with pytest.raises(ReportError, match="no 'Aggregated' row"):
        read_stats(prefix)
    prefix = write_report(tmp_path, ",Aggregated,many,0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n")
    with pytest.raises(ReportError, match="'Request Count' is not a number"):
        read_stats(prefix)


def test_no_requests_reads_as_not_available(tmp_path: Path) -> None:
    prefix = write_report(tmp_path, ",Aggregated,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n")
    stats = read_stats(prefix, run_seconds=20)
    assert (stats.requests, stats.rps, stats.p95_ms) == (0, 0.0, None)
    assert not judge(stats, LIMITS).passed

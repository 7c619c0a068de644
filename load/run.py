"""``python -m load.run``: a bounded, headless locust run against the service, gated on thresholds.

    python -m load.run --profile ci                  # what `make load-ci` runs (and `make test`)
    python -m load.run --profile long                # `make load-long`
    python -m load.run --profile ci --max-p95-ms 80  # any profile field; or LOAD_MAX_P95_MS=80
    python -m load.run --host http://127.0.0.1:8000  # an already running service instead
    python -m load.run --judge load/reports/dist     # only judge a run made elsewhere (distributed)

Starts ``inference-cost serve`` on a free loopback port (unless ``--host``), waits until
``/healthz`` answers, runs locust headless for the profile's run time with its fixed user count,
writes locust's CSV and HTML reports to ``load/reports/<profile>/``, stops the service (also on
failure and Ctrl-C), judges the run against the profile's thresholds and prints one line, last:

    load [ci]: PASS: 11885 requests, 0 failed (limit 0), 594.2 requests/s (floor 480), p50 5 ms, ...
    load [ci]: FAIL: p95 latency 160 ms above the limit 150 ms

Exit status: 0 passed; 1 a threshold was crossed; 2 bad options or profile; 3 the run could not be
made (the service did not start, locust wrote no report); 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

from load.profile import DEFAULT_FILE, FIELDS, Profile, ProfileError, env_name, load_profile, option
from load.report import ReportError, read_stats
from load.verdict import Stats, judge

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
REPORTS = Path(__file__).resolve().parent / "reports"

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_NOT_RUN, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
#: Seconds locust gives running tasks to finish once the run time is up (its --stop-timeout): longer
#: than a request's timeout (load/locustfile.py), so a hung request is counted as failed, not dropped.
STOP_TIMEOUT = 10
#: Seconds the service gets to answer /healthz after it is started.
START_TIMEOUT = 30
#: Seconds locust may take beyond run time + stop timeout to start, report and exit before it is killed.
LOCUST_GRACE = 60
#: Seconds a process gets to exit after SIGTERM/SIGINT before it is killed (uvicorn drains up to 10).
STOP_GRACE = 15

#: Prefix of the final stats the gate judges (load/final_report.py says why not locust's own CSV).
FINAL = "final"
#: The files of a run, removed before it so an old report can never be judged.
REPORT_FILES = ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "locust_exceptions.csv",
                "final_stats.csv", "final_failures.csv", "final_exceptions.csv",
                "report.html", "service.log", "verdict.txt")


class RunError(Exception):
    """The run could not be made; the message is the one-line reason."""


class Interrupted(BaseException):
    """SIGTERM or SIGINT: unwinds like Ctrl-C so every started process is stopped."""


def _interrupt(signum: int, _frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


def free_port() -> int:
    """A loopback port nobody listens on now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop ``proc`` and everything it started (it leads its own session): ``sig``, then SIGKILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_GRACE)
    # Workers of a stopped parent (uvicorn --workers, locust --processes) go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def _last_line(path: Path) -> str:
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    except OSError:
        return ""
    lines = [line for line in lines if line]
    return lines[-1] if lines else ""


def wait_healthy(url: str, proc: subprocess.Popen[bytes] | None, log: Path | None, timeout: float) -> None:
    """Return once ``url``/healthz answers 200; raise ``RunError`` if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            why = _last_line(log) if log is not None else ""
            raise RunError(f"the service exited with status {proc.returncode} before it was healthy"
                           + (f": {why}" if why else ""))
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            last = str(getattr(exc, "reason", exc))
        time.sleep(0.1)
    raise RunError(f"{url}/healthz did not answer 200 within {timeout:g} s (last: {last})")


@contextlib.contextmanager
def service(profile: Profile, catalog: str | None, log: Path) -> Iterator[str]:
    """``inference-cost serve`` on a free loopback port, healthy; yields its URL and always stops it."""
    for _attempt in range(3):
        port = free_port()
        command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(profile.service_workers), "--log-level", "warning", "--no-access-log"]
        if catalog is not None:
            command += ["--catalog", catalog]
        with log.open("ab") as out:
            proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            try:
                wait_healthy(url, proc, log, START_TIMEOUT)
            except RunError:
                # Another process may have taken the port between free_port() and the bind: retry.
                if proc.poll() is not None and "address already in use" in _last_line(log).lower():
                    continue
                raise
            yield url
            return
        finally:
            stop(proc)
    raise RunError("could not bind a free loopback port for the service in 3 attempts")


def locust_command(profile: Profile, url: str, reports: Path) -> list[str]:
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url,
               "--users", str(profile.users), "--spawn-rate", str(profile.spawn_rate),
               "--run-time", profile.run_time, "--stop-timeout", str(STOP_TIMEOUT),
               "--csv", str(reports / "locust"), "--html", str(reports / "report.html"), "--only-summary",
               # The locustfile's own options (see load/locustfile.py).
               "--mix-seed", str(profile.seed), "--user-rate", str(profile.user_rate),
               "--final-csv", str(reports / FINAL)]
    if profile.processes > 1:
        command += ["--processes", str(profile.processes)]
    return command


def run_locust(profile: Profile, url: str, reports: Path) -> int:
    """Run locust to the end of the profile's run time (killed if it overstays); its exit status."""
    proc = subprocess.Popen(locust_command(profile, url, reports), cwd=ROOT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    limit = profile.run_seconds + STOP_TIMEOUT + LOCUST_GRACE
    try:
        return proc.wait(limit)
    except subprocess.TimeoutExpired:
        raise RunError(f"locust did not finish within {limit} s of a {profile.run_time} run; killed it") from None
    finally:
        # SIGINT: a locust still running (interrupted) stops its users and writes its reports.
        stop(proc, signal.SIGINT)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m load.run", description=__doc__.split("\n\n")[0],
        epilog="Each profile field can also be set as an environment variable, LOAD_<FIELD> "
               "(e.g. LOAD_MAX_P95_MS=80); options win over variables, variables over the file.")
    parser.add_argument("--profile", default="ci", help="profile (table) in the thresholds file (default: ci)")
    parser.add_argument("--thresholds", type=Path, default=DEFAULT_FILE, metavar="FILE",
                        help="the profiles file (default: load/thresholds.toml)")
    parser.add_argument("--host", metavar="URL", help="load-test this running service instead of starting one")
    parser.add_argument("--catalog", metavar="PATH", help="catalog file or folder for the started service")
    parser.add_argument("--reports", type=Path, metavar="DIR", help="report folder (default: load/reports/PROFILE)")
    parser.add_argument("--judge", type=Path, metavar="DIR",
                        help="run nothing: judge the reports a locust run wrote with --final-csv DIR/final "
                             "(a distributed run, say) against the profile, whose run_time must be the run's")
    overrides = parser.add_argument_group("profile overrides (see load/thresholds.toml)")
    for field in FIELDS:
        overrides.add_argument(option(field), dest=f"set_{field}", metavar="VALUE", help=f"[{env_name(field)}]")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    tag = f"load [{args.profile}]"
    try:
        profile = load_profile(args.profile, args.thresholds, os.environ,
                               {field: getattr(args, f"set_{field}") for field in FIELDS})
    except ProfileError as exc:
        print(f"{tag}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.judge is not None:
        try:
            return _verdict(tag, read_stats(args.judge / FINAL, profile.run_seconds), profile, args.judge)
        except ReportError as exc:
            print(f"{tag}: ERROR: {exc}", file=sys.stderr)
            return EXIT_NOT_RUN
    reports = args.reports or REPORTS / args.profile
    reports.mkdir(parents=True, exist_ok=True)
    for name in REPORT_FILES:
        (reports / name).unlink(missing_ok=True)

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if args.host:
            url = args.host.rstrip("/")
            wait_healthy(url, None, None, START_TIMEOUT)
            status = run_locust(profile, url, reports)
        else:
            with service(profile, args.catalog, reports / "service.log") as url:
                status = run_locust(profile, url, reports)
        try:
            stats = read_stats(reports / FINAL, profile.run_seconds)
        except ReportError as exc:
            raise RunError(f"locust exited with status {status} and no report (see its output above): {exc}") from None
    except RunError as exc:
        print(f"{tag}: ERROR: {exc}", file=sys.stderr)
        return EXIT_NOT_RUN
    except (KeyboardInterrupt, Interrupted):
        print(f"{tag}: interrupted; the service and locust were stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)

    return _verdict(tag, stats, profile, reports)


def _verdict(tag: str, stats: Stats, profile: Profile, reports: Path) -> int:
    """Judge, print the one-line verdict (last), keep it with the reports; the exit status."""
    verdict = judge(stats, profile.limits())
    line = f"{tag}: {'PASS' if verdict.passed else 'FAIL'}: {verdict.reason}"
    (reports / "verdict.txt").write_text(line + "\n", encoding="utf-8")
    print(f"{tag}: reports in {reports}", flush=True)
    print(line, file=sys.stdout if verdict.passed else sys.stderr, flush=True)
    return EXIT_PASS if verdict.passed else EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())

"""Simulated clients of the quote service, for locust.

    locust -f load/locustfile.py --host http://127.0.0.1:8000          # web UI on :8089
    python -m load.run --profile ci                                   # the CI gate (see load/run.py)

Three kinds of client, in a weighted mix (``weight``), each pacing itself to ``--user-rate`` task
runs a second (0, the default: back to back):

- ``PricingApp``: an application pricing each LLM call as it happens: single quotes, now and then a
  model look-up;
- ``BillingJob``: a billing job pricing logged usage in batches of various sizes;
- ``CostDashboard``: a planning page comparing models on one token profile and browsing the catalog.

Every response is decoded and checked (``load/checks.py``), not only its status; a response that
fails a check marks its request failed, with the broken rule as the reason. What is sent comes
from the catalog the service serves (``load/mix.py``), read once per process at start-up.
"""

from __future__ import annotations

import random
import sys
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import gevent.lock
import msgspec
from locust import FastHttpUser, constant, constant_throughput, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import WorkerRunner

# locust imports this file by path, with only load/ on sys.path; the helpers are imported as the
# `load` package, as the tests import them, so the repository root goes on the path too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from load import checks
from load.final_report import write_final_csv
from load.mix import Mix, parse_models

T = TypeVar("T")

JSON_HEADERS = {"Content-Type": "application/json"}
DEFAULT_SEED = 20261128

_environment: Environment | None = None
#: The process's request mix, built by the first user to start; every user then shares it.
_mix: Mix | None = None
_mix_tried = False
_mix_lock = gevent.lock.Semaphore()


def _options(parser: Any) -> None:
    # Options of this locustfile; locust hands them on to its worker processes.
    parser.add_argument("--mix-seed", type=int, default=DEFAULT_SEED, env_var="LOCUST_MIX_SEED",
                        help="seed of the request mix: the same catalog and seed send the same requests")
    parser.add_argument("--user-rate", type=float, default=0.0, env_var="LOCUST_USER_RATE",
                        help="task runs a second per simulated user; 0 runs them back to back")
    parser.add_argument("--final-csv", default="", env_var="LOCUST_FINAL_CSV",
                        help="once the run is over, write its final stats as CSV under this prefix "
                             "(locust's own --csv files are rewritten each second and can miss the last one)")


def _init(environment: Environment, **_kwargs: Any) -> None:
    global _environment
    _environment = environment


def _final_report(exit_code: int, **_kwargs: Any) -> None:
    env = _environment
    options = env.parsed_options if env is not None else None
    # Workers report to the master; only the master (or a lone process) holds the whole run.
    if env is not None and options is not None and options.final_csv and not isinstance(env.runner, WorkerRunner):
        write_final_csv(env, options.final_csv)


# locust's EventHook is untyped; a plain call reads as well as its decorator.
events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]
events.init.add_listener(_init)  # type: ignore[no-untyped-call]
events.quit.add_listener(_final_report)  # type: ignore[no-untyped-call]


def _pacer(rate: float) -> Callable[[Any], float]:
    return constant_throughput(rate) if rate > 0 else constant(0)


class Client(FastHttpUser):
    """What every simulated client shares: the mix, a seeded random source, checked requests."""

    abstract = True
    #: Seconds before a request with no answer fails. A hung service must show up as failed requests:
    #: requests still waiting when the run ends are dropped, not counted (load/run.py gives them this
    #: long to finish: its STOP_TIMEOUT is longer).
    network_timeout = 5.0
    connection_timeout = 5.0
    _count = 0

    def on_start(self) -> None:
        Client._count += 1
        options = self.environment.parsed_options
        self.seed: int = options.mix_seed if options is not None else DEFAULT_SEED
        self._pace = _pacer(options.user_rate if options is not None else 0.0)
        # Workers of a distributed run count their users from 1 too: their index keeps them apart.
        worker = getattr(self.environment.runner, "worker_index", 0)
        self.rng = random.Random(f"{self.seed}/{worker}/{type(self).__name__}/{Client._count}")
        self.mix = self._shared_mix()

    def wait_time(self) -> float:
        return self._pace(self)

    def _shared_mix(self) -> Mix:
        """The process's mix, built from ``GET /v1/models`` by the first user to start."""
        global _mix, _mix_tried
        with _mix_lock:
            if not _mix_tried:
                _mix_tried = True
                _mix = self.checked("GET", "/v1/models", "GET /v1/models (the mix's catalog)", self._build_mix)
        if _mix is None:
            # Nothing valid to send: the failed request above says why, and fails the run.
            raise StopUser()
        return _mix

    def _build_mix(self, body: bytes) -> Mix:
        checks.check_models(body)
        try:
            return Mix(parse_models(body), datetime.now(UTC), self.seed)
        except (msgspec.ValidationError, ValueError) as exc:
            raise checks.CheckError(f"no request mix from this catalog: {exc}") from None

    def checked(self, method: str, path: str, name: str, check: Callable[[bytes], T],
                body: bytes | None = None) -> T | None:
        """Send a request; fail it unless it is a 200 whose body passes ``check``; ``check``'s result."""
        # The hint says str, the docstring (and geventhttpclient) take bytes: no decode and re-encode.
        with self.client.request(method, path, name=name, data=body,  # type: ignore[arg-type]
                                 headers=JSON_HEADERS if body else None, catch_response=True) as response:
            if response.status_code == 0:
                response.failure(f"no answer: {response.error!r}")
                return None
            content = response.content or b""
            if response.status_code != 200:
                snippet = content[:200].decode("utf-8", "replace")
                response.failure(f"HTTP {response.status_code}: {snippet}")
                return None
            try:
                result = check(content)
            except checks.CheckError as exc:
                response.failure(str(exc))
                return None
            response.success()
            return result

    def read_model(self) -> None:
        name = self.rng.choice(self.mix.names)
        model_id = self.mix.model_id(name)
        self.checked("GET", f"/v1/models/{urllib.parse.quote(name, safe='/:')}", "GET /v1/models/{name}",
                     lambda body: checks.check_model(body, model_id))


class PricingApp(Client):
    """An application pricing each LLM call as it happens."""

    weight = 6

    @task(20)
    def quote(self) -> None:
        workload, body = self.mix.workload(self.rng)
        self.checked("POST", "/v1/quotes", "POST /v1/quotes",
                     lambda content: checks.check_quote(content, workload), body)

    @task(1)
    def model(self) -> None:
        self.read_model()


class BillingJob(Client):
    """A billing job pricing logged usage in batches: mostly small, now and then a thousand."""

    weight = 2

    @task
    def batch(self) -> None:
        label, workloads, body = self.mix.batch(self.rng)
        self.checked("POST", "/v1/quotes/batch", f"POST /v1/quotes/batch [{label}]",
                     lambda content: checks.check_batch(content, workloads), body)


class CostDashboard(Client):
    """A planning page: compares models on one token profile, browses the catalog."""

    weight = 2

    @task(6)
    def compare(self) -> None:
        label, request, expected = self.mix.compare(self.rng)
        self.checked("POST", "/v1/compare", f"POST /v1/compare [{label} models]",
                     lambda content: checks.check_compare(content, request, expected),
                     msgspec.json.encode(request))

    @task(2)
    def model(self) -> None:
        self.read_model()

    @task(1)
    def models(self) -> None:
        provider = self.rng.choice(self.mix.providers)
        self.checked("GET", f"/v1/models?provider={provider}", "GET /v1/models?provider=",
                     lambda body: checks.check_models(body, provider))

    @task(1)
    def health(self) -> None:
        self.checked("GET", "/healthz", "GET /healthz", checks.check_health)

"""Prometheus metrics of the service, and ``GET /metrics``.

With several workers, ``PROMETHEUS_MULTIPROC_DIR`` (set by ``serve`` before the workers start) makes
prometheus-client keep each worker's values in files there, and a scrape of any worker sums them.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

from pricing import Catalog

#: Set when the service runs several workers; the directory of the shared metric files.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MULTIPROCESS = bool(os.environ.get(MULTIPROC_ENV))

REQUESTS = Counter("inference_cost_requests_total", "HTTP requests answered, by route, method and status.",
                   ["route", "method", "status"])
LATENCY = Histogram("inference_cost_request_duration_seconds", "Time to answer a request, by route.",
                    ["route"], buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))
PROBLEMS = Counter("inference_cost_problems_total", "Problem documents answered, by their code.", ["code"])
QUOTES = Counter("inference_cost_quotes_priced_total", "Workloads priced (one per quote, each of a batch).")
BATCH_SIZE = Histogram("inference_cost_batch_workloads", "Workloads per batch request.",
                       buckets=(1, 10, 100, 1_000, 5_000, 10_000))
REJECTED = Counter("inference_cost_rejected_total",
                   "Requests refused by an operator limit (concurrency, timeout), by reason.", ["reason"])
IN_FLIGHT = Gauge("inference_cost_requests_in_flight", "Requests being served (when the worker was scraped).",
                  multiprocess_mode="livesum")
# Counted by the guard as a plain integer, read at scrape time: a gauge update per request costs.
_in_flight: list[Callable[[], int]] = []
CATALOG = Gauge("inference_cost_catalog_info", "The catalog in use: its digest and model count (value 1).",
                ["digest", "models"], multiprocess_mode="liveall")
RELOADS = Counter("inference_cost_catalog_reloads_total", "Catalog reloads (SIGHUP), by outcome.", ["outcome"])
# prometheus-client's process collector does not work in multiprocess mode: each worker reports its
# own figures under its pid instead (refreshed at each scrape of that worker, and every few seconds).
RSS = Gauge("inference_cost_worker_resident_memory_bytes", "Resident memory of a worker.",
            multiprocess_mode="liveall")
CPU = Gauge("inference_cost_worker_cpu_seconds", "CPU time (user + system) of a worker.", multiprocess_mode="liveall")
STARTED = Gauge("inference_cost_worker_start_time_seconds", "When a worker started (Unix time).",
                multiprocess_mode="liveall")
STARTED.set(time.time())


_shown: list[tuple[str, str]] = []


def show_catalog(catalog: Catalog) -> None:
    """Make the catalog info metric name ``catalog`` alone (1; the one it replaces goes to 0)."""
    labels = (catalog.digest, str(len(catalog.models())))
    # Not CATALOG.clear(): multiprocess mode cannot clear, so a replaced catalog's sample drops to 0.
    for old in _shown:
        if old != labels:
            CATALOG.labels(*old).set(0)
    CATALOG.labels(*labels).set(1)
    _shown[:] = [labels]


def count_in_flight(count: Callable[[], int]) -> None:
    """Report ``count()`` as the requests in flight at each scrape."""
    _in_flight[:] = [count]


def sample_process() -> None:
    """Refresh this worker's memory, CPU and in-flight gauges."""
    IN_FLIGHT.set(sum(count() for count in _in_flight))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    CPU.set(usage.ru_utime + usage.ru_stime)
    try:
        with open("/proc/self/statm", "rb") as f:
            RSS.set(int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
    except OSError:  # not Linux: the peak is what is portable
        RSS.set(usage.ru_maxrss * 1024)


def exposition() -> bytes:
    """The text format of every metric, summed over the workers in multiprocess mode."""
    sample_process()
    if MULTIPROCESS:
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def routes(current: Callable[[], Catalog]) -> list[HTTPRouteHandler]:
    """``GET /metrics`` (outside the OpenAPI document: it is for the scraper, not API clients)."""

    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def metrics() -> Response[bytes]:
        # Litestar adds "; charset=utf-8" to a text type; prometheus-client's constant has it already.
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST.replace("; charset=utf-8", ""))

    return [metrics]

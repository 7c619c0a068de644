"""Running an ASGI app under uvicorn with the service's settings (shared with the benchmark)."""

from __future__ import annotations

import gc
import os
import signal
from typing import Any

import uvicorn

from service.api.settings import ENV_PREFIX, GRACEFUL_SHUTDOWN_SECONDS, Settings

#: The factory each worker process calls when there are several (uvicorn imports it by name).
APP_FACTORY = "service.api.app:app_from_env"


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's keyword arguments for ``settings``: uvloop and httptools where installed."""
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "auto",  # uvloop if importable, else asyncio
        "http": "auto",  # httptools if importable, else h11
        "lifespan": "on",
        "log_level": settings.log_level,
        "access_log": settings.access_log,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }


def freeze_startup_objects() -> None:
    """Move what start-up built (the catalog, the app) out of the garbage collector's reach.

    They live as long as the process; without this every full collection, which the allocations of
    each request trigger now and then, walks all of them again (it showed as p99 latency spikes).
    """
    gc.collect()
    gc.freeze()


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run(app: Any, settings: Settings, factory: str = APP_FACTORY) -> None:
    """Serve ``app`` until SIGINT or SIGTERM; uvicorn drains open requests and returns.

    With one worker the already-built ``app`` is served, so nothing is loaded twice. With several,
    each worker process builds its own from ``factory``, which reads the same settings from the
    environment (the caller has checked that the catalog loads before any port is bound).
    """
    options = uvicorn_options(settings)
    # uvicorn handles SIGTERM itself (a graceful shutdown), then re-delivers the signal to the
    # handler that was in place before it; by default that kills the process, so a clean stop would
    # end with "terminated by SIGTERM". This handler ends it with status 0 instead (and, should
    # SIGTERM come before uvicorn listens, stops start-up).
    signal.signal(signal.SIGTERM, _exit_cleanly)
    if settings.workers == 1:
        freeze_startup_objects()
        uvicorn.run(app, **options)
        return
    if settings.catalog is not None:
        os.environ[ENV_PREFIX + "CATALOG"] = os.path.abspath(settings.catalog)
    uvicorn.run(factory, factory=True, workers=settings.workers, **options)

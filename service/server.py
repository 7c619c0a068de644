"""Running an ASGI app under uvicorn with the service's settings (shared with the benchmark)."""

from __future__ import annotations

import os
from typing import Any

import uvicorn

from service.settings import ENV_PREFIX, GRACEFUL_SHUTDOWN_SECONDS, Settings

#: The factory each worker process calls when there are several (uvicorn imports it by name).
APP_FACTORY = "service.app:app_from_env"


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


def run(app: Any, settings: Settings, factory: str = APP_FACTORY) -> None:
    """Serve ``app`` until SIGINT or SIGTERM; uvicorn drains open requests and returns.

    With one worker the already-built ``app`` is served, so nothing is loaded twice. With several,
    each worker process builds its own from ``factory``, which reads the same settings from the
    environment (the caller has checked that the catalog loads before any port is bound).
    """
    options = uvicorn_options(settings)
    if settings.workers == 1:
        uvicorn.run(app, **options)
        return
    if settings.catalog is not None:
        os.environ[ENV_PREFIX + "CATALOG"] = os.path.abspath(settings.catalog)
    uvicorn.run(factory, factory=True, workers=settings.workers, **options)

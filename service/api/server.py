"""Running the app under uvicorn with the service's settings (shared with the benchmark): limits,
logs, reload on SIGHUP, and a supervisor that passes SIGHUP on to every worker."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import tempfile
from typing import Any

import msgspec
import uvicorn
from uvicorn.supervisors import Multiprocess

from service.api import logs, memory, metrics
from service.api.current import CurrentCatalog
from service.api.guard import Guard
from service.api.protocol import GuardedHttpToolsProtocol, Limits
from service.api.settings import Settings, settings_env

#: The factory each worker process calls when there are several (uvicorn imports it by name).
APP_FACTORY = "service.api.app:app_from_env"
_log = logging.getLogger("service.server")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's keyword arguments for ``settings``: uvloop where installed, httptools with limits."""
    GuardedHttpToolsProtocol.limits = Limits(max_url_bytes=settings.max_url_bytes,
                                             max_header_bytes=settings.max_header_bytes,
                                             header_timeout=settings.header_timeout)
    return {
        "host": settings.host,
        "port": settings.port,
        "loop": "auto",  # uvloop if importable, else asyncio
        "http": GuardedHttpToolsProtocol,
        "lifespan": "on",
        "log_level": settings.log_level,
        # The service writes its own request lines (service.request); uvicorn's would repeat them.
        "access_log": False,
        "timeout_graceful_shutdown": settings.graceful_shutdown,
        "timeout_keep_alive": 5,
    }


def freeze_startup_objects() -> None:
    """Move what start-up built (the catalog, the app) out of the garbage collector's reach.

    They live as long as the process; without this every full collection, which the allocations of
    each request trigger now and then, walks all of them again (it showed as p99 latency spikes).
    """
    gc.collect()
    gc.freeze()


async def _reload(holder: CurrentCatalog) -> None:
    # The load (file reads and parsing) runs off the event loop; the swap is one reference assignment.
    swapped = await asyncio.get_running_loop().run_in_executor(None, holder.reload)
    metrics.RELOADS.labels(outcome="reloaded" if swapped else "refused").inc()


def serving_app(holder: CurrentCatalog, settings: Settings) -> Any:
    """The app as served: the API over ``holder`` inside the guard, reloading the catalog on SIGHUP."""
    from service.api.app import create_app  # the app module imports this one lazily too

    logs.configure(settings.log_format, settings.log_level)
    uvicorn_options(settings)  # sets the protocol's limits in this (worker) process
    memory.fix_mmap_threshold()  # a batch's buffers go back to the system once answered
    tasks: set[asyncio.Task[None]] = set()

    def on_hup() -> None:
        task = asyncio.ensure_future(_reload(holder))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def install_hup() -> None:
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, on_hup)
        except (NotImplementedError, RuntimeError, ValueError, AttributeError):  # not the main thread, Windows
            _log.warning("SIGHUP reload is not available in this process")

    api = create_app(holder, settings)
    api.on_startup.append(install_hup)
    freeze_startup_objects()
    # Litestar's ASGI signature is narrower than the generic one Guard takes.
    return Guard(api, max_concurrent=settings.max_concurrent,  # type: ignore[arg-type]
                 request_timeout=settings.request_timeout, access_log=settings.access_log)


class ReloadingMultiprocess(Multiprocess):
    """uvicorn's supervisor, except that SIGHUP reaches every worker, which reloads its catalog (uvicorn
    would replace the workers: a catalog that fails to load would then take a worker down)."""

    def handle_hup(self) -> None:
        for process in self.processes:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGHUP)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run(app: CurrentCatalog | Any, settings: Settings, factory: str = APP_FACTORY) -> None:
    """Serve until SIGINT or SIGTERM; uvicorn drains open requests (for ``graceful_shutdown`` s) and returns.

    ``app`` is the catalog to serve (the service's app is built over it) or an ASGI app to serve as
    it is (the benchmark's bare app, the load gate's faulty one). With one worker the already-loaded
    catalog is served, so nothing is loaded twice. With several,
    each worker process builds its own app from ``factory``, which reads the same settings from the
    environment (the caller has checked that the catalog loads before any port is bound).
    """
    # uvicorn handles SIGTERM itself (a graceful shutdown), then re-delivers the signal to the
    # handler that was in place before it; by default that kills the process, so a clean stop would
    # end with "terminated by SIGTERM". This handler ends it with status 0 instead (and, should
    # SIGTERM come before uvicorn listens, stops start-up).
    signal.signal(signal.SIGTERM, _exit_cleanly)
    if settings.workers == 1:
        if isinstance(app, CurrentCatalog):
            app = serving_app(app, settings)
        else:
            freeze_startup_objects()
        uvicorn.run(app, **uvicorn_options(settings))
        return
    if settings.catalog is not None:
        settings = msgspec.structs.replace(settings, catalog=os.path.abspath(settings.catalog))
    os.environ.update(settings_env(settings))
    with tempfile.TemporaryDirectory(prefix="inference-cost-metrics-") as shared:
        # Before any worker starts (and imports prometheus-client): the workers share their metrics here.
        os.environ[metrics.MULTIPROC_ENV] = shared
        config = uvicorn.Config(factory, factory=True, workers=settings.workers, **uvicorn_options(settings))
        logs.configure(settings.log_format, settings.log_level)
        sock = config.bind_socket()
        ReloadingMultiprocess(config, sockets=[sock]).run()


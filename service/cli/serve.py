"""``inference-cost serve``: the HTTP API under uvicorn."""

from __future__ import annotations

import argparse
import sys

from msgspec import structs

from service.api.settings import (
    ENV_PREFIX,
    LOG_LEVELS,
    SettingsError,
    check_log_level,
    check_port,
    check_workers,
    settings_from_env,
)
from service.cli.common import EXIT_CATALOG, PROG, CliError, catalog_from


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_env()
        overrides = {name: value for name in ("host", "port", "workers", "catalog", "log_level", "access_log")
                     if (value := getattr(args, name)) is not None}
        settings = structs.replace(settings, **overrides)
        check_port(settings.port)
        check_workers(settings.workers)
        check_log_level(settings.log_level)
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    args.catalog = settings.catalog
    # Load (and so validate) the catalog before uvicorn binds the port: a bad catalog never serves.
    try:
        catalog = catalog_from(args)
    except CliError as exc:
        exc.status = EXIT_CATALOG
        raise
    # Imported late: the other subcommands do not need Litestar.
    from service.api.app import create_app
    from service.api.server import run

    print(f"{PROG}: serving {len(catalog.models())} models, catalog "
          f"{catalog.digest} ({settings.catalog or 'embedded'}) on http://{settings.host}:{settings.port}",
          file=sys.stderr, flush=True)
    run(create_app(catalog), settings)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "serve", help="run the HTTP API",
        description=f"Run the HTTP API under uvicorn. Each option defaults to its {ENV_PREFIX}* variable "
                    "(shown in brackets), else to the value shown. SIGTERM or Ctrl-C stops it cleanly.")
    parser.add_argument("--host", help=f"address to bind [{ENV_PREFIX}HOST] (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help=f"port to bind [{ENV_PREFIX}PORT] (default 8000)")
    parser.add_argument("--workers", type=int, help=f"worker processes [{ENV_PREFIX}WORKERS] (default 1)")
    parser.add_argument("--catalog", metavar="PATH",
                        help=f"a catalog file or folder instead of the embedded one [{ENV_PREFIX}CATALOG]")
    parser.add_argument("--log-level", choices=LOG_LEVELS, help=f"[{ENV_PREFIX}LOG_LEVEL] (default info)")
    parser.add_argument("--access-log", action=argparse.BooleanOptionalAction,
                        help=f"log every request [{ENV_PREFIX}ACCESS_LOG] (default off: it costs throughput)")
    parser.set_defaults(handler=_serve)

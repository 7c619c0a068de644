"""``inference-cost serve``: the HTTP API under uvicorn."""

from __future__ import annotations

import argparse
import socket
import sys

from service.api.settings import ENV_PREFIX, FIELDS, LOG_FORMATS, LOG_LEVELS, SettingsError, settings_from_env
from service.cli.common import EXIT_CATALOG, PROG, CliError, catalog_from


def _check_bindable(host: str, port: int) -> None:
    """A one-line error now for an address that cannot be bound (uvicorn logs several lines, exits 3)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_env(**{name: getattr(args, name, None) for name in FIELDS})
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    args.catalog = settings.catalog
    # Load (and so validate) the catalog before uvicorn binds the port: a bad catalog never serves.
    try:
        catalog = catalog_from(args)
    except CliError as exc:
        exc.status = EXIT_CATALOG
        raise
    _check_bindable(settings.host, settings.port)
    # Imported late: the other subcommands do not need Litestar.
    from service.api.current import CurrentCatalog
    from service.api.server import run

    print(f"{PROG}: serving {len(catalog.models())} models, catalog "
          f"{catalog.digest} ({settings.catalog or 'embedded'}) on http://{settings.host}:{settings.port}",
          file=sys.stderr, flush=True)
    run(CurrentCatalog(catalog, settings.catalog), settings)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "serve", help="run the HTTP API",
        description=f"Run the HTTP API under uvicorn. Each option defaults to its {ENV_PREFIX}* variable "
                    "(shown in brackets), else to the value shown. SIGTERM or Ctrl-C stops it cleanly; SIGHUP reloads the catalog.")
    parser.add_argument("--host", help=f"address to bind [{ENV_PREFIX}HOST] (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help=f"port to bind [{ENV_PREFIX}PORT] (default 8000)")
    parser.add_argument("--workers", type=int, help=f"worker processes [{ENV_PREFIX}WORKERS] (default 1)")
    parser.add_argument("--catalog", metavar="PATH",
                        help=f"a catalog file or folder instead of the embedded one [{ENV_PREFIX}CATALOG]")
    parser.add_argument("--log-level", choices=LOG_LEVELS, help=f"[{ENV_PREFIX}LOG_LEVEL] (default info)")
    parser.add_argument("--access-log", action=argparse.BooleanOptionalAction,
                        help=f"log every request [{ENV_PREFIX}ACCESS_LOG] (default off: it costs throughput)")
    parser.add_argument("--log-format", choices=LOG_FORMATS,
                        help=f"request log lines [{ENV_PREFIX}LOG_FORMAT] (default auto: text on a terminal, else JSON)")
    limits = parser.add_argument_group("limits", "Each bounds what one client can cost the service.")
    limits.add_argument("--max-body-bytes", type=int, help=f"largest request body [{ENV_PREFIX}MAX_BODY_BYTES] "
                        "(default 8 MiB)")
    limits.add_argument("--max-batch", type=int, help=f"most workloads a batch [{ENV_PREFIX}MAX_BATCH] (default 10000)")
    limits.add_argument("--max-concurrent", type=int,
                        help=f"requests a worker serves at once; beyond: 503 [{ENV_PREFIX}MAX_CONCURRENT] (default 64)")
    limits.add_argument("--request-timeout", type=float,
                        help=f"seconds a request may take, upload included [{ENV_PREFIX}REQUEST_TIMEOUT] (default 10)")
    limits.add_argument("--header-timeout", type=float,
                        help=f"seconds to send the request line and headers [{ENV_PREFIX}HEADER_TIMEOUT] (default 10)")
    limits.add_argument("--max-url-bytes", type=int, help=f"longest request target [{ENV_PREFIX}MAX_URL_BYTES] "
                        "(default 8192)")
    limits.add_argument("--max-header-bytes", type=int,
                        help=f"most header bytes in a request [{ENV_PREFIX}MAX_HEADER_BYTES] (default 65536)")
    limits.add_argument("--graceful-shutdown", type=float,
                        help=f"seconds in-flight requests get after SIGTERM [{ENV_PREFIX}GRACEFUL_SHUTDOWN] (default 15)")
    parser.set_defaults(handler=_serve)

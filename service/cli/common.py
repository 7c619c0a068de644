"""What every CLI subcommand shares: the ``--catalog`` option, argument types, and one-line errors."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import NoReturn

import msgspec

from pricing import Catalog, CatalogError
from service.api.settings import ENV_PREFIX, SettingsError, load_catalog, settings_from_env
from service.cli.counts import parse_count

PROG = "inference-cost"
#: Exit status of bad arguments or input (argparse's own), and of a catalog that will not load.
EXIT_USAGE = 2
EXIT_CATALOG = 1


class CliError(Exception):
    """Ends the command with a one-line message on stderr and ``status``."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``inference-cost quote: error: ...`` and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def count(text: str) -> int:
    """argparse type of a human token count (``350k``, ``1.2M``)."""
    try:
        return parse_count(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def instant(text: str) -> datetime:
    """argparse type of an RFC 3339 instant with an offset, read as the API reads ``at``."""
    try:
        at = msgspec.convert(text.strip(), datetime)
    except msgspec.ValidationError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an RFC 3339 date-time, e.g. 2025-01-31T12:00:00Z") from None
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no offset: add Z (UTC) or e.g. +08:00")
    return at


def add_catalog_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", metavar="PATH",
                        help=f"a catalog file or folder to use instead of the embedded one "
                             f"(default: ${ENV_PREFIX}CATALOG, else embedded)")


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the JSON the HTTP API returns")


def catalog_from(args: argparse.Namespace) -> Catalog:
    """The catalog ``--catalog`` (or the environment) names; a load failure ends the command."""
    path = args.catalog
    if path is None:
        try:
            path = settings_from_env().catalog
        except SettingsError as exc:
            raise CliError(str(exc)) from None
    try:
        return load_catalog(path)
    except CatalogError as exc:
        raise CliError(f"catalog: {exc}", EXIT_CATALOG) from None


def write(text: str | bytes) -> None:
    if isinstance(text, bytes):
        sys.stdout.buffer.write(text + b"\n")
        sys.stdout.flush()
    else:
        print(text)

"""The ``inference-cost`` command: ``serve``, ``quote``, ``compare``, ``models``.

Each subcommand lives in a module with a ``register(subparsers)`` function that adds its parser and
sets ``handler`` (parsed arguments -> exit status). To add one (the ``catalog`` check/diff group,
say), write ``service/cli/catalog.py`` the same way and list it in ``SUBCOMMAND_MODULES``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from service.cli.common import PROG, CliError, Parser

SUBCOMMAND_MODULES = (
    "service.cli.serve",
    "service.cli.price",
    "service.cli.models",
    "service.cli.catalog",
    "service.cli.selfhost",
    "service.cli.project",
    "service.cli.usage",
)


def build_parser() -> Parser:
    parser = Parser(prog=PROG, description="Exact, dated, sourced cost estimates for LLM inference.")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        status: int = args.handler(args)
    except CliError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as the standard tools do. Point stdout at
        # devnull so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status

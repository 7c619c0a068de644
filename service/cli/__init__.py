"""The ``inference-cost`` command: ``serve``, ``quote``, ``compare``, ``models``, ``catalog``, ``selfhost``,
``project``, ``budget``, ``plan``, ``forecast``, ``usage``.

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


#: The module in ``SUBCOMMAND_MODULES`` that registers each command. A run of one of these imports
#: that module alone: importing them all (DuckDB, pyarrow and sqlglot for ``usage`` among them) took
#: most of a ``quote``'s time. A command not listed still runs, with every module imported;
#: tests/test_cli_startup.py checks the table against what the modules register.
COMMAND_MODULES = {
    "serve": "service.cli.serve",
    "quote": "service.cli.price",
    "compare": "service.cli.price",
    "models": "service.cli.models",
    "catalog": "service.cli.catalog",
    "selfhost": "service.cli.selfhost",
    "project": "service.cli.project",
    "budget": "service.cli.project",
    "plan": "service.cli.project",
    "forecast": "service.cli.project",
    "usage": "service.cli.usage",
}


def build_parser(command: str | None = None) -> Parser:
    """The parser of every command, or, given a ``command`` listed in ``COMMAND_MODULES``, of that one."""
    parser = Parser(prog=PROG, description="Exact, dated, sourced cost estimates for LLM inference.")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    module = COMMAND_MODULES.get(command or "")
    for name in SUBCOMMAND_MODULES if module is None else (module,):
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(arguments[0] if arguments else None).parse_args(arguments)
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

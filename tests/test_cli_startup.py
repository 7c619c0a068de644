"""A command imports its own module only: ``COMMAND_MODULES`` matches what the modules register, a
command parses the same with its module alone as with all of them, and ``quote`` leaves the heavy
modules of the other commands (DuckDB, sqlglot, pyarrow, the HTTP stack) unimported."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import COMMAND_MODULES, SUBCOMMAND_MODULES, build_parser, main

#: Imported by other commands, never by a quote.
NOT_FOR_A_QUOTE = ("duckdb", "sqlglot", "pyarrow", "uvicorn", "litestar", "importlib.metadata", "tomllib",
                   "pricing.importers", "pricing.projection", "pricing.selfhost", "pricing.usage_query",
                   "service.cli.usage", "service.cli.catalog", "service.cli.serve")


def _registered(module: str) -> set[str]:
    sub = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module).register(sub)
    return set(sub.choices)


def test_every_registered_command_is_in_the_table_with_its_module() -> None:
    found = {command: module for module in SUBCOMMAND_MODULES for command in _registered(module)}
    assert found == COMMAND_MODULES


@pytest.mark.parametrize("argv", [
    ["quote", "o1", "--input", "1.5M", "--at", "2025-01-31T12:00:00Z", "--json"],
    ["compare", "--models", "o1", "deepseek-chat", "--output", "10k"],
    ["models", "--provider", "openai"],
    ["catalog", "check", "--strict"],
    ["budget", "o1", "--amount", "10", "--from", "2026-01-01T00:00:00Z", "--per-day", "100", "--input", "1000"],
])
def test_a_command_parses_the_same_with_its_module_alone(argv: list[str]) -> None:
    alone = build_parser(argv[0]).parse_args(argv)
    everything = build_parser().parse_args(argv)
    assert vars(alone) == vars(everything)


def test_an_unknown_command_or_no_command_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["quot", "o1"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    for command in COMMAND_MODULES:
        assert command in err


def test_a_quote_imports_none_of_the_other_commands_modules(tmp_path: Path) -> None:
    env = {**os.environ, "INFERENCE_COST_CACHE_DIR": str(tmp_path)}
    probe = (f"import json, sys\nfrom service.cli import main\n"
             f"status = main(['quote', 'o1', '--output', '1M', '--at', '2025-01-31T12:00:00Z'])\n"
             f"print(json.dumps([status, [m for m in {NOT_FOR_A_QUOTE!r} if m in sys.modules]]))")
    runs = [subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
            for _ in range(2)]  # the first compiles the catalog into the cache, the second reads it
    assert "total" in runs[1].stdout
    assert json.loads(runs[1].stdout.splitlines()[-1]) == [0, []]
    # The first run parsed the TOML: the probe sees a module when it is there.
    assert json.loads(runs[0].stdout.splitlines()[-1]) == [0, ["tomllib"]]

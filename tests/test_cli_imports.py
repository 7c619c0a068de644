"""The service's processes stay small: the command line and the served app import neither DuckDB nor
Arrow (80 MB of resident memory; only pricing a usage file needs them), checked in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys

from service.cli import usage as usage_cli
from service.usage import run

HEAVY = ("duckdb", "pyarrow", "pyspark")

_PROBE = """
import json, sys
{code}
print(json.dumps([m for m in {heavy!r} if m in sys.modules]))
"""


def loaded_after(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _PROBE.format(code=code, heavy=HEAVY)], check=True,
                         capture_output=True, text=True, timeout=120)
    result: list[str] = json.loads(out.stdout)
    return result


def test_the_usage_commands_choices_are_the_engines_and_formats() -> None:
    assert usage_cli.ENGINES == run.ENGINES
    assert usage_cli.FORMATS == run.FORMATS


def test_building_the_command_line_loads_no_usage_engine() -> None:
    assert loaded_after("from service.cli import build_parser; build_parser().parse_args(['serve'])") == []


def test_the_served_app_loads_no_usage_engine() -> None:
    assert loaded_after("from service.cli import build_parser; build_parser()\n"
                        "from pricing import Catalog\n"
                        "from service.api.current import CurrentCatalog\n"
                        "from service.api.server import serving_app\n"
                        "from service.api.settings import Settings\n"
                        "serving_app(CurrentCatalog(Catalog.default()), Settings())") == []


def test_the_probe_sees_an_engine_when_one_is_loaded() -> None:
    assert loaded_after("from service.usage import price_usage") == ["duckdb", "pyarrow"]

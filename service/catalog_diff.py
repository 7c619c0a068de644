"""Finding and reading the price data ``catalog diff`` compares our catalog with: the shell's part.

A file the user downloaded, or, without one, the data the installed ``litellm`` and ``genai-prices``
packages ship (nothing is fetched), and the shipped reviewed-differences file. What is read is
handed, decoded, to ``pricing.importers``, which maps it onto our rates and compares.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pricing import importers
from pricing.errors import CatalogError
from pricing.importers import ExternalPrice, Reviewed

#: The differences a maintainer checked and kept, shipped beside the engine module that reads them.
REVIEWED = Path(importers.__file__).with_name(importers.REVIEWED_NAME)
#: Where the installed litellm package keeps its price map (its offline copy of the JSON file).
LITELLM_DATA = "litellm/model_prices_and_context_window_backup.json"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(str(path), "", "no such file") from None
    except OSError as exc:
        raise CatalogError(str(path), "", f"cannot read it: {exc.strerror or exc}") from None


def _load_json(path: Path) -> Any:
    data = _read(path)
    try:
        # parse_float=Decimal: their numbers stay the exact JSON text, never a binary float.
        return json.loads(data.decode("utf-8"), parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(str(path), "", f"not valid JSON: {exc}") from None
    except RecursionError:
        raise CatalogError(str(path), "", "not valid JSON: nested too deeply") from None


def read_litellm(path: Path) -> list[ExternalPrice]:
    """litellm's map of model name to per-token costs in the file at ``path``; chat/completion models only."""
    return importers.parse_litellm(_load_json(path), str(path))


def installed_litellm_path() -> Path:
    """The price map inside the installed ``litellm`` package (read without importing litellm)."""
    # Imported here: only this look-up needs it, and it is slow to import.
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("litellm")
    except PackageNotFoundError:
        raise CatalogError("litellm", "", "the litellm package is not installed: pip install litellm, "
                           "or give the file with --litellm FILE") from None
    path = Path(str(dist.locate_file(LITELLM_DATA)))
    if not path.is_file():
        raise CatalogError(str(path), "", f"litellm {dist.version} has no {LITELLM_DATA}; give the file "
                           "with --litellm FILE")
    return path


def read_genai_prices(path: Path, at: datetime) -> list[ExternalPrice]:
    """genai-prices' providers and models in its ``data.json`` at ``path``, each with the prices in force at ``at``."""
    return importers.parse_genai_prices(_load_json(path), at, str(path))


def installed_genai_prices(at: datetime) -> list[ExternalPrice]:
    """The prices the installed ``genai-prices`` package ships (as Python data), in force at ``at``."""
    try:
        from genai_prices.data import providers
    except ImportError:
        raise CatalogError("genai-prices", "", "the genai-prices package is not installed: pip install "
                           "genai-prices, or give its data.json with --genai-prices FILE") from None
    plain = [{"id": p.id, "models": [{"id": m.id, "match": _plain(m.match), "prices": _plain(m.prices)}
                                     for m in p.models]} for p in providers]
    return importers.parse_genai_prices(plain, at, "genai_prices.data")


def _plain(value: Any) -> Any:
    """genai-prices' dataclasses as the JSON-like dicts its data.json holds (``or_`` is ``or``)."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) or (hasattr(value, "__dict__") and not isinstance(value, type)):
        return {k.rstrip("_"): _plain(v) for k, v in vars(value).items()
                if not k.startswith("_") and v is not None}
    return value


def read_reviewed(path: Path = REVIEWED) -> tuple[Reviewed, ...]:
    """The reviewed differences in ``path``; ``CatalogError`` names the entry and field on a bad one."""
    return importers.parse_reviewed(_read(path), str(path))

"""What every benchmark prints: markdown tables and the machine and versions they ran on."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib import metadata


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def environment(dists: Sequence[str]) -> str:
    """Markdown bullets: machine, Python, the versions of ``dists``, date and the command line."""
    versions = ", ".join(f"{d} {version(d)}" for d in dists)
    return "\n".join([
        f"- machine: {os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); {versions}",
        f"- date: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- command: `{' '.join(['.venv/bin/python', *sys.argv])}`",
    ])

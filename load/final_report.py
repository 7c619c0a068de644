"""The run's final stats as CSV, written once locust has stopped every user.

locust's own ``--csv`` files are rewritten each second by a background task, and the last rewrite
can come before the run's last second (locust issues #1806, #2299): a failure in that second would
be missing from them. A CI gate must not miss it, so the locustfile calls this from locust's ``quit``
event (after the users have stopped, on the master when distributed) to write the same three files,
in locust's own format, under another prefix: ``<prefix>_stats.csv``, ``_failures.csv``,
``_exceptions.csv``. ``load/report.py`` reads them.
"""

from __future__ import annotations

import csv
from pathlib import Path

from locust.env import Environment
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV


def write_final_csv(environment: Environment, prefix: str) -> None:
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    base = Path(prefix)
    base.parent.mkdir(parents=True, exist_ok=True)
    for suffix, write in (("_stats.csv", writer.requests_csv), ("_failures.csv", writer.failures_csv),
                          ("_exceptions.csv", writer.exceptions_csv)):
        # Written aside and renamed: a reader never sees half a file.
        path = base.with_name(base.name + suffix)
        part = path.with_name(path.name + ".part")
        with part.open("w", newline="", encoding="utf-8") as f:
            write(csv.writer(f))
        part.replace(path)

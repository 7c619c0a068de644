"""How many columns a usage input has, found before DuckDB reads it, and the most it may have.

DuckDB's cost of reading a file grows with its width, and faster than it: a one-row file of 400
columns took 3.3 s to price (every query over the views binds every column), one of 100,000 columns
(600 KB of CSV header, or one JSON line of 50,000 keys) minutes of CPU and the run's whole memory
limit. A usage row has a dozen fields and some more pass through, so a file wider than
``MAX_COLUMNS`` is refused, naming it, before DuckDB sees it.
"""

from __future__ import annotations

import csv
import io
import itertools
import sys
from pathlib import Path

import msgspec

from service.usage.errors import UsageInputError

#: The most columns a usage input may have (its own and the pass-through ones).
MAX_COLUMNS = 250
#: DuckDB infers a CSV's or JSON Lines' columns from its first rows (its ``sample_size``): so are they counted.
SAMPLE_ROWS = 20_480
#: At most this much of the file is read to count (a service body is smaller than this).
SAMPLE_BYTES = 16 * 1024 * 1024
#: The delimiters DuckDB's CSV sniffer tries.
_DELIMITERS = (",", ";", "\t", "|")
_KEYS = msgspec.json.Decoder(dict[str, msgspec.Raw])

# A usage row may carry a long text column (a prompt): the csv module's default 128 KiB field limit
# would stop the count, not DuckDB.
csv.field_size_limit(sys.maxsize)


def check_width(path: Path, fmt: str, label: str) -> None:
    """Raise ``UsageInputError`` if the canonical-format file ``path`` has over ``MAX_COLUMNS`` columns."""
    count = {"csv": _csv_width, "jsonl": _jsonl_width, "parquet": _parquet_width}[fmt](path, label)
    refuse_width(count, label)


def refuse_width(count: int, label: str) -> None:
    if count > MAX_COLUMNS:
        raise UsageInputError(label, f"has over {MAX_COLUMNS:,} columns ({count:,} or more): keep the usage "
                              "fields and the columns you need")


def _sample(path: Path, label: str) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(SAMPLE_BYTES)
    except OSError as exc:
        raise UsageInputError(label, f"cannot be read ({exc.strerror or type(exc).__name__})") from None


def _csv_width(path: Path, label: str) -> int:
    data = _sample(path, label)
    widest = 0
    for delimiter in _DELIMITERS:
        # No record has more fields than the sample has delimiters: most files stop here.
        if data.count(delimiter.encode()) < MAX_COLUMNS:
            continue
        # Quote-aware, as DuckDB reads it: a quoted field may hold delimiters and newlines.
        text = io.StringIO(data.decode("utf-8", "replace"), newline="")
        try:
            for record in itertools.islice(csv.reader(text, delimiter=delimiter), SAMPLE_ROWS):
                widest = max(widest, len(record))
                if widest > MAX_COLUMNS:
                    return widest
        except csv.Error:
            continue  # not CSV under this delimiter: DuckDB says what is wrong
    return widest


def _jsonl_width(path: Path, label: str) -> int:
    keys: set[str] = set()
    for line in itertools.islice(_sample(path, label).splitlines(), SAMPLE_ROWS):
        try:
            keys.update(_KEYS.decode(line))
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            continue  # not an object: DuckDB says what is wrong
        if len(keys) > MAX_COLUMNS:
            break
    return len(keys)


def _parquet_width(path: Path, label: str) -> int:
    import pyarrow as pa  # Arrow: loaded with the usage run, not with the service
    import pyarrow.parquet as pq

    try:
        return int(pq.read_metadata(path).num_columns)
    except (OSError, ValueError, pa.ArrowException):
        return 0  # not Parquet: DuckDB says what is wrong

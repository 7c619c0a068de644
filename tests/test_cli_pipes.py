"""The CLI behind a pipe whose reader stops early (`inference-cost models | head -1`)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from service.cli.render import money


def test_closed_pipe_ends_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main(sys.argv[1:]))",
         "compare", "--output", "1M", "--at", "2025-06-01T00:00:00Z"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()  # read one line, then go away like `head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    status = proc.wait(timeout=60)
    assert "Traceback" not in err, err
    assert status in (0, 141)


@given(st.decimals(min_value=0, max_value=10**12, allow_nan=False, allow_infinity=False, places=None))
def test_money_is_exact_and_plain(value: Decimal) -> None:
    text = money(value)
    assert Decimal(text) == value
    assert "E" not in text and not (("." in text) and text.endswith("0"))


def test_money_keeps_integer_zeros() -> None:
    assert [money(Decimal(s)) for s in ("240.00", "60", "45.0", "0.000", "100", "0.00000219")] == [
        "240", "60", "45", "0", "100", "0.00000219"]

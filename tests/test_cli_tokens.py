"""Human token counts on the command line: ``350k``, ``1.2M``, and exactly what they mean."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.cli.counts import parse_count


@pytest.mark.parametrize(("text", "value"), [
    ("0", 0), ("350000", 350_000), ("350k", 350_000), ("350K", 350_000), ("1.2M", 1_200_000),
    ("1.2m", 1_200_000), ("2B", 2_000_000_000), ("0.5k", 500), (".5k", 500), ("1_200_000", 1_200_000),
    ("1,200,000", 1_200_000), ("1,200.5k", 1_200_500), (" 10 k ", 10_000), ("1.0", 1), ("007", 7),
    ("1.000001M", 1_000_001), ("10B", 10_000_000_000),
])
def test_counts(text: str, value: int) -> None:
    assert parse_count(text) == value


@pytest.mark.parametrize(("text", "words"), [
    ("1.2345k", "1234.5: not a whole number"),
    ("0.5", "0.5: not a whole number"),
    ("1,5M", "not a token count"),     # a decimal comma is refused, not read as 15M
    ("1,20", "not a token count"),
    ("12_34", "not a token count"),
    ("-5", "not a token count"),
    ("1e6", "not a token count"),
    ("5 tokens", "not a token count"),
    ("", "not a token count"),
    ("k", "not a token count"),
    ("1kk", "not a token count"),
    ("1T", "not a token count"),
    ("١٢٣", "not a token count"),  # non-ASCII digits
])
def test_not_counts(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_count(text)


@given(st.integers(0, 10**12))
def test_every_plain_and_grouped_form(n: int) -> None:
    assert parse_count(str(n)) == n
    assert parse_count(f"{n:,}") == n
    assert parse_count(f"{n:_}") == n


@given(st.integers(0, 10**6), st.sampled_from([("k", 10**3), ("M", 10**6), ("B", 10**9)]))
def test_suffixes_are_exact(n: int, suffix: tuple[str, int]) -> None:
    letter, scale = suffix
    assert parse_count(f"{n}{letter}") == n * scale
    # A fraction of the suffix is exact too: 1.2M is 1,200,000, never 1,199,999.
    assert parse_count(f"{n}.5{letter}") == n * scale + scale // 2

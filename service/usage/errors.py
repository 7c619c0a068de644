"""The one error a usage run reports for bad input: it names the file, the row and the column."""

from __future__ import annotations


class UsageInputError(Exception):
    """The usage input is not what its format says; the message says where and what to do."""

    def __init__(self, source: str, message: str, *, row: int | None = None, column: str | None = None) -> None:
        self.source = source
        self.row = row
        self.column = column
        self.reason = message
        where = source
        if row is not None:
            where += f": row {row}"
        if column is not None:
            where += f": column {column!r}"
        super().__init__(f"{where}: {message}")


class UnpricedRowsError(UsageInputError):
    """``strict`` was asked and some rows cannot be priced (the CLI exits 1, not 2)."""

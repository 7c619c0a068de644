"""Plain-text output of the CLI: aligned tables of exact amounts (never rounded, never in E notation)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from pricing import Model, Period, Quote, RankedQuote


def plain(value: Decimal | None) -> str:
    """``value`` written out in full (``0.00000055``, not ``5.5E-7``); ``-`` for none."""
    return "-" if value is None else format(value, "f")


def money(value: Decimal) -> str:
    """An exact amount written out in full without trailing zeros (``45``, not ``45.0``).

    Same value, fewer characters: the engine keeps the scale its arithmetic produced (``45.0``
    from 0.3 x 150), which in a column of amounts reads like a rounding that did not happen.
    """
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """Rows under a header, each column as wide as its widest cell; ``right`` aligns numbers."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _instant(at: datetime | None) -> str:
    return "-" if at is None else at.isoformat().replace("+00:00", "Z")


def quote_text(q: Quote) -> str:
    flags = [f"{q.requests:,} request{'s' if q.requests != 1 else ''}"]
    if q.batch:
        flags.append("batch API")
    if q.window:
        flags.append(f"{q.window} window")
    if q.tier:
        flags.append(f"tier {q.tier}")
    rows = [[line.kind, f"{line.tokens:,}", money(line.rate), money(line.amount)] for line in q.lines]
    rows.append(["total", "", "", money(q.total)])
    out = [f"{q.provider}/{q.model} at {_instant(q.at)} ({', '.join(flags)})", ""]
    if q.routed_from is not None:
        out[1:1] = [f"{q.provider}/{q.routed_from} is billed as {q.provider}/{q.model} at that instant"]
    out += table(["", "tokens", f"{q.currency} per 1M", f"amount {q.currency}"], rows, [False, True, True, True])
    until = f" until {_instant(q.period_until)}" if q.period_until else ""
    out += ["", f"price: {q.source} (checked {q.checked.isoformat()}), in force from "
                f"{_instant(q.period_from)}{until}",
            f"catalog: {q.catalog_digest}"]
    return "\n".join(out)


def compare_text(quotes: Sequence[RankedQuote], baseline: str | None) -> str:
    if not quotes:
        return "no model has a price for this workload at that instant"
    rows = []
    for rank, q in enumerate(quotes, 1):
        name = f"{q.provider}/{q.model if q.routed_from is None else q.routed_from}"
        saving = "-" if q.savings_percent is None else f"{plain(q.savings_percent)}%"
        shown = name if q.routed_from is None else f"{name} (billed as {q.model})"
        rows.append([str(rank), shown + (" (baseline)" if name == baseline else ""), q.currency,
                     money(q.total), saving])
    header = ["#", "model", "currency", "total", f"saving vs {baseline}" if baseline else "saving"]
    first = quotes[0]
    out = [f"at {_instant(first.at)}, {first.requests:,} request{'s' if first.requests != 1 else ''}"
           f"{', batch API' if first.batch else ''}; cheapest first", ""]
    out += table(header, rows, [True, False, False, True, True])
    return "\n".join(out)


def _aliases(aliases: Sequence[str], width: int = 40) -> str:
    """The aliases that fit in ``width`` characters, and how many more there are."""
    shown: list[str] = []
    for alias in aliases:
        if shown and len(", ".join([*shown, alias])) > width:
            return f"{', '.join(shown)} (+{len(aliases) - len(shown)})"
        shown.append(alias)
    return ", ".join(shown) or "-"


def models_text(rows: Sequence[tuple[Model, Period | None]]) -> str:
    """One line a model: its name, aliases and the price in force (``current`` is ``None`` if none)."""
    if not rows:
        return "no models"
    cells = []
    for model, current in rows:
        if current is None:
            prices = ["-", "-", "-", "-", "no current price"]
        else:
            prices = [current.currency, plain(current.input), plain(current.cached_input), plain(current.output),
                      current.starts.date().isoformat()]
        cells.append([f"{model.provider}/{model.id}", _aliases(model.aliases), *prices])
    header = ["model", "aliases", "currency", "input/1M", "cached/1M", "output/1M", "since"]
    return "\n".join(table(header, cells, [False, False, False, True, True, True, False]))

"""``inference-cost usage price INPUT``: price a usage export row by row, exactly.

Exit 0 when every row priced, 1 when some could not be (the output is still written, those rows
carry ``error``) or with ``--strict`` any did not, 2 on bad usage or input.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from service.cli.common import CliError, add_catalog_option, add_json_option, catalog_from, instant, write
from service.usage.errors import UnpricedRowsError, UsageInputError
from service.usage.summary import ENCODER, UsageSummary

# service.usage.run's ENGINES and FORMATS (tests/test_cli_imports.py checks they agree), written out
# here: importing them loads DuckDB and Arrow (80 MB of resident memory) into every command,
# ``serve`` and its workers included, which never price a usage file from the command line.
ENGINES = ("duckdb", "spark", "python")
FORMATS = ("csv", "jsonl", "parquet", "openai", "anthropic", "otel", "litellm")

EXIT_UNPRICED = 1
TOLERANCE_LIMIT = 10**20


def _columns(items: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        canonical, sep, source = item.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise CliError(f"--column {item!r}: write FIELD=COLUMN, e.g. --column at=timestamp")
        mapping[canonical.strip()] = source.strip()
    return mapping


def _tolerance(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal amount, e.g. 0.01") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a non-negative amount")
    # It is compared with amounts held as DECIMAL(38, 18): so must it be held.
    exponent = value.as_tuple().exponent
    if value >= TOLERANCE_LIMIT or (isinstance(exponent, int) and exponent < -18):
        raise argparse.ArgumentTypeError(f"{text!r} must be below {TOLERANCE_LIMIT:,} with at most 18 places")
    return value


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def summary_text(summary: UsageSummary) -> str:
    lines = [f"{summary.rows:,} rows: {summary.priced:,} priced, {summary.unpriced:,} not priced "
             f"(engine {summary.engine}{', as of ' + summary.as_of if summary.as_of else ''}"
             f"{', in ' + summary.currency if summary.currency else ''})"]
    for reason, count in summary.errors.items():
        lines.append(f"  not priced, {reason}: {count:,}")
    for total in summary.totals:
        lines.append(f"total {total.currency} {total.total}")
    if summary.groups:
        lines.append("by " + ", ".join(summary.group_by) + ":")
        for group in summary.groups:
            keys = "  ".join(f"{k}={v}" for k, v in group.keys.items())
            extra = f"  reported {group.reported_cost}  variance {group.variance}" if group.variance is not None else ""
            if group.variance_by_kind:
                extra += "  by kind " + ", ".join(f"{k} {v}" for k, v in group.variance_by_kind.items()
                                                  if v is not None)
            lines.append(f"  {keys}  {group.currency} {group.total}  ({group.rows:,} rows){extra}")
    rec = summary.reconciliation
    if rec is not None and (rec.compared or not rec.by_kind):
        variance = ", ".join(f"{t.currency} {t.variance}" for t in summary.totals if t.variance is not None)
        lines.append(f"reconciled {rec.compared:,} rows against reported_cost: variance {variance or 'none'}; "
                     f"{rec.over_tolerance:,} beyond tolerance {rec.tolerance}")
        for o in rec.outliers:
            lines.append(f"  row {o.row}{' id ' + o.id if o.id else ''}: priced {o.total}, reported "
                         f"{o.reported_cost}, variance {o.variance}")
    for other in summary.repriced:
        lines.append(f"on {other.provider}/{other.model_id}: {other.priced:,} priced, {other.unpriced:,} not priced"
                     + "".join(f", {reason} {count:,}" for reason, count in other.errors.items()))
        for total in other.totals:
            lines.append(f"  total {total.currency} {total.total}")
        for c in other.compared:
            lines.append(f"  the {c.rows:,} rows priced both ways: {c.currency} {c.original} as they ran, "
                         f"{c.repriced} on it, difference {c.difference}")
        for group in other.groups:
            keys = "  ".join(f"{k}={v}" for k, v in group.keys.items())
            lines.append(f"  {keys}  {group.currency} {group.total}  ({group.rows:,} rows)")
    for kind in rec.by_kind if rec is not None else []:
        sums = ", ".join(f"{t.currency} {(t.variance_by_kind or {}).get(kind.kind)}" for t in summary.totals
                         if (t.variance_by_kind or {}).get(kind.kind) is not None)
        lines.append(f"reconciled {kind.kind}: {kind.compared:,} rows against {kind.column}: variance "
                     f"{sums or 'none'}; {kind.over_tolerance:,} beyond tolerance {rec.tolerance if rec else ''}")
        for k in kind.outliers:
            lines.append(f"  row {k.row}{' id ' + k.id if k.id else ''}: priced {k.amount}, reported "
                         f"{k.reported}, variance {k.variance}")
    return "\n".join(lines)


def _price(args: argparse.Namespace) -> int:
    import duckdb  # with Arrow, 80 MB of resident memory: only for this command, never for `serve`

    from service.usage import UsageJob, price_usage
    from service.usage.engines import stderr_progress

    catalog = catalog_from(args)
    job = UsageJob(
        source=Path(args.input), format=args.format, engine=args.engine,
        out=None if args.out is None else Path(args.out),
        group_by=tuple(c.strip() for c in (args.group_by or "").split(",") if c.strip()),
        as_of=args.as_of, columns=_columns(args.column or []), tolerance=args.tolerance,
        spark_master=args.spark_master, strict=args.strict, currency=args.currency,
        reprice_on=() if args.reprice_on is None else tuple(m.strip() for m in args.reprice_on.split(",")),
    )
    progress = None
    if sys.stderr.isatty():
        def progress(done: int, total: int) -> None:
            tick = stderr_progress(total)
            if tick is not None:
                tick(done)
    try:
        summary = price_usage(job, catalog, progress)
    except UnpricedRowsError as exc:
        raise CliError(str(exc), EXIT_UNPRICED) from None
    except UsageInputError as exc:
        raise CliError(str(exc)) from None
    except (OSError, duckdb.IOException) as exc:
        if job.out is None:
            raise
        raise CliError(f"{job.out}: cannot be written ({_first_line(exc)})") from None
    write(ENCODER.encode(summary) if args.json else summary_text(summary))
    return EXIT_UNPRICED if summary.unpriced else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    usage = sub.add_parser("usage", help="price usage logs (exports of what ran)",
                           description="Price usage exports exactly, row by row, at the price in force.")
    commands = usage.add_subparsers(title="usage commands", metavar="COMMAND", required=True)
    price = commands.add_parser(
        "price", help="price every row of a usage export",
        description="Price every row of INPUT at the price in force at its instant; print a summary. "
                    "Exit 0: every row priced; 1: some rows could not be priced (output still written); "
                    "2: bad usage or input.")
    price.add_argument("input", metavar="INPUT", help="the usage file (CSV, JSON Lines, Parquet, or an export)")
    price.add_argument("--format", choices=FORMATS,
                       help="what INPUT is (default: from its extension; exports need it: "
                            "openai, anthropic, otel, litellm)")
    price.add_argument("--engine", choices=ENGINES, default="duckdb",
                       help="duckdb (embedded, default), spark (local[*] or --spark-master), python (reference)")
    price.add_argument("--spark-master", metavar="URL", help="a Spark master, e.g. spark://host:7077")
    price.add_argument("--out", metavar="PATH", help="write the priced rows (.csv, .jsonl or .parquet)")
    price.add_argument("--group-by", metavar="COLS",
                       help="summary totals per group: input columns, provider, model_id, or hour/day/month/year")
    price.add_argument("--as-of", type=instant, metavar="INSTANT",
                       help="price every row at this instant instead of its own (e.g. today's prices)")
    price.add_argument("--column", action="append", metavar="FIELD=COLUMN",
                       help="read a usage field from another column, e.g. --column at=timestamp")
    price.add_argument("--tolerance", type=_tolerance, default=Decimal("0.000001"),
                       help="list rows whose |priced - reported_cost| exceeds this (default 0.000001)")
    price.add_argument("--currency", metavar="CODE",
                       help="price in this price list, e.g. CNY for DeepSeek's yuan prices (default: each "
                            "model's first-listed currency); a model without it: no_price_in_currency")
    price.add_argument("--reprice-on", metavar="MODEL[,MODEL...]",
                       help="also price the same usage (counts, instants, batch flags) on these models: "
                            "what it would have cost there, per currency and group")
    price.add_argument("--strict", action="store_true",
                       help="fail (exit 1, nothing written) if any row cannot be priced, naming the first")
    add_json_option(price)
    add_catalog_option(price)
    price.set_defaults(handler=_price)

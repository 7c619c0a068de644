"""``inference-cost project``, ``budget``, ``plan`` and ``forecast``: requests over time, priced by the schedule."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from pricing import Catalog, PricingError, UnknownModelError, Usage
from pricing.budget import Budget, budget
from pricing.forecast import Forecast, Observation, forecast
from pricing.plan import Plan, plan
from pricing.projection import Projection, RankedProjection, Shape, Slice, project, project_many
from service.cli.common import (
    CliError,
    add_catalog_option,
    add_json_option,
    catalog_from,
    count,
    instant,
    write,
)

# The flag a user typed for each engine field, to name it in an error.
_FLAGS = {
    "from": "--from", "until": "--until", "requests": "--requests", "requests_per_day": "--per-day",
    "requests_per_hour": "--per-hour", "zone": "--zone", "currency": "--currency", "fx": "--fx",
    "amount": "--amount", "spent": "--spent", "cycle": "--cycle", "max_per_hour": "--max-per-hour",
    "weeks": "--weeks", "history": "--history", "input_tokens": "--input", "cached_input_tokens": "--cached", "cache_write_tokens": "--cache-write",
    "cache_write_1h_tokens": "--cache-write-1h", "output_tokens": "--output", "model": "MODEL",
}
_BAR = 40
_ENCODER = msgspec.json.Encoder()


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.replace("_", "").replace(",", ""))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _rate(text: str) -> tuple[str, Decimal]:
    pair, eq, value = text.partition("=")
    if not eq or "/" not in pair:
        raise argparse.ArgumentTypeError(f"{text!r}: write a rate as PAIR=RATE, e.g. USD/VND=25000")
    return pair.strip(), _decimal(value)


def _shape(text: str) -> tuple[Decimal, ...]:
    """168 comma-separated weights, or @FILE holding them (commas or whitespace)."""
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read {text[1:]}: {exc.strerror}") from None
    return tuple(_decimal(w) for w in text.replace(",", " ").split())


def _add_common(parser: argparse.ArgumentParser, *, money: bool = True) -> None:
    tokens = parser.add_argument_group("tokens per request (350k, 1.2M and 2B are accepted)")
    tokens.add_argument("--input", type=count, default=0, metavar="N", help="prompt tokens, cached parts included")
    tokens.add_argument("--cached", type=count, default=0, metavar="N", help="part of --input read from cache")
    tokens.add_argument("--cache-write", type=count, default=0, metavar="N", help="part of --input written to cache")
    tokens.add_argument("--cache-write-1h", type=count, default=0, metavar="N",
                        help="part of --input written to Anthropic's 1-hour cache")
    tokens.add_argument("--output", type=count, default=0, metavar="N", help="output tokens, reasoning included")
    parser.add_argument("--batch", action="store_true", help="use the provider's batch-API rates")
    if money:
        _add_money(parser)
    add_json_option(parser)
    add_catalog_option(parser)


def _add_money(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--currency", metavar="CODE", help="answer in this ISO 4217 currency (needs --fx)")
    parser.add_argument("--fx", type=_rate, action="append", default=[], metavar="PAIR=RATE",
                        help="your own rate, e.g. USD/VND=25000 (1 USD is 25,000 VND); nothing is fetched")


def _add_spread(parser: argparse.ArgumentParser, total: bool) -> None:
    if total:
        parser.add_argument("--requests", type=count, metavar="N", help="requests over the span (3M, 250k)")
    parser.add_argument("--per-day", type=count, metavar="N", help="a rate: requests a day")
    parser.add_argument("--per-hour", type=count, metavar="N", help="a rate: requests an hour")
    parser.add_argument("--shape", type=_shape, metavar="W,W,...|@FILE",
                        help="168 hour-of-week weights from Monday 00:00 (default: even)")
    parser.add_argument("--shape-zone", default="UTC", metavar="ZONE", help="time zone of --shape's hours")
    parser.add_argument("--zone", default="UTC", metavar="ZONE", help="time zone of months and days (default UTC)")


def _usage(args: argparse.Namespace) -> Usage:
    return Usage(input_tokens=args.input, cached_input_tokens=args.cached, cache_write_tokens=args.cache_write,
                 cache_write_1h_tokens=args.cache_write_1h, output_tokens=args.output, batch=args.batch)


def _spread_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "requests_per_day": None if args.per_day is None else Decimal(args.per_day),
        "requests_per_hour": None if args.per_hour is None else Decimal(args.per_hour),
        "shape": None if args.shape is None else Shape(weights=args.shape, timezone=args.shape_zone),
        "zone": args.zone, "currency": args.currency, "fx": dict(args.fx) or None,
    }


def _error(exc: PricingError) -> CliError:
    field = getattr(exc, "field", None)
    if field is None:
        return CliError(str(exc))
    head = field.split(".")[0]
    flag = "--shape" if head == "shape" else _FLAGS.get(head, field)
    return CliError(f"{flag}: {getattr(exc, 'reason', exc)}")


# -- rendering ------------------------------------------------------------------------------------


def _bars(slices: Sequence[Slice], currency: str) -> list[str]:
    top = max((s.total for s in slices), default=Decimal(0))
    width = max((len(f"{s.total:,}") for s in slices), default=4)
    lines = []
    for s in slices:
        bar = "" if not top else "█" * round(s.total * _BAR / top)
        lines.append(f"  {s.label:<10} {s.requests:>26,} req  {s.total:>{width},} {currency}  {bar}")
    return lines


def _projection_text(p: Projection) -> str:
    lines = [f"{p.provider}/{p.model}: {p.total} {p.currency}{'' if p.exact else ' (rounded to 10 places)'}"
             f" for {p.requests:,} requests, {p.starts:%Y-%m-%d %H:%M} to {p.until:%Y-%m-%d %H:%M} UTC"]
    if p.fx:
        lines.append("  at your rate " + ", ".join(f"{k} = {v}" for k, v in p.fx.items()))
    lines.append("by price:")
    for g in p.prices:
        label = g.window or "standard"
        lines.append(f"  {label:<12} {g.unit_price} a request  share {g.share}  "
                     f"{g.total} {p.currency}  (period from {g.period_from:%Y-%m-%d})")
    lines.append(f"by month ({p.zone}):")
    lines += _bars(p.months, p.currency)
    if p.days is not None:
        lines.append(f"by day ({p.zone}):")
        lines += _bars(p.days, p.currency)
    lines.append(f"{len(p.parts)} stretches of constant price (--json lists them)")
    return "\n".join(lines)


def _ranking_text(ranked: Sequence[RankedProjection]) -> str:
    lines = [f"{'model':<40} {'total':>24}  saving"]
    for p in ranked:
        saving = "" if p.savings_percent is None else f"{p.savings_percent}%"
        lines.append(f"{p.provider + '/' + p.model:<40} {p.total:>24,} {p.currency}  {saving}")
    return "\n".join(lines)


def _budget_text(b: Budget) -> str:
    when = "not within the cycle" if b.exhausted_at is None else f"{b.exhausted_at:%Y-%m-%d %H:%M:%S} UTC"
    lines = [
        f"{b.provider}/{b.model}: budget {b.amount} {b.currency} per {b.cycle} "
        f"({b.cycle_from:%Y-%m-%d %H:%M} to {b.cycle_until:%Y-%m-%d %H:%M} UTC)",
        f"  cycle cost   {b.cost} {b.currency} (spent before: {b.spent}); remaining {b.remaining}",
        f"  exhausted    {when}",
        f"  requests     {b.requests:,} in the cycle, {b.requests_bought:,} within the budget",
        f"burn by day ({b.zone}):",
    ]
    return "\n".join(lines + _bars(b.days, b.currency))


def _plan_text(p: Plan) -> str:
    lines = [
        f"{p.provider}/{p.model}: {p.requests:,} requests between {p.starts:%Y-%m-%d %H:%M} and "
        f"{p.until:%Y-%m-%d %H:%M} UTC, at most {p.max_per_hour} an hour",
        f"  cheapest     {p.total} {p.currency}",
        f"  run now      {p.now_total} {p.currency} (done {p.now_until:%Y-%m-%d %H:%M} UTC)",
        f"  saving       {p.saving} {p.currency}" + ("" if p.saving_percent is None else f" ({p.saving_percent}%)"),
        "schedule (UTC):",
    ]
    for s in p.schedule:
        lines.append(f"  {s.starts:%Y-%m-%d %H:%M} - {s.until:%Y-%m-%d %H:%M}  {s.requests:>16,} req  "
                     f"{s.total} {p.currency}  {s.window or 'standard'}")
    return "\n".join(lines)


def _forecast_text(f: Forecast, used: int, other: int) -> str:
    mape = "not enough history to score" if f.backtest_mape is None else \
        f"{f.backtest_mape}% mean daily error over the last {f.holdout_weeks} weeks held out"
    lines = [
        f"{f.model}: {f.weeks} weeks from {f.starts:%Y-%m-%d %H:%M} UTC, fitted on {f.fitted_weeks} weeks "
        f"({used:,} history rows" + (f"; {other:,} rows of other models left out)" if other else ")"),
        f"  requests     P10 {f.requests_p10:,}  P50 {f.requests_p50:,}  P90 {f.requests_p90:,}",
        f"  cost         P10 {f.cost_p10:,}  P50 {f.cost_p50:,}  P90 {f.cost_p90:,} {f.currency}",
        f"  trend        {f.trend_per_week:+,} requests a week",
        f"  backtest     {mape}",
    ]
    return "\n".join(lines)


def _history_rows(path: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, fields) of a CSV (header line) or JSON Lines file, by its extension."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            if path.lower().endswith((".jsonl", ".ndjson")):
                for n, line in enumerate(f, start=1):
                    if not line.strip():
                        continue
                    try:
                        value = json.loads(line)
                    except (ValueError, RecursionError):
                        raise CliError(f"--history {path} line {n}: not a JSON object") from None
                    if not isinstance(value, dict):
                        raise CliError(f"--history {path} line {n}: not a JSON object")
                    yield n, {k: v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}
            else:
                for n, row in enumerate(csv.DictReader(f), start=2):
                    yield n, {k: v for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}
    except OSError as exc:
        raise CliError(f"--history {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CliError(f"--history {path}: not UTF-8 CSV or JSON Lines ({exc})") from None


def read_history(path: str, model: str, catalog: Catalog) -> tuple[list[Observation], int]:
    """The hourly observations of ``model`` in ``path`` (columns ``at``, optional ``requests``, default 1,
    and optional ``model``: rows of other models are left out and counted), and how many were left out."""
    try:
        wanted = catalog.model(model)
    except UnknownModelError:
        wanted = None  # the forecast itself names the unknown model
    seen: dict[str, bool] = {}
    observations, other = [], 0
    for n, row in _history_rows(path):
        name = row.get("model")
        if name is not None and wanted is not None:
            if name not in seen:
                try:
                    seen[name] = catalog.model(name) is wanted
                except PricingError:
                    seen[name] = False
            if not seen[name]:
                other += 1
                continue
        text = row.get("at")
        if text is None:
            raise CliError(f"--history {path} row {n}: no `at` column (an RFC 3339 instant a row)")
        try:
            at = msgspec.convert(text.strip().strip('"'), datetime)
        except msgspec.ValidationError:
            raise CliError(f"--history {path} row {n} column at: {text[:40]!r} is not an RFC 3339 date-time") from None
        if at.tzinfo is None:
            raise CliError(f"--history {path} row {n} column at: {text[:40]!r} has no offset: add Z (UTC)")
        raw = (row.get("requests") or "1").strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 13:
            raise CliError(f"--history {path} row {n} column requests: {raw[:40]!r} is not a whole number "
                           "from 0 to 10^12")
        observations.append(Observation(at=at, requests=int(raw)))
    if not observations:
        raise CliError(f"--history {path}: no rows" + (f" of {model}" if other else ""))
    return observations, other


# -- commands -------------------------------------------------------------------------------------


def _project(args: argparse.Namespace) -> int:
    catalog = catalog_from(args)
    options = _spread_options(args) | {"requests": args.requests, "days": args.days}
    try:
        usage = _usage(args)
        if len(args.models) == 1 and args.baseline is not None:
            raise CliError("--baseline: ranks several models against it; give two or more MODELs")
        if len(args.models) == 1:
            p = project(catalog, args.models[0], usage, args.starts, args.until, **options)
            write(_ENCODER.encode(p) if args.json else _projection_text(p))
            return 0
        ranked = project_many(catalog, args.models, usage, args.starts, args.until, baseline=args.baseline,
                              **options)
    except PricingError as exc:
        raise _error(exc) from None
    write(_ENCODER.encode(ranked) if args.json else _ranking_text(ranked))
    return 0


def _budget(args: argparse.Namespace) -> int:
    catalog = catalog_from(args)
    options = _spread_options(args)
    try:
        b = budget(catalog, args.model, _usage(args), args.amount, args.starts, cycle=args.cycle,
                   spent=args.spent, **options)
    except PricingError as exc:
        raise _error(exc) from None
    write(_ENCODER.encode(b) if args.json else _budget_text(b))
    return 0


def _plan(args: argparse.Namespace) -> int:
    catalog = catalog_from(args)
    try:
        p = plan(catalog, args.model, _usage(args), args.requests, args.starts, args.until,
                 Decimal(args.max_per_hour), currency=args.currency, fx=dict(args.fx) or None)
    except PricingError as exc:
        raise _error(exc) from None
    write(_ENCODER.encode(p) if args.json else _plan_text(p))
    return 0


def _forecast(args: argparse.Namespace) -> int:
    catalog = catalog_from(args)
    history, other = read_history(args.history, args.model, catalog)
    try:
        f = forecast(catalog, args.model, _usage(args), history, args.weeks, holdout=args.holdout,
                     since=args.since, until=args.until_)
    except PricingError as exc:
        raise _error(exc) from None
    write(_ENCODER.encode(f) if args.json else _forecast_text(f, len(history), other))
    return 0


def _weeks(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 <= int(text) <= 520:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number of weeks from 0 to 520")
    return int(text)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    proj = sub.add_parser("project", help="price requests spread over a span, stretch by stretch",
                          description="Spread requests over [--from, --until) and price every stretch at the "
                                      "price, window and tier in force: exact totals, months, a bar chart.")
    proj.add_argument("models", nargs="+", metavar="MODEL", help="one model, or several to rank")
    proj.add_argument("--from", dest="starts", type=instant, required=True, metavar="TIME", help="span start")
    proj.add_argument("--until", type=instant, required=True, metavar="TIME", help="span end (exclusive)")
    proj.add_argument("--days", action="store_true", help="also break down by day")
    proj.add_argument("--baseline", metavar="MODEL", help="with several models: savings against this one")
    _add_spread(proj, total=True)
    _add_common(proj)
    proj.set_defaults(handler=_project)

    bud = sub.add_parser("budget", help="when a monthly (or rolling 30-day) budget runs out",
                         description="A budget per cycle against a rate of use from --from: the cycle's cost, "
                                     "the second the budget is exhausted, the requests it buys.")
    bud.add_argument("model", metavar="MODEL")
    bud.add_argument("--amount", type=_decimal, required=True, metavar="AMOUNT", help="the budget per cycle")
    bud.add_argument("--from", dest="starts", type=instant, required=True, metavar="TIME",
                     help="when the rate of use starts (its cycle is the one it falls in)")
    bud.add_argument("--cycle", choices=("month", "rolling-30d"), default="month")
    bud.add_argument("--spent", type=_decimal, default=Decimal(0), metavar="AMOUNT",
                     help="already spent in the cycle before --from")
    _add_spread(bud, total=False)
    _add_common(bud)
    bud.set_defaults(handler=_budget)

    pl = sub.add_parser("plan", help="the cheapest schedule for deferrable work",
                        description="N requests that may run between --from and --until at most --max-per-hour: "
                                    "the cheapest schedule under the windows and price changes, against now.")
    pl.add_argument("model", metavar="MODEL")
    pl.add_argument("--requests", type=count, required=True, metavar="N", help="requests to run (100k, 2M)")
    pl.add_argument("--from", dest="starts", type=instant, required=True, metavar="TIME", help="earliest start")
    pl.add_argument("--until", type=instant, required=True, metavar="TIME", help="deadline (exclusive)")
    pl.add_argument("--max-per-hour", type=count, required=True, metavar="N", help="the most requests an hour")
    _add_common(pl)
    pl.set_defaults(handler=_plan)

    fc = sub.add_parser("forecast", help="forecast requests and cost from hourly history",
                        description="Fit an hour-of-week shape and a weekly trend to the history (exactly), "
                                    "forecast the next --weeks and price them with the schedule: P10/P50/P90 "
                                    "and the error on held-out weeks.")
    fc.add_argument("model", metavar="MODEL")
    fc.add_argument("--history", required=True, metavar="FILE",
                    help="CSV (header line) or JSON Lines: `at` (RFC 3339), `requests` (default 1 a row), "
                         "and `model` (rows of other models are left out): a usage export works")
    fc.add_argument("--weeks", type=_weeks, required=True, metavar="N", help="whole weeks to forecast (1-520)")
    fc.add_argument("--holdout", type=_weeks, default=2, metavar="N",
                    help="last weeks of history held out to score the fit (default 2; 0: none)")
    fc.add_argument("--since", type=instant, metavar="TIME", help="fit from this instant (default: the first row)")
    fc.add_argument("--until", dest="until_", type=instant, metavar="TIME",
                    help="fit up to this instant, exclusive (default: after the last row)")
    _add_common(fc, money=False)
    fc.set_defaults(handler=_forecast)

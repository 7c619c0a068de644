"""``inference-cost catalog check|diff``: keep the price catalog right and current."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from pricing import Catalog, CatalogError
from pricing.importers import diff, read_genai_prices, read_litellm
from pricing.lint import STALE_AFTER_DAYS, lint
from service.cli.common import EXIT_CATALOG, CliError, add_catalog_option, catalog_from, instant, write


def _plain(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.normalize():f}"


def _check(args: argparse.Namespace) -> int:
    target = args.path
    try:
        catalog = Catalog.load(target) if target is not None else Catalog.default()
    except CatalogError as exc:
        write(f"error: {exc}")
        return EXIT_CATALOG
    findings = lint(catalog, args.today, args.max_age_days)
    for finding in findings:
        write(f"warning: {finding}")
    where = target if target is not None else "embedded catalog"
    write(f"{where}: {len(catalog.models())} models from {len(catalog.providers())} provider(s), "
          f"{len(findings)} warning(s), digest {catalog.digest}")
    return EXIT_CATALOG if findings and args.strict else 0


def _diff(args: argparse.Namespace) -> int:
    catalog = catalog_from(args)
    at = args.at or datetime.now(UTC)
    try:
        if args.litellm is not None:
            label, theirs = "litellm", read_litellm(Path(args.litellm))
        else:
            label, theirs = "genai-prices", read_genai_prices(Path(args.genai_prices), at)
    except CatalogError as exc:
        raise CliError(str(exc), EXIT_CATALOG) from None
    report = diff(catalog, theirs, at)
    for d in sorted(report.differences, key=lambda d: (d.model, d.field, d.their_name)):
        write(f"{d.model} {d.field}: ours {_plain(d.ours)}, {label} {_plain(d.theirs)} (as {d.their_name!r})")
    if args.missing:
        for name in report.missing:
            write(f"not in our catalog: {name}")
    write(f"{report.matched} of their models matched ours at {at.isoformat()}; "
          f"{len(report.differences)} difference(s); {len(report.missing)} of their models for our "
          f"providers are not in our catalog{'' if args.missing else ' (list them with --missing)'}")
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-28") from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("catalog", help="check a catalog, or diff it against other price files",
                            description="Tools to keep a price catalog right and current.")
    group = parser.add_subparsers(title="catalog commands", metavar="ACTION", required=True)

    check = group.add_parser(
        "check", help="validate and lint a catalog file or folder",
        description="Load a catalog (exit 1 with the loader's error if it does not load), then warn about "
                    "prices not checked for a long time, cache reads dearer than input, copy-pasted "
                    "histories and gaps. Warnings do not change the exit status unless --strict.")
    check.add_argument("path", nargs="?", help="a catalog file or folder (default: the embedded catalog)")
    check.add_argument("--max-age-days", type=int, default=STALE_AFTER_DAYS,
                       help=f"warn about prices checked longer ago than this (default {STALE_AFTER_DAYS})")
    check.add_argument("--today", type=_day, default=date.today(), help="the date to judge staleness by")
    check.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    check.set_defaults(handler=_check)

    compare = group.add_parser(
        "diff", help="compare our current prices with litellm's or genai-prices' price file",
        description="Read a price file another project publishes (downloaded by you; nothing is fetched) "
                    "and print, model by model, where its prices differ from ours, with both values.")
    source = compare.add_mutually_exclusive_group(required=True)
    source.add_argument("--litellm", metavar="FILE", help="litellm's model_prices_and_context_window.json")
    source.add_argument("--genai-prices", metavar="FILE", help="genai-prices' data.json")
    compare.add_argument("--at", type=instant, help="compare the prices in force at this instant (default now)")
    compare.add_argument("--missing", action="store_true", help="also list their models we do not have")
    add_catalog_option(compare)
    compare.set_defaults(handler=_diff)

"""``inference-cost catalog check|diff``: keep the price catalog right and current."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from pricing import Catalog, CatalogError
from pricing.importers import ExternalPrice, diff, unreviewed
from pricing.lint import STALE_AFTER_DAYS, lint
from service.catalog_diff import (
    REVIEWED,
    installed_genai_prices,
    installed_litellm_path,
    read_genai_prices,
    read_litellm,
    read_reviewed,
)
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


#: ``--litellm`` / ``--genai-prices`` given without a file: the installed package's data.
_INSTALLED = "installed package"


def _sources(args: argparse.Namespace, at: datetime) -> list[tuple[str, list[ExternalPrice]]]:
    both = args.litellm is None and args.genai_prices is None
    sources = []
    if both or args.litellm is not None:
        path = installed_litellm_path() if args.litellm in (None, _INSTALLED) else Path(args.litellm)
        sources.append(("litellm", read_litellm(path)))
    if both or args.genai_prices is not None:
        theirs = (installed_genai_prices(at) if args.genai_prices in (None, _INSTALLED)
                  else read_genai_prices(Path(args.genai_prices), at))
        sources.append(("genai-prices", theirs))
    return sources


def _diff(args: argparse.Namespace) -> int:
    catalog = catalog_from(args)
    at = args.at or datetime.now(UTC)
    try:
        sources = _sources(args, at)
        reviewed = read_reviewed(Path(args.reviewed)) if args.reviewed != "none" else ()
    except CatalogError as exc:
        raise CliError(str(exc), EXIT_CATALOG) from None
    new = 0
    for label, theirs in sources:
        report = diff(catalog, theirs, at)
        shown = report.differences if args.all else unreviewed(label, report.differences, reviewed)
        new += len(unreviewed(label, report.differences, reviewed))
        for d in sorted(shown, key=lambda d: (d.model, d.field, d.their_name)):
            write(f"{d.model} {d.field}: ours {_plain(d.ours)}, {label} {_plain(d.theirs)} (as {d.their_name!r})")
        if args.missing:
            for name in report.missing:
                write(f"not in our catalog: {name} ({label})")
        hidden = len(report.differences) - len(shown)
        write(f"{label}: {report.matched} of their models matched ours at {at.isoformat()}; "
              f"{len(report.differences)} difference(s), {hidden} of them reviewed and hidden"
              f"{'' if args.all else ' (show them with --all)'}; {len(report.missing)} of their models for our "
              f"providers are not in our catalog{'' if args.missing else ' (list them with --missing)'}")
    return EXIT_CATALOG if new and args.strict else 0


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
                    "prices and routes not checked for a long time, cache reads dearer than input, copy-pasted "
                    "histories, gaps, models still priced after their announced shutdown, and aliases another "
                    "provider's model answers to. Warnings do not change the exit status unless --strict.")
    check.add_argument("path", nargs="?", help="a catalog file or folder (default: the embedded catalog)")
    check.add_argument("--max-age-days", type=int, default=STALE_AFTER_DAYS,
                       help=f"warn about prices checked longer ago than this (default {STALE_AFTER_DAYS})")
    check.add_argument("--today", type=_day, default=date.today(), help="the date to judge staleness by")
    check.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    check.set_defaults(handler=_check)

    compare = group.add_parser(
        "diff", help="compare our current prices with litellm's and genai-prices' price data",
        description="Read the price data litellm and genai-prices publish (a file you downloaded, or, by "
                    "default, the data their installed packages ship; nothing is fetched) and print, model "
                    "by model, where their prices differ from ours, with both values. Differences recorded "
                    f"in the reviewed-differences file ({REVIEWED.name}) are hidden while both values "
                    "still match.")
    compare.add_argument("--litellm", metavar="FILE", nargs="?", const=_INSTALLED,
                         help="only litellm: its model_prices_and_context_window.json (no FILE: the installed "
                              "package's copy)")
    compare.add_argument("--genai-prices", metavar="FILE", nargs="?", const=_INSTALLED,
                         help="only genai-prices: its data.json (no FILE: the installed package's data)")
    compare.add_argument("--reviewed", metavar="FILE", default=str(REVIEWED),
                         help="the reviewed differences to hide (default: the shipped file; 'none': hide none)")
    compare.add_argument("--all", action="store_true", help="also print the reviewed differences")
    compare.add_argument("--strict", action="store_true", help="exit 1 when a difference is not reviewed")
    compare.add_argument("--at", type=instant, help="compare the prices in force at this instant (default now)")
    compare.add_argument("--missing", action="store_true", help="also list their models we do not have")
    add_catalog_option(compare)
    compare.set_defaults(handler=_diff)

"""``inference-cost models``: the catalog, one line a model with the price in force now."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from pricing import Model, NoPriceError, Period
from service import responses
from service.cli import render
from service.cli.common import CliError, add_catalog_option, add_json_option, catalog_from, write


def _models(args: argparse.Namespace) -> int:
    catalog = catalog_from(args)
    if args.provider is not None and args.provider not in catalog.providers():
        raise CliError(f"unknown provider {args.provider!r}; the catalog has: {', '.join(catalog.providers())}")
    models = catalog.models(args.provider)
    if args.json:
        write(responses.encode_models(catalog, models))
        return 0
    now = datetime.now(UTC)
    rows: list[tuple[Model, Period | None]] = []
    for model in models:
        try:
            current: Period | None = catalog.period_at(f"{model.provider}/{model.id}", now)
        except NoPriceError:
            current = None
        rows.append((model, current))
    write(render.models_text(rows))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("models", help="list the catalog",
                            description="List every model with its aliases and the price in force now.")
    parser.add_argument("--provider", help="only this provider's models, e.g. openai")
    add_json_option(parser)
    add_catalog_option(parser)
    parser.set_defaults(handler=_models)

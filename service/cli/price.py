"""``inference-cost quote`` and ``inference-cost compare``: prices from the terminal, no server."""

from __future__ import annotations

import argparse
from typing import Any

from pricing import InvalidWorkloadError, NoPriceError, PricingError, Usage, Workload
from service import responses
from service.cli import render
from service.cli.common import (
    CliError,
    add_catalog_option,
    add_json_option,
    catalog_from,
    count,
    instant,
    write,
)

# The flag a user typed for each workload field, to name it in an error.
_FLAGS = {
    "input_tokens": "--input",
    "cached_input_tokens": "--cached",
    "cache_write_tokens": "--cache-write",
    "cache_write_1h_tokens": "--cache-write-1h",
    "output_tokens": "--output",
    "requests": "--requests",
    "at": "--at",
    "batch": "--batch",
    "currency": "--currency",
    "model": "MODEL",
}


def _add_usage_options(parser: argparse.ArgumentParser) -> None:
    tokens = parser.add_argument_group("tokens per request (350k, 1.2M and 2B are accepted)")
    tokens.add_argument("--input", type=count, default=0, metavar="N",
                        help="prompt tokens, the cached and cache-write parts included")
    tokens.add_argument("--cached", type=count, default=0, metavar="N", help="part of --input read from cache")
    tokens.add_argument("--cache-write", type=count, default=0, metavar="N",
                        help="part of --input written to the (5-minute) cache")
    tokens.add_argument("--cache-write-1h", type=count, default=0, metavar="N",
                        help="part of --input written to Anthropic's 1-hour cache")
    tokens.add_argument("--output", type=count, default=0, metavar="N", help="output tokens, reasoning included")
    parser.add_argument("--requests", type=count, default=1, metavar="N", help="number of requests (default 1)")
    parser.add_argument("--at", type=instant, metavar="TIME",
                        help="when they run, RFC 3339 with an offset, e.g. 2025-01-31T12:00:00Z (default: now)")
    parser.add_argument("--batch", action="store_true", help="use the provider's batch-API rates")
    parser.add_argument("--currency", metavar="CODE",
                        help="the price list to use, e.g. CNY for DeepSeek's yuan prices "
                             "(default: the model's first-listed currency)")
    add_json_option(parser)
    add_catalog_option(parser)


def _usage_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {"input_tokens": args.input, "cached_input_tokens": args.cached,
            "cache_write_tokens": args.cache_write, "cache_write_1h_tokens": args.cache_write_1h,
            "output_tokens": args.output, "requests": args.requests, "at": args.at, "batch": args.batch,
            "currency": args.currency}


def _invalid(exc: InvalidWorkloadError) -> CliError:
    return CliError(f"{_FLAGS.get(exc.field, exc.field)}: {exc.reason}")


def _quote(args: argparse.Namespace) -> int:
    catalog = catalog_from(args)
    try:
        workload = Workload(model=args.model, **_usage_fields(args))
        result = catalog.quote(workload)
    except InvalidWorkloadError as exc:
        raise _invalid(exc) from None
    except PricingError as exc:
        raise CliError(str(exc)) from None
    write(responses.encode_quote(result) if args.json else render.quote_text(result))
    return 0


def _compare(args: argparse.Namespace) -> int:
    catalog = catalog_from(args)
    # "--models a,b c" and "--models a --models b" both work.
    models = [name for group in args.models for name in group.split(",") if name] if args.models else None
    try:
        usage = Usage(**_usage_fields(args))
        ranked = catalog.compare(usage, models, args.baseline)
        base = catalog.model(args.baseline) if args.baseline else None
    except InvalidWorkloadError as exc:
        raise _invalid(exc) from None
    except NoPriceError as exc:
        raise CliError(f"{exc}; leave --models out to compare only the models priced then") from None
    except PricingError as exc:
        raise CliError(str(exc)) from None
    baseline = None if base is None else f"{base.provider}/{base.id}"
    write(responses.encode_compare(ranked, baseline) if args.json else render.compare_text(ranked, baseline))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    quote = sub.add_parser("quote", help="price one workload on one model",
                           description="Print the exact, itemised price of a workload on MODEL.")
    quote.add_argument("model", metavar="MODEL", help="model id, alias or provider/id, e.g. deepseek-reasoner")
    _add_usage_options(quote)
    quote.set_defaults(handler=_quote)

    compare = sub.add_parser("compare", help="rank models on one workload, cheapest first",
                             description="Price one token profile on several models, cheapest first.")
    compare.add_argument("--models", nargs="+", action="extend", metavar="MODEL",
                         help="models to compare (default: every model priced at that instant)")
    compare.add_argument("--baseline", metavar="MODEL", help="show each saving in percent against this model")
    _add_usage_options(compare)
    compare.set_defaults(handler=_compare)

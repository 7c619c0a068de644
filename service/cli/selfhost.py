"""``inference-cost selfhost``: open weights on rented GPUs against the API models that serve them."""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation

import msgspec

from pricing import CatalogError, InvalidWorkloadError, PricingError, Usage
from pricing.selfhost import InlineProfile, SelfhostQuote, quote_selfhost, totals_from_rate
from pricing.selfhost_data import SelfhostData, default_selfhost
from service.cli import render
from service.cli.common import (
    EXIT_CATALOG,
    CliError,
    add_catalog_option,
    add_json_option,
    catalog_from,
    count,
    instant,
    write,
)

# The flag a user typed for each engine argument, to name it in an error.
_FLAGS = {
    "input_tokens": "--input", "cached_input_tokens": "--cached", "output_tokens": "--output",
    "hours": "--hours", "profile": "--profile", "offer": "--offer", "gpu_hour_price": "--gpu-hour",
    "currency": "--currency", "exchange_rate": "--exchange-rate", "utilisation": "--utilisation",
    "peak_ratio": "--peak-ratio", "requests": "--requests", "at": "--at", "requests_per_second": "--rate",
    "profile.prefill_tokens_per_second": "--prefill-rate", "profile.decode_tokens_per_second": "--decode-rate",
    "profile.gpus_per_node": "--gpus-per-node", "profile.min_nodes": "--min-nodes",
}


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a decimal number, e.g. 2 or 2.49") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _rate(text: str) -> Decimal:
    """A tokens/s rate: a decimal, or a count with a suffix (``73.7k``)."""
    try:
        return _decimal(text)
    except argparse.ArgumentTypeError:
        return Decimal(count(text))


def _field_flag(field: str) -> str:
    if field.startswith("compare["):
        return "--compare " + field[len("compare"):]
    return _FLAGS.get(field, field)


def _data() -> SelfhostData:
    try:
        return default_selfhost()
    except CatalogError as exc:
        raise CliError(f"self-hosting data: {exc}", EXIT_CATALOG) from None


def _list(data: SelfhostData) -> str:
    lines = ["serving profiles (prefill / decode tokens/s per node):"]
    lines += render.table(
        ["id", "model", "gpus", "prefill", "decode", "cache hits", "source"],
        [[p.id, p.model, f"{p.gpus_per_node}x {p.gpu}", render.plain(p.prefill_tokens_per_second),
          render.plain(p.decode_tokens_per_second), "included" if p.prefill_includes_cache_hits else "free",
          p.source] for p in data.profiles.values()],
        [False, False, False, True, True, False, False])
    lines += ["", "GPU offers (price per GPU-hour):"]
    lines += render.table(
        ["id", "provider", "product", "gpu", "price", "commitment", "from"],
        [[o.id, o.provider, o.product, o.gpu, f"{render.money(o.gpu_hour)} {o.currency}", o.commitment,
          o.starts.date().isoformat()] for o in data.offers.values()],
        [False, False, False, False, True, False, False])
    return "\n".join(lines)


def _text(q: SelfhostQuote) -> str:
    def tokens(n: int) -> str:
        return f"{n:,}"

    cur = q.currency
    head = [
        f"self-hosting {q.model or 'an inline profile'} on {q.profile} ({q.gpus_per_node}x {q.gpu} a node)",
        f"usage over {render.money(q.hours)} h: {tokens(q.input_tokens)} input ({tokens(q.cached_input_tokens)} cached), "
        f"{tokens(q.output_tokens)} output; {tokens(q.daily_tokens)} tokens a day",
        "",
    ]
    rows = [
        ["prefill node-seconds", render.plain(q.prefill_node_seconds)],
        ["decode node-seconds", render.plain(q.decode_node_seconds)],
        ["utilisation / peak ratio", f"{render.plain(q.utilisation)} / {render.plain(q.peak_ratio)}"],
        ["nodes provisioned (average)", render.plain(q.nodes)],
        ["nodes billed", render.plain(q.billed_nodes)],
        ["GPUs", render.plain(q.gpus)],
        ["GPU-hours", render.plain(q.gpu_hours)],
        [f"price per GPU-hour ({q.offer or 'given'})", f"{render.money(q.gpu_hour_price)} {cur}"],
        ["total", f"{render.money(q.total)} {cur}"],
        ["per million input", f"{render.plain(q.per_million_input)} {cur}"],
        ["per million output", f"{render.plain(q.per_million_output)} {cur}"],
    ]
    body = render.table(["", ""], rows, [False, True])[1:]
    api = ["", f"the same usage on the APIs at {q.at.isoformat().replace('+00:00', 'Z')}:"]
    if q.compare:
        api += render.table(
            ["api", "total", "saving", "saving %", "markup %", "break-even tokens/day"],
            [[f"{c.provider}/{c.model}" + (f" [{c.window}]" if c.window else ""),
              f"{render.money(c.total)} {c.currency}",
              "-" if c.saving is None else render.money(c.saving),
              render.plain(c.saving_percent), render.plain(c.markup_percent),
              "never" if c.break_even_daily_tokens is None and c.saving is not None
              else "-" if c.break_even_daily_tokens is None else tokens(c.break_even_daily_tokens)]
             for c in q.compare],
            [False, True, True, True, True, True])
    else:
        api.append("(no API model compared)")
    api += [f"no price then: {u.name} ({u.reason})" for u in q.unpriced]
    api += [f"note: {n}" for n in q.notes]
    return "\n".join(head + body + api)


def _run(args: argparse.Namespace) -> int:
    data = _data()
    if args.list:
        write(_list(data))
        return 0
    missing = [flag for flag, value in (("--hours", args.hours),) if value is None]
    if args.profile is None and args.prefill_rate is None:
        missing.append("--profile (or --prefill-rate, --decode-rate, --gpus-per-node)")
    if missing:
        raise CliError(f"missing {', '.join(missing)}")
    catalog = catalog_from(args)
    profile: str | InlineProfile
    if args.profile is not None:
        profile = args.profile
    else:
        if args.decode_rate is None:
            raise CliError("--decode-rate: an inline profile needs a decode rate (output tokens/s per node)")
        if args.gpus_per_node is None:
            raise CliError("--gpus-per-node: an inline profile needs the GPUs in one node")
        profile = InlineProfile(gpu=args.gpu or "GPU", gpus_per_node=args.gpus_per_node,
                                prefill_tokens_per_second=args.prefill_rate,
                                decode_tokens_per_second=args.decode_rate,
                                prefill_includes_cache_hits=not args.cache_hits_free,
                                min_nodes=args.min_nodes if args.min_nodes is not None else Decimal(1))
    compare = ([name for group in args.compare for name in group.split(",") if name]
               if args.compare is not None else None)
    try:
        totals, requests = (args.input, args.cached, args.output), args.requests
        if args.rate is not None:
            t = totals_from_rate(Usage(input_tokens=args.input, cached_input_tokens=args.cached,
                                       output_tokens=args.output), args.rate, args.hours)
            totals = (t.input_tokens, t.cached_input_tokens, t.output_tokens)
            requests = t.requests if requests is None else requests
        result = quote_selfhost(
            input_tokens=totals[0], cached_input_tokens=totals[1], output_tokens=totals[2],
            hours=args.hours, profile=profile, data=data, catalog=catalog, offer=args.offer,
            gpu_hour_price=args.gpu_hour, currency=args.currency, exchange_rate=args.exchange_rate,
            utilisation=args.utilisation, peak_ratio=args.peak_ratio, compare=compare,
            requests=requests, at=args.at, batch=args.batch,
        )
    except InvalidWorkloadError as exc:
        raise CliError(f"{_field_flag(exc.field)}: {exc.reason}") from None
    except PricingError as exc:
        raise CliError(str(exc)) from None
    write(msgspec.json.encode(result) if args.json else _text(result))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "selfhost", help="serve open weights on rented GPUs, against the APIs",
        description="Size and price token totals served on rented GPUs (prefill and decode sized separately), "
                    "beside the same totals on the API models that serve the model, with the break-even volume.")
    p.add_argument("--list", action="store_true", help="list the serving profiles and GPU offers, and stop")
    usage = p.add_argument_group("usage over the span (608B, 342.3B and 1.2M are accepted)")
    usage.add_argument("--input", type=count, default=0, metavar="N", help="input tokens, the cached part included")
    usage.add_argument("--cached", type=count, default=0, metavar="N", help="part of --input that hit a prompt cache")
    usage.add_argument("--output", type=count, default=0, metavar="N", help="output tokens")
    usage.add_argument("--hours", type=_decimal, metavar="H", help="the span the totals cover, e.g. 24")
    usage.add_argument("--rate", type=_decimal, metavar="RPS",
                       help="requests a second: --input, --cached and --output are then per request")
    prof = p.add_argument_group("serving profile: an id (see --list), or inline rates per node")
    prof.add_argument("--profile", metavar="ID")
    prof.add_argument("--prefill-rate", type=_rate, metavar="TOK/S", help="inline: input tokens/s per node (73.7k)")
    prof.add_argument("--decode-rate", type=_rate, metavar="TOK/S", help="inline: output tokens/s per node")
    prof.add_argument("--gpus-per-node", type=int, metavar="N", help="inline: GPUs in one node")
    prof.add_argument("--gpu", metavar="NAME", help="inline: the GPU model's name")
    prof.add_argument("--cache-hits-free", action="store_true",
                      help="inline: cache hits cost no prefill time (default: the prefill rate includes them)")
    prof.add_argument("--min-nodes", type=_decimal, metavar="N", help="inline: the smallest deployment (default 1)")
    gpu = p.add_argument_group("GPU price: an offer id (see --list) or a price per GPU-hour")
    gpu.add_argument("--offer", metavar="ID")
    gpu.add_argument("--gpu-hour", type=_decimal, metavar="PRICE", help="price of one GPU-hour, e.g. 2")
    gpu.add_argument("--currency", metavar="CODE", help="currency of the answer (default: the offer's, or USD)")
    gpu.add_argument("--exchange-rate", type=_decimal, metavar="RATE",
                     help="units of --currency per unit of the offer's currency")
    p.add_argument("--utilisation", type=_decimal, default=Decimal(1), metavar="U",
                   help="share of provisioned time doing useful work, in (0, 1] (default 1)")
    p.add_argument("--peak-ratio", type=_decimal, default=Decimal(1), metavar="R",
                   help="peak-to-average ratio to provision for (default 1)")
    p.add_argument("--compare", nargs="+", action="extend", metavar="MODEL",
                   help="API models to compare (default: the catalog names serving the profile's model)")
    p.add_argument("--requests", type=count, metavar="N",
                   help="requests the totals came from, for prompt-size tiers (default: requests of <= 10k tokens)")
    p.add_argument("--at", type=instant, metavar="TIME", help="instant the API prices are read at (default: now)")
    p.add_argument("--batch", action="store_true", help="quote the APIs' batch prices")
    add_json_option(p)
    add_catalog_option(p)
    p.set_defaults(handler=_run)

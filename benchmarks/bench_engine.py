"""Engine benchmark: time per quote of our engine beside plain Decimal arithmetic, genai-prices and litellm.

    .venv/bin/python benchmarks/bench_engine.py                # under 20 s; prints markdown tables
    .venv/bin/python benchmarks/bench_engine.py --rounds 31 --sample-ms 200 --workloads 2000

Every contender prices the same seeded workloads (``workloads.py``) in one process, in rounds; the
order of the contenders rotates from round to round so none always runs on a warmer or quieter
machine, and the table shows the median round. Before timing, every workload is priced once by each
contender and the totals are compared: where the price data of two libraries agree the totals must
agree too (exactly for genai-prices, within float rounding for litellm); where the data differ the
benchmark says how. It exits 1 if a total disagrees although the rates agree, or if the plain
arithmetic does not reproduce the engine's total.

genai-prices and litellm are the optional ``bench`` extra; without them their rows say so.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from importlib import metadata
from typing import Any

# litellm fetches its price map from the network at import unless told not to: the benchmark must
# measure its bundled map, never a download. Set before anything can import litellm.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

from report import environment, table
from workloads import DEFAULT_SEED, TIER_THRESHOLD, BenchWorkload, Target, generate

from pricing import Catalog, Line, NoPriceError, Quote, UnknownModelError, Workload
from pricing.schema import Pricing, Rates

MILLION = Decimal(1_000_000)
KINDS = ("input", "cached_input", "cache_write", "output")
#: litellm adds floats: a total within this relative distance of ours is the same price.
FLOAT_TOLERANCE = Decimal("1e-9")
#: Targets from the issue: ours within 5x of the floor, 30x faster than genai-prices, 40x than litellm.
TARGETS = {"plain": 5.0, "genai-prices": 30.0, "litellm": 40.0}


# -- the floor ------------------------------------------------------------------------------------

def plain_decimal(uncached: int, cached: int, write: int, output: int,
                  r_in: Decimal, r_cached: Decimal, r_write: Decimal, r_out: Decimal,
                  million: Decimal = MILLION) -> Decimal:
    """The four line amounts and their sum, with the rates already at hand: no engine can do less."""
    a_in = uncached * r_in / million
    a_cached = cached * r_cached / million
    a_write = write * r_write / million
    a_out = output * r_out / million
    return a_in + a_cached + a_write + a_out


# -- what each library says -----------------------------------------------------------------------

@dataclass
class Priced:
    """One library's answer for one workload: its total, and the rates it used where known."""

    total: Decimal | None = None
    rates: dict[str, Decimal] | None = None
    error: str | None = None


@dataclass
class Contender:
    name: str
    label: str
    #: Runs every prepared workload once; what the timing loop calls.
    run: Callable[[], None] | None
    count: int = 0
    missing: str | None = None
    samples: list[float] = field(default_factory=list)


def _decimal_of_float(value: float) -> Decimal:
    # The shortest repr is what litellm's JSON price map holds (2.5e-06): exact, no binary noise.
    return Decimal(repr(value))


def _ours_rates(quote: Quote) -> dict[str, Decimal]:
    return {line.kind: line.rate for line in quote.lines}


class GenaiPrices:
    """genai-prices' ``calc_price``. Its ``input_tokens`` is the whole prompt, cache reads and
    writes included (they are descendants of input_tokens in its unit registry and are subtracted
    from it before input is billed), as ours is; its tiers apply when the prompt is above ``start``."""

    name = "genai-prices"

    def __init__(self) -> None:
        import genai_prices

        self.module = genai_prices
        self.version = metadata.version("genai-prices")

    def args(self, bw: BenchWorkload) -> tuple[Any, str, str, datetime]:
        w = bw.workload
        usage = self.module.Usage(
            input_tokens=w.input_tokens, cache_read_tokens=w.cached_input_tokens,
            cache_write_tokens=w.cache_write_tokens, output_tokens=w.output_tokens,
        )
        assert w.at is not None
        return usage, bw.target.genai_ref, bw.target.genai_provider, w.at

    def runner(self, prepared: Sequence[tuple[Any, str, str, datetime]]) -> Callable[[], None]:
        calc = self.module.calc_price

        def run() -> None:
            for usage, ref, provider, at in prepared:
                calc(usage, ref, provider_id=provider, genai_request_timestamp=at)
        return run

    def price(self, bw: BenchWorkload) -> Priced:
        usage, ref, provider, at = self.args(bw)
        try:
            calc = self.module.calc_price(usage, ref, provider_id=provider, genai_request_timestamp=at)
        except (LookupError, ValueError) as exc:
            return Priced(error=f"{type(exc).__name__}: {exc}")
        prompt = bw.workload.input_tokens
        mp = calc.model_price

        def rate(key: str) -> Decimal | None:
            value = getattr(mp, key, None)
            if value is None or isinstance(value, Decimal):
                return value
            chosen = value.base  # TieredPrices: the highest tier whose start the prompt is above
            for tier in value.tiers:
                if prompt > tier.start:
                    chosen = tier.price
            return Decimal(chosen)

        base = rate("input_mtok") or Decimal(0)
        rates = {
            "input": base,
            # Without a cache price, genai-prices leaves those tokens in input_tokens: billed as input.
            "cached_input": rate("cache_read_mtok") or base,
            "cache_write": rate("cache_write_mtok") or base,
            "output": rate("output_mtok") or Decimal(0),
        }
        return Priced(total=calc.total_price, rates=rates)


class Litellm:
    """litellm's ``cost_per_token``. Called with token counts (no usage object), its
    ``prompt_tokens`` is the whole prompt including ``cache_read_input_tokens`` and
    ``cache_creation_input_tokens``, for every provider (checked in its cost_calculator and
    generic_cost_per_token: the uncached text tokens are prompt minus both); its tiers
    (``*_above_200k_tokens``) apply when ``prompt_tokens`` is above the threshold."""

    name = "litellm"

    def __init__(self) -> None:
        import litellm

        litellm.suppress_debug_info = True
        self.module = litellm
        self.version = metadata.version("litellm")

    def kwargs(self, bw: BenchWorkload) -> dict[str, Any]:
        w = bw.workload
        return {
            "model": bw.target.litellm_model, "custom_llm_provider": bw.target.litellm_provider,
            "prompt_tokens": w.input_tokens, "completion_tokens": w.output_tokens,
            "cache_read_input_tokens": w.cached_input_tokens,
            "cache_creation_input_tokens": w.cache_write_tokens,
        }

    def runner(self, prepared: Sequence[dict[str, Any]]) -> Callable[[], None]:
        cost = self.module.cost_per_token

        def run() -> None:
            for kwargs in prepared:
                cost(**kwargs)
        return run

    def _entry(self, target: Target) -> dict[str, Any] | None:
        costs = self.module.model_cost
        entry = costs.get(f"{target.litellm_provider}/{target.litellm_model}")
        return entry if entry is not None else costs.get(target.litellm_model)

    def price(self, bw: BenchWorkload) -> Priced:
        try:
            prompt_cost, completion_cost = self.module.cost_per_token(**self.kwargs(bw))
        except Exception as exc:  # litellm raises bare Exceptions for unknown models
            return Priced(error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
        total = _decimal_of_float(prompt_cost + completion_cost)
        entry = self._entry(bw.target)
        if entry is None:
            return Priced(total=total)
        above = bw.workload.input_tokens > TIER_THRESHOLD

        def rate(key: str) -> Decimal | None:
            value = entry.get(f"{key}_above_200k_tokens") if above else None
            if value is None:
                value = entry.get(key)
            return None if value is None else _decimal_of_float(value) * MILLION

        base = rate("input_cost_per_token") or Decimal(0)
        rates = {
            "input": base,
            "cached_input": rate("cache_read_input_token_cost") or base,
            "cache_write": rate("cache_creation_input_token_cost") or base,
            "output": rate("output_cost_per_token") or Decimal(0),
        }
        return Priced(total=total, rates=rates)


# -- agreement ------------------------------------------------------------------------------------

def _fmt_rates(rates: dict[str, Decimal], kinds: Sequence[str]) -> str:
    short = {"input": "in", "cached_input": "cached", "cache_write": "write", "output": "out"}
    return " / ".join(f"{short[k]} {rates[k].normalize():f}" for k in kinds)


def _with_tier(pricing: Pricing, prompt: int) -> tuple[Rates, str]:
    for tier in reversed(pricing.tiers):
        if prompt > tier.threshold or (prompt == tier.threshold and tier.boundary == ">="):
            return tier, f", tier {tier.boundary}{tier.threshold}"
    return pricing, ""


def _rates_of(rates: Rates) -> dict[str, Decimal]:
    base = rates.input
    return {
        "input": base,
        "cached_input": rates.cached_input if rates.cached_input is not None else base,
        "cache_write": rates.cache_write if rates.cache_write is not None else base,
        "output": rates.output,
    }


def our_history(catalog: Catalog, model: str, prompt: int) -> list[tuple[str, dict[str, Decimal]]]:
    """Every price our catalog ever held for ``model`` at this prompt size, labelled, for explanations."""
    points = []
    for period in catalog.model(model).periods:
        label = f"our period from {period.starts.date()}"
        for pricing, name in ((period, label), *((w, f"{label}, {w.name} window") for w in period.windows)):
            rates, tier = _with_tier(pricing, prompt)
            points.append((name + tier, _rates_of(rates)))
            if tier:  # a library without the long-context tier prices the prompt at the base rates
                points.append((f"{name} but not its{tier.lstrip(',')}", _rates_of(pricing)))
    return points


def _used_label(quote: Quote) -> str:
    label = f"period from {quote.period_from.date()}"
    if quote.window:
        label += f", {quote.window} window"
    if quote.tier:
        label += f", tier {quote.tier}"
    return label


@dataclass
class Verdict:
    status: str  # "agree", "data differ", "MISMATCH", "not priced"
    reason: str = ""


def _shown_kinds(bw: BenchWorkload) -> tuple[str, ...]:
    # Cache writes only where the provider sells them; the rest would show the input rate again.
    return KINDS if bw.target.cache_writes else ("input", "cached_input", "output")


def judge(catalog: Catalog, bw: BenchWorkload, quote: Quote, theirs: Priced, exact: bool) -> Verdict:
    """Whether ``theirs`` is our price; if not, whether their price data or the arithmetic differs."""
    if theirs.error is not None or theirs.total is None:
        return Verdict("not priced", theirs.error or "no total")
    ours = _ours_rates(quote)
    # Only the rates of lines with tokens decide the price.
    used = [line.kind for line in quote.lines if line.tokens and line.kind in KINDS]
    if exact:
        same_total = theirs.total == quote.total
    else:
        scale = max(abs(quote.total), Decimal("1e-12"))
        same_total = abs(theirs.total - quote.total) / scale <= FLOAT_TOLERANCE
    if theirs.rates is None:
        return Verdict("agree" if same_total else "data differ", "" if same_total else "rates unknown")
    if all(theirs.rates[k] == ours[k] for k in used):
        if same_total:
            return Verdict("agree")
        return Verdict("MISMATCH", f"same rates ({_fmt_rates(ours, used)}) but totals "
                                   f"{quote.total} (ours) and {theirs.total} (theirs)")
    if same_total:
        return Verdict("agree")  # a differing rate on lines too small to move the total
    shown = _shown_kinds(bw)
    rates = f"ours {_fmt_rates(ours, shown)}; theirs {_fmt_rates(theirs.rates, shown)}"
    for label, point in our_history(catalog, bw.workload.model, bw.workload.input_tokens):
        if all(point[k] == theirs.rates[k] for k in used):
            return Verdict("data differ", f"they hold {label}; at this instant ours is the {_used_label(quote)} "
                                          f"(a price period, window or tier they lack): {rates}")
    return Verdict("data differ", f"their rates match no price in our history ({_used_label(quote)}): {rates}")


# -- timing ---------------------------------------------------------------------------------------

def _sample(run: Callable[[], None], passes: int) -> int:
    gc.collect()
    gc.disable()  # as timeit does: a collection lands on whichever contender happens to run
    try:
        start = time.perf_counter_ns()
        for _ in range(passes):
            run()
        return time.perf_counter_ns() - start
    finally:
        gc.enable()


def measure(contenders: list[Contender], rounds: int, sample_ms: float) -> None:
    ready = [c for c in contenders if c.run is not None]
    passes: dict[str, int] = {}
    for c in ready:
        assert c.run is not None
        c.run()  # warm caches (genai-prices' and litellm's look-up caches, our interned names)
        one = max(_sample(c.run, 1), 1)
        passes[c.name] = max(1, round(sample_ms * 1e6 / one))
    for r in range(rounds):
        shift = r % len(ready)
        for c in ready[shift:] + ready[:shift]:
            assert c.run is not None
            elapsed = _sample(c.run, passes[c.name])
            c.samples.append(elapsed / (passes[c.name] * c.count) / 1000)  # microseconds per quote


# -- report ---------------------------------------------------------------------------------------

def speed_table(contenders: list[Contender], ours: Contender) -> str:
    ours_us = statistics.median(ours.samples)
    rows = []
    for c in contenders:
        if c.run is None:
            rows.append([c.label, "-", "-", "-", "-", c.missing or "not run"])
            continue
        med = statistics.median(c.samples)
        ratio = med / ours_us
        goal = ""
        if c.name in TARGETS:
            want = TARGETS[c.name]
            if c.name == "plain":
                got = ours_us / med
                met = got <= want
                goal = f"ours {got:.1f}x the floor; target <= {want:g}x: {'met' if met else 'MISSED'}"
            else:
                met = ratio >= want
                goal = f"target ours {want:g}x faster: {'met' if met else 'MISSED'}"
        rows.append([c.label, f"{med:.2f}", f"{min(c.samples):.2f}", f"{1e6 / med:,.0f}",
                     f"{ratio:.2f}x", goal])
    headers = ["contender", "us/quote (median)", "us/quote (best)", "quotes/s", "time vs ours", "target"]
    return table(headers, rows)


def profile_engine(catalog: Catalog, workloads: Sequence[Workload], passes: int) -> str:
    quote = catalog.quote
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(passes):
        for w in workloads:
            quote(w)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


# -- main -----------------------------------------------------------------------------------------

@dataclass
class Agreement:
    summary: list[list[object]] = field(default_factory=list)
    #: (library, model, reason) -> the instants (UTC) of the workloads concerned
    differ: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)
    per_workload: list[list[object]] = field(default_factory=list)


def check_agreement(catalog: Catalog, priced: Sequence[tuple[BenchWorkload, Quote]],
                    libs: Sequence[GenaiPrices | Litellm]) -> Agreement:
    """Price every workload with every library once and judge each answer against ours."""
    report = Agreement()
    answers: dict[str, list[tuple[Priced, Verdict]]] = {}
    for lib in libs:
        exact = isinstance(lib, GenaiPrices)
        counts = dict.fromkeys(("agree", "data differ", "MISMATCH", "not priced"), 0)
        worst_abs, worst_rel = Decimal(0), Decimal(0)
        answers[lib.name] = []
        for bw, quote in priced:
            theirs = lib.price(bw)
            verdict = judge(catalog, bw, quote, theirs, exact=exact)
            answers[lib.name].append((theirs, verdict))
            counts[verdict.status] += 1
            if verdict.status == "agree" and theirs.total is not None and not exact:
                diff = abs(theirs.total - quote.total)
                worst_abs = max(worst_abs, diff)
                worst_rel = max(worst_rel, diff / quote.total if quote.total else Decimal(0))
            if verdict.status in ("data differ", "not priced"):
                assert bw.workload.at is not None
                instants = report.differ.setdefault((lib.name, bw.workload.model, verdict.reason), set())
                instants.add(bw.workload.at.strftime("%Y-%m-%d %H:%M"))
            if verdict.status == "MISMATCH":
                report.mismatches.append(f"- {lib.name}, workload {bw.index} ({bw.workload}): {verdict.reason}")
        note = ("exact Decimal compare" if exact else
                f"floats; largest difference among agreeing totals {worst_abs:.2E} USD (relative {worst_rel:.1E})")
        report.summary.append([f"{lib.name} {lib.version}", len(priced), counts["agree"],
                               counts["data differ"], counts["MISMATCH"], counts["not priced"], note])
    for i, (bw, quote) in enumerate(priced):
        w = bw.workload
        assert w.at is not None
        row: list[object] = [bw.index, w.model, w.at.strftime("%Y-%m-%d %H:%M"),
                             f"{w.input_tokens}/{w.cached_input_tokens}/{w.cache_write_tokens}/{w.output_tokens}",
                             quote.total]
        for lib in libs:
            theirs, verdict = answers[lib.name][i]
            if theirs.total is None:
                row.append(f"{verdict.status}")
                continue
            diff = theirs.total - quote.total
            if not diff:
                row.append(f"{theirs.total} ({verdict.status})")
                continue
            rel = f"{diff / quote.total:.1E}" if quote.total else "-"
            row.append(f"{theirs.total} ({verdict.status}; diff {diff:.2E}, rel {rel})")
        report.per_workload.append(row)
    return report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", type=int, default=240, help="seeded workloads to generate (default 240)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--rounds", type=int, default=11, help="timing rounds; the median is shown (default 11)")
    p.add_argument("--sample-ms", type=float, default=25.0,
                   help="target length of one contender's sample in a round (default 25 ms)")
    p.add_argument("--per-workload", action="store_true", help="also print every workload's prices")
    p.add_argument("--profile", action="store_true", help="also print a cProfile of the engine's quotes")
    p.add_argument("--no-libs", action="store_true", help="leave genai-prices and litellm out")
    args = p.parse_args(argv)
    if args.workloads < 1 or args.rounds < 1 or args.sample_ms <= 0:
        p.error("--workloads and --rounds must be >= 1 and --sample-ms > 0")
    return args


def price_ours(catalog: Catalog, generated: Sequence[BenchWorkload]
               ) -> tuple[list[tuple[BenchWorkload, Quote]], dict[tuple[str, str], int]]:
    """Our quote of each workload; those our catalog cannot price are counted by model and reason."""
    priced: list[tuple[BenchWorkload, Quote]] = []
    skipped: dict[tuple[str, str], int] = {}
    for bw in generated:
        try:
            priced.append((bw, catalog.quote(bw.workload)))
        except UnknownModelError:
            key = (bw.workload.model, "not in our catalog")
            skipped[key] = skipped.get(key, 0) + 1
        except NoPriceError as exc:
            key = (bw.workload.model, f"no price: {exc.reason}")
            skipped[key] = skipped.get(key, 0) + 1
    return priced, skipped


FloorRow = tuple[int, int, int, int, Decimal, Decimal, Decimal, Decimal]


def floor_rows(priced: Sequence[tuple[BenchWorkload, Quote]]) -> tuple[list[FloorRow], int]:
    """The plain-arithmetic arguments of each workload, and how many fail to give the engine's total."""
    rows: list[FloorRow] = []
    wrong = 0
    for bw, quote in priced:
        lines: dict[str, Line] = {line.kind: line for line in quote.lines}
        if set(lines) != set(KINDS):
            raise SystemExit(f"workload {bw.index}: lines {sorted(lines)}, expected {sorted(KINDS)}")
        i, c, w, o = (lines[k] for k in KINDS)
        row: FloorRow = (i.tokens, c.tokens, w.tokens, o.tokens, i.rate, c.rate, w.rate, o.rate)
        if plain_decimal(*row) != quote.total:
            print(f"workload {bw.index}: plain arithmetic gives {plain_decimal(*row)}, the engine {quote.total}")
            wrong += 1
        rows.append(row)
    return rows, wrong


def build_contenders(catalog: Catalog, priced: Sequence[tuple[BenchWorkload, Quote]],
                     plain_args: Sequence[FloorRow], no_libs: bool
                     ) -> tuple[list[Contender], list[GenaiPrices | Litellm]]:
    n = len(priced)
    workloads = [bw.workload for bw, _ in priced]
    fields = ("model", "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "at")
    construct = [{f: getattr(w, f) for f in fields} for w in workloads]
    quote = catalog.quote

    def run_plain() -> None:
        for row in plain_args:
            plain_decimal(*row)

    def run_engine() -> None:
        for w in workloads:
            quote(w)

    def run_engine_built() -> None:
        for kw in construct:
            quote(Workload(**kw))

    contenders = [
        Contender("plain", "plain Decimal arithmetic (the floor)", run_plain, n),
        Contender("ours", "**inference-cost `Catalog.quote`**", run_engine, n),
        Contender("ours+build", "inference-cost, `Workload(...)` built in the loop", run_engine_built, n),
    ]
    libs: list[GenaiPrices | Litellm] = []
    for cls, label in ((GenaiPrices, "genai-prices `calc_price`"), (Litellm, "litellm `cost_per_token`")):
        if no_libs:
            contenders.append(Contender(cls.name, label, None, missing="left out (--no-libs)"))
            continue
        try:
            lib: GenaiPrices | Litellm = cls()
        except ImportError:
            contenders.append(Contender(cls.name, label, None, missing="not installed: pip install -e '.[bench]'"))
            continue
        libs.append(lib)
        if isinstance(lib, GenaiPrices):
            run = lib.runner([lib.args(bw) for bw, _ in priced])
        else:
            run = lib.runner([lib.kwargs(bw) for bw, _ in priced])
        contenders.append(Contender(lib.name, f"{label} {lib.version}", run, n))
    return contenders, libs


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    catalog = Catalog.default()
    generated = generate(args.workloads, args.seed)
    priced, skipped = price_ours(catalog, generated)
    if not priced:
        print("no generated workload can be priced by the shipped catalog", file=sys.stderr)
        return 1
    plain_args, wrong_floor = floor_rows(priced)
    contenders, libs = build_contenders(catalog, priced, plain_args, args.no_libs)
    agreement = check_agreement(catalog, priced, libs)  # before timing: it warms every contender up
    measure(contenders, args.rounds, args.sample_ms)
    speed = speed_table(contenders, contenders[1])

    models = sorted({bw.workload.model for bw, _ in priced})
    print("## Engine\n")
    print(environment(('inference-cost', 'msgspec', 'genai-prices', 'litellm')))
    print(f"- workloads: {len(priced)} priced of {len(generated)} generated (seed {args.seed}) on "
          f"{len(models)} models ({', '.join(models)}); {args.rounds} rounds of ~{args.sample_ms:g} ms "
          "per contender, order rotated each round, gc off while timing\n")
    print("### Time per quote\n")
    print(speed)
    print("\n### Do the prices agree?\n")
    if libs:
        print(table(["library", "workloads", "agree", "price data differ", "MISMATCH (same rates)",
                     "not priced by it", "note"], agreement.summary))
    else:
        print("(no other library in this run)")
    if agreement.differ:
        print("\nWhere they differ, by model and reason:\n")
        groups = sorted(agreement.differ.items(), key=lambda g: (g[0][0], g[0][1], min(g[1]), g[0][2]))
        rows = [[lib, model, ", ".join(sorted(instants)), reason] for (lib, model, reason), instants in groups]
        print(table(["library", "model", "instants (UTC)", "why"], rows))
    if skipped:
        print("\nWorkloads our catalog cannot price (left out of every contender's run):\n")
        print(table(["model", "reason", "workloads"], [[m, r, c] for (m, r), c in sorted(skipped.items())]))
    if agreement.mismatches:
        print("\nMISMATCHES: same rates, different totals (a wrong workload mapping or an engine bug):\n")
        print("\n".join(agreement.mismatches))
    if args.per_workload:
        print("\n### Every workload (tokens: prompt/cached/cache-write/output)\n")
        print(table(["#", "model", "at (UTC)", "tokens", "ours", *(lib.name for lib in libs)],
                    agreement.per_workload))
    if args.profile:
        workloads = [bw.workload for bw, _ in priced]
        print("\n### Profile of the engine (cProfile, sorted by own time)\n")
        print("```\n" + profile_engine(catalog, workloads, max(1, 20_000 // len(workloads))).strip() + "\n```")
    if wrong_floor:
        print(f"\n{wrong_floor} workloads: plain arithmetic does not reproduce the engine's total")
    return 1 if wrong_floor or agreement.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())

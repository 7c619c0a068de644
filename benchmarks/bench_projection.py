"""Projection benchmark: a year-long hour-by-hour projection against quoting each hour by hand.

    .venv/bin/python benchmarks/bench_projection.py             # ~20 s; prints a markdown table
    .venv/bin/python benchmarks/bench_projection.py --rounds 3  # shorter

The projection spreads 10 million requests on deepseek-chat over 2025 (8,760 hours) by an
hour-of-week shape in Asia/Shanghai, with months and days broken down: every local hour is a
segment, every daily off-peak window and price change a stretch. The reference, timed in the same
run, is the loop a caller would write without it: ``Catalog.quote`` once per UTC hour (8,760
quotes, the hour's requests as a whole number), which is not exact (a window starting at :30 is
priced for the whole hour) but is the cost floor of "price every hour". The ratio is what matters:
the machines are shared.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from report import environment, table

from pricing import Catalog, Usage, Workload
from pricing.projection import Shape, project

START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
USAGE = Usage(input_tokens=1200, cached_input_tokens=400, output_tokens=350)
#: Office hours weigh 5, evenings 2, nights 1; weekends half.
WEIGHTS = tuple(Decimal((5 if 9 <= h < 18 else 2 if 18 <= h < 23 else 1) * (2 if d < 5 else 1))
                for d in range(7) for h in range(24))


def projection() -> object:
    return project(Catalog.default(), "deepseek-chat", USAGE, START, END, requests=10_000_000,
                   shape=Shape(weights=WEIGHTS, timezone="Asia/Shanghai"), zone="Asia/Shanghai", days=True)


def hourly_quotes() -> object:
    catalog = Catalog.default()
    total = Decimal(0)
    at = START
    while at < END:
        total += catalog.quote(Workload(model="deepseek-chat", input_tokens=1200, cached_input_tokens=400,
                                        output_tokens=350, requests=1142, at=at)).total
        at += timedelta(hours=1)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    Catalog.default()
    times: dict[str, list[float]] = {"projection": [], "reference": []}
    for i in range(args.rounds):
        order = [("projection", projection), ("reference", hourly_quotes)]
        for name, fn in order if i % 2 == 0 else reversed(order):
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    p = projection()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(environment(["msgspec"]))
    print()
    print(table(["what", "median s", "best s", "vs reference"], [
        ["year, hour-by-hour shaped projection (exact, months and days)", f"{med['projection']:.3f}",
         f"{min(times['projection']):.3f}", f"{med['projection'] / med['reference']:.2f}x"],
        ["reference: Catalog.quote per UTC hour (8,760 quotes)", f"{med['reference']:.3f}",
         f"{min(times['reference']):.3f}", "1.00x"],
    ]))
    print()
    print(f"stretches: {len(p.parts)}, days: {len(p.days or ())}, total: {p.total} {p.currency}")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()

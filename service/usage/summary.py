"""The summary of a usage run: totals per currency (grouped on request), unpriced rows by reason,
and, where the input carried what was billed, the reconciliation against it."""

from __future__ import annotations

from typing import Annotated

import msgspec


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    """The priced rows of one currency (and one group, when grouped), summed exactly.

    Money is a plain decimal string (never a float, never an exponent), exact, not rounded.
    """

    keys: Annotated[dict[str, str | None], msgspec.Meta(
        description="The group's value of each --group-by column (empty when not grouped).")]
    currency: Annotated[str, msgspec.Meta(description="ISO 4217 code of every amount here.")]
    rows: Annotated[int, msgspec.Meta(description="Priced rows in the group.")]
    input_amount: Annotated[str, msgspec.Meta(description="Uncached input, exact.")]
    cached_input_amount: Annotated[str, msgspec.Meta(description="Cache reads, exact.")]
    cache_write_amount: Annotated[str, msgspec.Meta(description="Cache writes, exact.")]
    cache_write_1h_amount: Annotated[str, msgspec.Meta(description="Longer-lived cache writes, exact.")]
    output_amount: Annotated[str, msgspec.Meta(description="Output (reasoning included), exact.")]
    total: Annotated[str, msgspec.Meta(description="The exact sum of the rows' totals; not rounded.")]
    reported_cost: Annotated[str | None, msgspec.Meta(
        description="Sum of reported_cost over the rows that have one in this currency (those compared; "
                    "null without that column).")] = None
    variance: Annotated[str | None, msgspec.Meta(
        description="total - reported_cost over the rows that have a reported cost.")] = None
    reported_by_kind: Annotated[dict[str, str | None] | None, msgspec.Meta(
        description="Per line kind given in the input (input, cached_input, cache_write, cache_write_1h, "
                    "output): the sum of reported_<kind>_cost over the rows that have one in this currency "
                    "(null without those columns).")] = None
    variance_by_kind: Annotated[dict[str, str | None] | None, msgspec.Meta(
        description="Per line kind given in the input: <kind>_amount - reported_<kind>_cost, summed over "
                    "the rows that have a reported amount of that kind in the same currency.")] = None


class Outlier(msgspec.Struct, frozen=True, kw_only=True):
    """A priced row whose variance against its reported cost exceeds the tolerance."""

    row: Annotated[int, msgspec.Meta(description="1-based data row of the input.")]
    id: Annotated[str | None, msgspec.Meta(description="The row's id, when the input has one.")]
    total: Annotated[str, msgspec.Meta(description="The exact price of the row.")]
    reported_cost: Annotated[str, msgspec.Meta(description="What the input says was billed.")]
    variance: Annotated[str, msgspec.Meta(description="total - reported_cost.")]


class KindOutlier(msgspec.Struct, frozen=True, kw_only=True):
    """A priced row whose amount of one line kind is off its reported amount by more than the tolerance."""

    row: Annotated[int, msgspec.Meta(description="1-based data row of the input.")]
    id: Annotated[str | None, msgspec.Meta(description="The row's id, when the input has one.")]
    amount: Annotated[str, msgspec.Meta(description="The exact amount of this kind in the row.")]
    reported: Annotated[str, msgspec.Meta(description="What the input says was billed for this kind.")]
    variance: Annotated[str, msgspec.Meta(description="amount - reported.")]


class KindReconciliation(msgspec.Struct, frozen=True, kw_only=True):
    """One line kind of the priced rows against the input's reported_<kind>_cost."""

    kind: Annotated[str, msgspec.Meta(
        description="The line kind: input, cached_input, cache_write, cache_write_1h or output.")]
    column: Annotated[str, msgspec.Meta(description="The canonical column compared (reported_<kind>_cost).")]
    compared: Annotated[int, msgspec.Meta(
        description="Priced rows with a reported amount of this kind in the same currency.")]
    over_tolerance: Annotated[int, msgspec.Meta(description="Rows whose |variance| of this kind exceeds the tolerance.")]
    outliers: Annotated[list[KindOutlier], msgspec.Meta(description="The first 20 of them, in input order.")]


class Reconciliation(msgspec.Struct, frozen=True, kw_only=True):
    """The priced rows against what the input says was billed: reported_cost, and per line kind."""

    tolerance: Annotated[str, msgspec.Meta(description="The largest |variance| of a row not listed.")]
    compared: Annotated[int, msgspec.Meta(description="Priced rows with a reported cost in the same currency.")]
    over_tolerance: Annotated[int, msgspec.Meta(description="Rows whose |variance| exceeds the tolerance.")]
    outliers: Annotated[list[Outlier], msgspec.Meta(description="The first 20 of them, in input order.")]
    by_kind: Annotated[list[KindReconciliation], msgspec.Meta(
        description="Per line kind the input reports (reported_input_cost ...), in line order; empty "
                    "when it has only a total.")] = []


class RepriceComparison(msgspec.Struct, frozen=True, kw_only=True):
    """The rows priced both as they ran and on the other model, in one currency: what changes."""

    currency: Annotated[str, msgspec.Meta(description="ISO 4217 code of the three amounts.")]
    rows: Annotated[int, msgspec.Meta(description="Rows priced both ways in this currency.")]
    original: Annotated[str, msgspec.Meta(description="Their exact total as they ran (on their own models).")]
    repriced: Annotated[str, msgspec.Meta(description="Their exact total on the other model.")]
    difference: Annotated[str, msgspec.Meta(description="repriced - original (negative: the other model is cheaper).")]


class Repriced(msgspec.Struct, frozen=True, kw_only=True):
    """The same usage (counts, instants, batch flags, requests) priced on another model (--reprice-on)."""

    model: Annotated[str, msgspec.Meta(description="The model name as asked.")]
    provider: Annotated[str, msgspec.Meta(description="The provider of the model it resolves to.")]
    model_id: Annotated[str, msgspec.Meta(description="The canonical id it resolves to.")]
    priced: Annotated[int, msgspec.Meta(description="Rows it prices.")]
    unpriced: Annotated[int, msgspec.Meta(description="Rows it cannot price.")]
    errors: Annotated[dict[str, int], msgspec.Meta(
        description="Rows it cannot price, by reason (no_batch_price: the model has no batch rate; no_price: "
                    "not on sale at that instant; no_price_in_currency; invalid:<column>).")]
    totals: Annotated[list[Totals], msgspec.Meta(description="Totals per currency over the rows it prices.")]
    groups: Annotated[list[Totals], msgspec.Meta(description="Totals per --group-by group and currency.")]
    compared: Annotated[list[RepriceComparison], msgspec.Meta(
        description="Per currency, over the rows priced both as they ran and on this model: the two totals "
                    "and their difference.")]


class UsageSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What a usage run priced: counts, totals per currency, groups, unpriced rows by reason."""

    rows: Annotated[int, msgspec.Meta(description="Rows read.")]
    priced: Annotated[int, msgspec.Meta(description="Rows priced.")]
    unpriced: Annotated[int, msgspec.Meta(description="Rows that could not be priced (they keep their place with `error`).")]
    errors: Annotated[dict[str, int], msgspec.Meta(
        description="Unpriced rows by reason: unknown_model, ambiguous_model, no_price, no_batch_price, no_price_in_currency, invalid:<column>.")]
    totals: Annotated[list[Totals], msgspec.Meta(description="Totals per currency over every priced row.")]
    groups: Annotated[list[Totals], msgspec.Meta(description="Totals per --group-by group and currency.")]
    group_by: Annotated[list[str], msgspec.Meta(description="The grouping columns.")]
    reconciliation: Annotated[Reconciliation | None, msgspec.Meta(
        description="Present when the input has reported_cost or a reported_<kind>_cost.")] = None
    engine: Annotated[str, msgspec.Meta(description="The engine that priced the rows.")] = "duckdb"
    catalog_digest: Annotated[str, msgspec.Meta(description="The catalog the prices came from.")] = ""
    as_of: Annotated[str | None, msgspec.Meta(
        description="The instant every row was priced at, when --as-of was given.")] = None
    currency: Annotated[str | None, msgspec.Meta(
        description="The price list asked for (--currency); null: each model's first-listed currency. "
                    "Rows whose model has no list in it are unpriced with no_price_in_currency.")] = None
    repriced: Annotated[list[Repriced], msgspec.Meta(
        description="The same usage priced on each --reprice-on model, in the order asked (empty when none).")] = []


ENCODER = msgspec.json.Encoder(decimal_format="string")

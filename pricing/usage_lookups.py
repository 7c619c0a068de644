"""How the pricing query finds each row's prices: the price tables as sorted arrays, and searches.

``pricing.usage_tables`` lays the catalog out as relational tables; here each table becomes
arrays (a column each), sorted by its key within each group (a name's model, a model's periods, a
period's window spans by UTC day, a plan's tiers), in one row the query reads as the relation
``price_arrays``. Each row finds its entry by a search written out as arithmetic over array
elements (``period_steps``, ``rate_steps``): no join. A join would do the same, but DuckDB's hash
joins give rows back in no particular order, so the rows would need a sort to come back in
input order; with projections only, DuckDB keeps the input's order while it works in parallel,
and writes the priced rows as it goes. Every searched array ends in padding, NULL entries, so that no probe can
index past its end (Spark's ANSI mode raises there); the first padding entry stands for "not
found", whose attributes are all NULL.

What a row reads of an entry once it is found comes from an array of structs (``StructArray``),
one lookup for all its fields: each lookup costs as much as the arithmetic around it, and the
struct's fields are then free to read. The arrays a search reads element by element stay arrays.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import NamedTuple

from pricing.usage_tables import NARROW_PRECISION, PriceTables

_DAY_US = 86_400_000_000


class Array(NamedTuple):
    """One array of ``price_arrays``: its column, its elements' SQL type (TEXT: the price tables' text), its values."""

    column: str
    sql_type: str
    values: list[object]


class StructArray(NamedTuple):
    """Arrays of one group zipped into one array of structs of ``price_arrays``: entry ``i`` holds
    entry ``i`` of each array, as a field named without the group (``p_currency``: ``currency``).
    One lookup reads every field, where an array each costs a lookup each."""

    column: str
    fields: list[tuple[str, str]]  # (name, SQL type)
    entries: list[dict[str, object]]


class Lookups:
    """The price tables as sorted arrays, with where each group starts and how many entries it has:
    ``arrays``, those the searches read element by element, and ``structs``, the rest zipped by
    group (an array is in one or the other)."""

    def __init__(self, tables: PriceTables, enums: bool) -> None:
        self.enums = enums
        self.arrays: list[Array] = []
        names = sorted(tables.table("price_names").rows, key=lambda r: str(r[0]))
        periods_table = tables.table("price_periods")
        pc = {c: i for i, c in enumerate(periods_table.columns)}
        periods = sorted(periods_table.rows, key=lambda r: (str(r[pc["model_key"]]), _int(r[pc["starts_us"]])))
        spans_table = tables.table("price_spans")
        sc = {c: i for i, c in enumerate(spans_table.columns)}
        rates_table = tables.table("price_rates")
        rc = {c: i for i, c in enumerate(rates_table.columns)}
        rates = sorted(rates_table.rows, key=lambda r: (_int(r[rc["plan"]]), _int(r[rc["min_prompt"]])))
        models = sorted({str(r[pc["model_key"]]) for r in periods} | {str(r[1]) for r in names if r[1] is not None})
        model_at = {key: i + 1 for i, key in enumerate(models)}
        period_at = {r[pc["period_key"]]: i + 1 for i, r in enumerate(periods)}
        spans = sorted(spans_table.rows, key=lambda r: (period_at[r[sc["period_key"]]], _int(r[sc["from_us"]])))
        plans = 1 + max((_int(r[rc["plan"]]) for r in rates), default=-1)

        def groups(keys: list[int], count: int) -> tuple[list[object], list[object], int]:
            """(first index, entries) of groups 1..count in ``keys`` (sorted), and the largest group."""
            base: list[object] = [None] * count
            size = [0] * count
            for i, key in enumerate(keys):
                if base[key - 1] is None:
                    base[key - 1] = i + 1
                size[key - 1] += 1
            return base, list(size), max(size, default=0)

        m_base, m_size, most_periods = groups([model_at[str(r[pc["model_key"]])] for r in periods], len(models))
        # A period's window spans, by UTC day (the tables split them at midnight): each period with
        # spans has a run of day slots from its first day to its last, each slot the day's spans.
        day_first: list[object] = [None] * len(periods)
        day_count: list[object] = [0] * len(periods)
        day_base: list[object] = [None] * len(periods)
        slot_base: list[int | None] = []
        slot_count: list[int] = []
        by_period: dict[int, list[tuple[int, int]]] = {}
        for i, r in enumerate(spans):
            by_period.setdefault(period_at[r[sc["period_key"]]], []).append((_int(r[sc["day"]]), i + 1))
        for position, entries in sorted(by_period.items()):
            first, last = entries[0][0], entries[-1][0]
            day_first[position - 1], day_count[position - 1] = first, last - first + 1
            day_base[position - 1] = len(slot_base) + 1
            on_day: dict[int, list[int]] = {}
            for day, index in entries:
                on_day.setdefault(day, []).append(index)
            for day in range(first, last + 1):
                found = on_day.get(day, [])
                slot_base.append(found[0] if found else None)
                slot_count.append(len(found))
        most_spans = max(slot_count, default=0)
        l_base, l_size, most_tiers = groups([_int(r[rc["plan"]]) + 1 for r in rates], plans)
        # A model has a few periods: a binary search there makes fewer comparisons than a wide level.
        self.fan = {"n": _fan(len(names)), "p": _fan(most_periods, 2), "s": _fan(most_spans), "r": _fan(most_tiers)}
        self.size = {"n": len(names), "p": len(periods), "s": len(spans), "r": len(rates)}
        _check_disjoint(periods, pc["model_key"], pc["starts_us"], pc["next_us"], "price_periods")
        _check_disjoint(spans, sc["period_key"], sc["from_us"], sc["until_us"], "price_spans")
        _check_disjoint(rates, rc["plan"], rc["min_prompt"], rc["max_prompt"], "price_rates")

        def plan(value: object) -> object:
            return None if value is None else _int(value) + 1

        rate_type = f"DECIMAL({tables.rate_precision},{tables.scale})"
        self.names = [r[0] for r in names]
        if not enums:
            self._add("n", "name", "VARCHAR", self.names)
        self._add("n", "model", "INTEGER", [None if r[1] is None else model_at[str(r[1])] for r in names])
        self._add("n", "ambiguous", "BOOLEAN", [r[2] for r in names])
        self._add("m", "period_base", "INTEGER", m_base, pad=False)
        self._add("m", "period_count", "INTEGER", m_size, pad=False)
        for column in ("starts_us", "next_us", "until_us"):
            self._add("p", column, "BIGINT", [r[pc[column]] for r in periods])
        for column in ("provider", "model_id", "currency", "period_from"):
            self._add("p", column, "TEXT", [r[pc[column]] for r in periods])
        self._add("p", "base_plan", "INTEGER", [plan(r[pc["base_plan"]]) for r in periods])
        self._add("p", "batch_plan", "INTEGER", [plan(r[pc["batch_plan"]]) for r in periods])
        # The first day and the days' length in microseconds: a row's offset from the first is
        # checked before it is divided into a day.
        self._add("p", "day_first_us", "BIGINT", [None if d is None else _int(d) * _DAY_US for d in day_first])
        self._add("p", "days_us", "BIGINT", [_int(n) * _DAY_US for n in day_count])
        self._add("p", "day_base", "INTEGER", day_base)
        self.spans_a_day = most_spans
        for k in range(most_spans):
            self._add("d", f"span_{k + 1}", "INTEGER",
                      [None if base is None or k >= n else base + k
                       for base, n in zip(slot_base, slot_count, strict=True)], pad=False)
        self._add("s", "from_us", "BIGINT", [r[sc["from_us"]] for r in spans])
        self._add("s", "until_us", "BIGINT", [r[sc["until_us"]] for r in spans])
        self._add("s", "window", "TEXT", [r[sc["window"]] for r in spans])
        self._add("s", "plan", "INTEGER", [plan(r[sc["plan"]]) for r in spans])
        self._add("l", "rate_base", "INTEGER", l_base, pad=False)
        self._add("l", "rate_count", "INTEGER", l_size, pad=False)
        self._add("r", "min_prompt", "BIGINT", [r[rc["min_prompt"]] for r in rates])
        self._add("r", "max_prompt", "BIGINT", [r[rc["max_prompt"]] for r in rates])
        self._add("r", "tier", "TEXT", [r[rc["tier"]] for r in rates])
        self.narrow = tables.amount_precision <= NARROW_PRECISION
        for column in ("r_input", "r_cached_input", "r_cache_write", "r_cache_write_1h", "r_output"):
            if self.narrow:  # rates in units of the amounts' last place: exact integers
                self._add("r", f"ru_{column.removeprefix('r_')}", "BIGINT",
                          [_units(r[rc[column]], tables.scale) for r in rates])
            else:
                self._add("r", column, rate_type, [r[rc[column]] for r in rates])
        rate_fields = [n for n in self.columns if n.startswith(("r_ru_", "r_r_"))]
        zips = {
            "q_z_n": ("n_model", "n_ambiguous"),
            "q_z_m": ("m_period_base", "m_period_count"),
            "q_z_p": tuple(f"p_{c}" for c in ("currency", "until_us", "base_plan", "batch_plan", "day_first_us",
                                               "days_us", "day_base", "provider", "model_id", "period_from")),
            "q_z_s": ("s_window", "s_plan"),
            "q_z_l": ("l_rate_base", "l_rate_count"),
            "q_z_r": ("r_tier", *rate_fields),
        }
        by_short = {array.column.removeprefix("q_a_"): array for array in self.arrays}
        self.structs = [self._zip(column, [by_short[f] for f in fields]) for column, fields in zips.items()]
        zipped = {f for fields in zips.values() for f in fields}
        self.arrays = [a for a in self.arrays if a.column.removeprefix("q_a_") not in zipped]

    def _add(self, group: str, name: str, sql_type: str, values: list[object], *, pad: bool = True) -> None:
        if pad:
            # DuckDB finds names by hashing (no search, so no probes past the end to pad for).
            fan, levels = (1, 0) if group == "n" and self.enums else self.fan[group]
            values = [*values, *[None] * (fan ** levels + 1)]
        self.arrays.append(Array(f"q_a_{group}_{name}", sql_type, values))

    def _zip(self, column: str, arrays: list[Array]) -> StructArray:
        names = [a.column.removeprefix("q_a_").split("_", 1)[1] for a in arrays]
        entries = [dict(zip(names, values, strict=True)) for values in zip(*(a.values for a in arrays), strict=True)]
        return StructArray(column, [(n, self._type(a)) for n, a in zip(names, arrays, strict=True)], entries)

    def parameters(self) -> tuple[str, list[object]]:
        """A query of one row, every array and array of structs a column, each a parameter of texts,
        cast: (query, one value per ``?``). DuckDB binds a parameter in microseconds where it parses
        a literal list at several microseconds an element."""
        def struct(z: StructArray, of: str | None = None) -> str:
            return "STRUCT(" + ", ".join(f'"{name}" {of or sql_type}' for name, sql_type in z.fields) + ")"

        columns = [f"CAST(CAST(? AS VARCHAR[]) AS {self._type(a)}[]) AS {a.column}" for a in self.arrays]
        columns += [f"CAST(CAST(? AS {struct(z, 'VARCHAR')}[]) AS {struct(z)}[]) AS {z.column}" for z in self.structs]
        values: list[object] = [[_text(v) for v in a.values] for a in self.arrays]
        values += [[{name: _text(v) for name, v in entry.items()} for entry in z.entries] for z in self.structs]
        return "SELECT " + ", ".join(columns), values

    def _type(self, array: Array) -> str:
        if array.sql_type == "TEXT":
            return text_type(self.enums, sorted({str(v) for v in array.values if v is not None}))
        return array.sql_type

    @property
    def columns(self) -> dict[str, str]:
        """Each searched array's column by its short name (``p_starts_us``: ``q_a_p_starts_us``)."""
        return {array.column.removeprefix("q_a_"): array.column for array in self.arrays}

    def sentinel(self, group: str) -> int:
        """The index of the "not found" entry of ``group``'s arrays (the first padding entry)."""
        return self.size[group] + 1


#: The most comparisons a search level makes.
_MAX_FAN = 16


def _fan(count: int, widest: int = _MAX_FAN) -> tuple[int, int]:
    """(fan, levels) of a search over groups of at most ``count`` entries: ``fan ** levels > count``."""
    levels = 1
    while widest ** levels <= count:
        levels += 1
    fan = 2
    while fan ** levels <= count:
        fan += 1
    return fan, levels


def _check_disjoint(rows: list[tuple[object, ...]], group: int, low: int, high: int, table: str) -> None:
    """Binary search finds the last entry starting at or before a value: the ranges of a group must not overlap."""
    for a, b in itertools.pairwise(rows):
        if a[group] == b[group] and _int(b[low]) < _int(a[high]):
            raise ValueError(f"{table}: overlapping ranges in group {a[group]!r}: {a} and {b}")


def _at(array: str, index: str) -> str:
    """One element of an array (1-based). Written as DuckDB's ``array_extract``; Spark's ``element_at``."""
    return f"array_extract({array}, {index})"


def _search(lookups: Lookups, group: str, name: str, key: str, value: str, base: str, count: str,
            before: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Projections that find, for each row, the last entry of ``key`` at or before ``value`` among
    the ``count`` entries from ``base`` (made, with the ``before`` columns, in the first step): the
    last column, ``name``, is the entry's index, or the group's sentinel when there is none (or
    ``value`` is NULL).

    A search in ``levels`` projections of ``fan - 1`` comparisons each (``fan ** levels`` covers the
    largest group): each level counts the probes at or before ``value``, which the order makes a
    prefix, and moves that many strides on. Fewer, wider levels than a binary search: DuckDB plans
    a chain of projections in time that grows with the square of its length.
    """
    fan, levels = lookups.fan[group]
    out: list[list[tuple[str, str]]] = [[*before, (f"{name}_b", f"COALESCE({base}, 1)"),
                                         (f"{name}_c", f"COALESCE({count}, 0)")], [(f"{name}_0", f"{name}_b - 1")]]
    for level in range(levels):
        stride = fan ** (levels - 1 - level)
        lo = f"{name}_{level}"
        probes = " + ".join(
            f"CASE WHEN {lo} + {j * stride} < {name}_b + {name}_c AND "
            f"{_at(key, f'{lo} + {j * stride}')} <= {value} THEN 1 ELSE 0 END"
            for j in range(1, fan))
        out.append([(f"{name}_{level + 1}", f"{lo} + {stride} * ({probes})")])
    last = f"{name}_{levels}"
    out.append([(name, f"CASE WHEN {last} >= {name}_b AND {value} IS NOT NULL THEN {last} "
                       f"ELSE {lookups.sentinel(group)} END")])
    return out


def _field(struct: str, field: str) -> str:
    """A field of a struct column. Written as DuckDB's ``struct_extract``; Spark's ``struct.field``."""
    return f"struct_extract({struct}, '{field}')"


def period_steps(lookups: Lookups, first: str) -> Iterator[tuple[str, str, str]]:
    """(previous CTE, CTE, its new columns) for the steps from ``first`` that find each row's model
    (``q_model_key``, ``q_ambiguous``) and period (``q_pi``, the sentinel when none; ``q_pz``, its
    entry of the periods' structs; and what decides the row's error: ``q_period_key``,
    ``q_currency``, ``q_until_us``, ``q_batch_plan``), ending in the CTE ``p``."""
    a = lookups.columns
    sentinel = lookups.sentinel
    steps: list[list[tuple[str, str]]] = []
    name_text = ("q_name_text", "CASE WHEN q_invalid IS NULL THEN LOWER(TRIM(q_model)) END")
    if lookups.enums:
        # DuckDB finds a name in an ENUM of the sorted names by hashing: its code is its place.
        names = text_type(True, [str(v) for v in lookups.names])
        # The name as given first: lower-casing and trimming (new strings) only where that fails.
        exact = f"CASE WHEN q_invalid IS NULL THEN TRY_CAST(q_model AS {names}) END"
        steps.append([("q_ni", f"COALESCE(enum_code(COALESCE({exact}, TRY_CAST({name_text[1]} AS {names}))) + 1, "
                               f"{sentinel('n')})")])
    else:
        steps += _search(lookups, "n", "q_ni", a["n_name"], "q_name_text", "1", str(lookups.size["n"]), [name_text])
    # The search ends at the last name at or before the row's: it is the row's name only if equal.
    entry = _at("q_z_n", "q_ni")
    steps.append([("q_nz", entry if lookups.enums else f"CASE WHEN {_at(a['n_name'], 'q_ni')} = q_name_text "
                                                       f"THEN {entry} END")])
    model = _field("q_nz", "model")
    steps.append([("q_model_key", model), ("q_ambiguous", _field("q_nz", "ambiguous")),
                  ("q_mz", _at("q_z_m", model))])
    steps += _search(lookups, "p", "q_ps", a["p_starts_us"], "q_at_us", _field("q_mz", "period_base"),
                     _field("q_mz", "period_count"), [])
    steps.append([("q_pi", f"CASE WHEN q_at_us < {_at(a['p_next_us'], 'q_ps')} THEN q_ps ELSE {sentinel('p')} END")])
    steps.append([("q_pz", _at("q_z_p", "q_pi"))])
    steps.append([("q_period_key", f"CASE WHEN q_pi <= {lookups.size['p']} THEN q_pi END"),
                  *[(f"q_{c}", _field("q_pz", c)) for c in ("currency", "until_us", "batch_plan")]])
    return _chain(steps, first, "p", "l")


def rate_steps(lookups: Lookups, first: str) -> Iterator[tuple[str, str, str]]:
    """The steps from ``first`` (which has ``q_error``) that find each row's window span (``q_si``,
    its struct ``q_sz``) and tier (``q_ri``, ``q_rz``), and its rates, ending in the CTE ``t``. A
    row with an error reads its period at the sentinel (``q_shown``), so it finds neither window
    nor plan nor tier: its window, tier and rates are NULL, so its amounts are too."""
    a = lookups.columns
    sentinel = lookups.sentinel
    steps: list[list[tuple[str, str]]] = []
    # The period's entry again, at the sentinel for a row with an error: what the priced row
    # shows of its period (NULL then), and no window for the row.
    steps.append([("q_pok", f"CASE WHEN q_error IS NULL THEN q_pi ELSE {sentinel('p')} END")])
    steps.append([("q_shown", _at("q_z_p", "q_pok"))])
    # The row's day slot, when its period has windows and the row is not batch (batch rates win):
    # its offset from the period's first day (NULL for a period without windows), checked in
    # microseconds before it is divided into days.
    day_first = _field("q_shown", "day_first_us")
    offset = f"q_at_us - {day_first}"
    steps.append([("q_day_slot", f"CASE WHEN NOT q_is_batch AND q_at_us >= {day_first} "
                                 f"AND {offset} < {_field('q_shown', 'days_us')} "
                                 f"THEN {_field('q_shown', 'day_base')} + ({offset}) // {_DAY_US} END")])
    # A day holds a few spans: each is tried in turn, inside one CASE, so that only rows whose
    # period has windows on that day do the work.
    spans = [_at(a[f"d_span_{k + 1}"], "q_day_slot") for k in range(lookups.spans_a_day)]
    tries = "".join(f"WHEN q_at_us >= {_at(a['s_from_us'], sp)} AND q_at_us < {_at(a['s_until_us'], sp)} "
                    f"THEN {sp} " for sp in spans)
    steps.append([("q_si", f"CASE WHEN q_day_slot IS NULL THEN {sentinel('s')} {tries}ELSE {sentinel('s')} END")])
    steps.append([("q_sz", _at("q_z_s", "q_si"))])
    steps.append([("q_plan", f"CASE WHEN q_is_batch THEN {_field('q_shown', 'batch_plan')} "
                             f"ELSE COALESCE({_field('q_sz', 'plan')}, {_field('q_shown', 'base_plan')}) END")])
    steps.append([("q_lz", _at("q_z_l", "q_plan"))])
    steps += _search(lookups, "r", "q_rs", a["r_min_prompt"], "q_s_input_tokens", _field("q_lz", "rate_base"),
                     _field("q_lz", "rate_count"), [])
    steps.append([("q_ri", f"CASE WHEN q_s_input_tokens < {_at(a['r_max_prompt'], 'q_rs')} THEN q_rs "
                           f"ELSE {sentinel('r')} END")])
    steps.append([("q_rz", _at("q_z_r", "q_ri"))])
    kinds = ("input", "cached_input", "cache_write", "cache_write_1h", "output")
    rate = "ru" if lookups.narrow else "r"
    steps.append([(f"q_{rate}_{k}", _field("q_rz", f"{rate}_{k}")) for k in kinds])
    return _chain(steps, first, "t", "k")


def attributes(lookups: Lookups) -> list[tuple[str, str]]:
    """(column, expression) of what the priced row says of its price: its period's (none for a
    row with an error), its window span's and its tier's."""
    return [*[(c, _field("q_shown", c)) for c in ("provider", "model_id", "currency", "period_from")],
            ("window", _field("q_sz", "window")), ("tier", _field("q_rz", "tier"))]


def _chain(steps: list[list[tuple[str, str]]], first: str, last: str, prefix: str) -> Iterator[tuple[str, str, str]]:
    prev = first
    for i, columns in enumerate(steps):
        name = last if i == len(steps) - 1 else f"{prefix}{i}"
        yield prev, name, ", ".join(f"{expr} AS {column}" for column, expr in columns)
        prev = name


def text_type(enums: bool, values: Sequence[str]) -> str:
    """Text from the price tables: an ENUM of its values in DuckDB (a join or an array element is
    then a one- or two-byte code, and the Parquet writer writes codes under one dictionary instead
    of hashing every string; the values are sorted, so an ENUM orders as its text does), else VARCHAR."""
    if not enums or not values:
        return "VARCHAR"
    return "ENUM(" + ", ".join(sql_string(v) for v in values) + ")"


def text_literal(enums: bool, values: Sequence[str], literal: str) -> str:
    return f"CAST({literal} AS {text_type(enums, values)})"


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _int(value: object) -> int:
    assert isinstance(value, int), value  # the tables hold BIGINT columns as int
    return value


def _units(rate: object, scale: int) -> int | None:
    """A per-token rate in units of the amounts' last place (exact: rates hold ``scale`` places)."""
    if rate is None:
        return None
    assert isinstance(rate, Decimal), rate
    return int(rate.scaleb(scale))


def _text(value: object) -> str | None:
    """A value as the text DuckDB casts to its type (NULL stays NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return value
    return str(_int(value))

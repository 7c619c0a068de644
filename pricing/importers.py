"""Other projects' price data mapped onto our rates, and compared with our catalog.

``catalog diff`` compares our current rates with litellm's ``model_prices_and_context_window.json``
(prices per token) or genai-prices' ``data.json`` (prices per million tokens). This module only
works on data already read and decoded (JSON numbers as exact decimals, never a binary float): it
scales their numbers exactly to per-million rates (``parse_litellm``, ``parse_genai_prices``) and
compares them with ours (``diff``). Finding and reading the files, a download or the data the
installed ``litellm`` and ``genai-prices`` packages ship, is the shell's job
(``service/catalog_diff.py``); nothing fetches anything.

``reviewed-differences.toml`` (next to this module) records the differences a maintainer checked
against the provider's page and kept, with the reason and source (``parse_reviewed`` checks its
text), so that ``unreviewed`` leaves only what is new.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import msgspec

from pricing.catalog import Catalog
from pricing.errors import CatalogError, NoPriceError, UnknownModelError
from pricing.quote import LineKind
from pricing.workload import Workload

FIELDS: tuple[LineKind, ...] = ("input", "cached_input", "cache_write", "output")
_MILLION = Decimal(1_000_000)

# litellm's provider names where they differ from ours.
_LITELLM_PROVIDERS = {
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    "gemini": "google",
    "bedrock_converse": "bedrock",
    "text-completion-openai": "openai",
}
_LITELLM_FIELDS = {
    "input": "input_cost_per_token",
    "cached_input": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "output": "output_cost_per_token",
}
# genai-prices' provider ids where they differ from ours.
_GENAI_PROVIDERS = {"x-ai": "xai", "aws": "bedrock"}
_GENAI_FIELDS = {
    "input": "input_mtok",
    "cached_input": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "output": "output_mtok",
}


class ExternalPrice(msgspec.Struct, frozen=True, kw_only=True):
    """Another project's current price for one model, per million tokens."""

    provider: str
    name: str
    rates: dict[str, Decimal]


class Difference(msgspec.Struct, frozen=True, kw_only=True):
    """One rate where our catalog and the other file disagree (``None``: that side has no rate)."""

    model: str
    field: str
    ours: Decimal | None
    theirs: Decimal | None
    their_name: str


class DiffReport(msgspec.Struct, frozen=True, kw_only=True):
    differences: list[Difference]
    matched: int
    #: Their models for providers we sell that resolve to none of ours.
    missing: list[str]


def _decimal(value: object, where: str, file: str) -> Decimal:
    # parse_float=Decimal keeps the JSON text exact; ints arrive as int.
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise CatalogError(file, where, f"expected a number, got {value!r}")
    return Decimal(value)


def parse_litellm(data: Any, file: str) -> list[ExternalPrice]:
    """litellm's map of model name to per-token costs (decoded JSON, numbers as ``Decimal``), as
    per-million rates; chat/completion models only. ``file`` names the data in errors."""
    if not isinstance(data, Mapping):
        raise CatalogError(file, "$", "expected an object of model name to prices (litellm's format)")
    prices = []
    for name, spec in data.items():
        if name == "sample_spec" or not isinstance(spec, Mapping):
            continue
        if spec.get("mode", "chat") not in ("chat", "completion", "responses"):
            continue
        raw_provider = str(spec.get("litellm_provider", ""))
        rates = {
            field: _decimal(spec[key], f"$[{name!r}].{key}", file) * _MILLION
            for field, key in _LITELLM_FIELDS.items() if spec.get(key) is not None
        }
        if "input" in rates or "output" in rates:
            prices.append(ExternalPrice(provider=_LITELLM_PROVIDERS.get(raw_provider, raw_provider),
                                        name=str(name), rates=rates))
    return prices


def parse_genai_prices(data: Any, at: datetime, file: str) -> list[ExternalPrice]:
    """genai-prices' providers and models (its decoded ``data.json``, numbers as ``Decimal``), each
    with the prices in force at ``at``; ``file`` names the data in errors."""
    providers = data.get("providers", data) if isinstance(data, Mapping) else data
    if not isinstance(providers, list):
        raise CatalogError(file, "$", "expected a list of providers (genai-prices' data.json)")
    prices = []
    for i, provider in enumerate(providers):
        if not isinstance(provider, Mapping) or "id" not in provider:
            raise CatalogError(file, f"$[{i}]", "expected a provider object with an 'id'")
        for j, model in enumerate(provider.get("models", [])):
            where = f"$[{i}].models[{j}]"
            if not isinstance(model, Mapping) or "id" not in model:
                raise CatalogError(file, where, "expected a model object with an 'id'")
            current = _genai_current(model.get("prices", {}), at, where, file)
            rates = {}
            for field, key in _GENAI_FIELDS.items():
                value = current.get(key)
                if isinstance(value, Mapping):  # tiered: {"base": ..., "tiers": [...]}; compare the base
                    value = value.get("base")
                if value is not None:
                    rates[field] = _decimal(value, f"{where}.prices.{key}", file)
            names = [str(model["id"]), *_genai_equals(model.get("match", {}))]
            ours = _GENAI_PROVIDERS.get(str(provider["id"]), str(provider["id"]))
            for name in dict.fromkeys(names):
                prices.append(ExternalPrice(provider=ours, name=name, rates=rates))
    return prices


def _genai_current(prices: Any, at: datetime, where: str, file: str) -> Mapping[str, Any]:
    if isinstance(prices, Mapping):
        return prices
    if not isinstance(prices, list) or not prices:
        raise CatalogError(file, f"{where}.prices", "expected prices: an object or a list of conditional prices")
    chosen = prices[0].get("prices", {})
    for conditional in prices:  # later entries take precedence, as genai-prices does
        if _genai_active(conditional.get("constraint") or {}, at, where, file):
            chosen = conditional.get("prices", {})
    return chosen if isinstance(chosen, Mapping) else {}


def _genai_active(constraint: Mapping[str, Any], at: datetime, where: str, file: str) -> bool:
    """Whether a genai-prices constraint holds at ``at``: a start date, or a time of day in UTC."""
    try:
        if "start_date" in constraint:
            return date.fromisoformat(str(constraint["start_date"])) <= at.astimezone(UTC).date()
        if "start_time" in constraint or "end_time" in constraint:
            start, end = (_utc_time(str(constraint[k])) for k in ("start_time", "end_time"))
            now = at.astimezone(UTC).time()
            return start <= now < end if start < end else (now >= start or now < end)
    except (KeyError, ValueError) as exc:
        raise CatalogError(file, f"{where}.prices", f"unreadable constraint {dict(constraint)!r}: {exc}") from None
    return True


def _utc_time(text: str) -> time:
    parsed = time.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed
    # A time with an offset: the same moment of the day in UTC.
    moment = datetime.combine(date(2000, 1, 1), parsed).astimezone(UTC)
    return moment.time()


def _genai_equals(match: Any) -> Iterator[str]:
    if isinstance(match, Mapping):
        if "equals" in match:
            yield str(match["equals"])
        for key in ("or", "and"):
            for clause in match.get(key, []) or []:
                yield from _genai_equals(clause)


def diff(catalog: Catalog, theirs: list[ExternalPrice], at: datetime | None = None) -> DiffReport:
    """Where ``theirs`` disagrees with our prices in force at ``at`` (now), model by model."""
    at = at or datetime.now(UTC)
    providers = set(catalog.providers())
    known = set(catalog.names())
    differences: list[Difference] = []
    missing: list[str] = []
    matched = 0
    for price in theirs:
        if price.provider not in providers:
            continue
        model = None
        for name in (f"{price.provider}/{price.name}", f"{price.provider}/{price.name.split('/')[-1]}"):
            # Looked up in the set first: a miss through catalog.model computes spelling suggestions,
            # and thousands of their names are not ours.
            if name.strip().lower() not in known:
                continue
            try:
                found = catalog.model(name)
            except UnknownModelError:
                continue
            # An alias of one provider's model can read like another provider's name (Groq's
            # gpt-oss-20b answers to "openai/gpt-oss-20b"): compare only within the same provider.
            if found.provider == price.provider:
                model = found
                break
        if model is None:
            missing.append(f"{price.provider}/{price.name}")
            continue
        key = f"{model.provider}/{model.id}"
        # Price one token of each kind: the lines carry the rates in force at that instant, with
        # any active window applied and missing cache rates billed as input, as a user is billed.
        probe = Workload(model=key, input_tokens=3, cached_input_tokens=1, cache_write_tokens=1,
                         output_tokens=1, at=at)
        try:
            ours_by_kind = {line.kind: line.rate for line in catalog.quote(probe).lines}
        except NoPriceError:
            continue
        matched += 1
        for field in FIELDS:
            other = price.rates.get(field)
            if other is not None and ours_by_kind[field] != other:
                differences.append(Difference(model=key, field=field, ours=ours_by_kind[field], theirs=other,
                                              their_name=price.name))
    # Several of their names can map to one of our models: report each disagreement once.
    differences = list({(d.model, d.field, d.theirs): d for d in differences}.values())
    return DiffReport(differences=differences, matched=matched, missing=sorted(set(missing)))


# -- reviewed differences ------------------------------------------------------------------------

#: The file of the differences a maintainer checked and kept, shipped beside this module.
REVIEWED_NAME = "reviewed-differences.toml"


class Reviewed(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One difference from another project's data, checked against the provider's page and kept."""

    #: ``litellm`` or ``genai-prices``.
    against: str
    #: Our model, as ``provider/id``.
    model: str
    field: str
    #: Their value and ours when reviewed (decimal strings per million tokens; "" for none): the
    #: entry stops matching, and the difference shows again, when either changes.
    theirs: str
    ours: str
    reason: str
    source: str
    checked: date


class _ReviewedFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reviewed: tuple[Reviewed, ...] = ()


def _text(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def parse_reviewed(data: bytes, file: str) -> tuple[Reviewed, ...]:
    """The reviewed differences in ``data`` (a reviewed-differences file's bytes); ``CatalogError``
    names ``file``, and the entry and field on a bad one."""
    try:
        raw = tomllib.loads(data.decode("utf-8"))
        entries = msgspec.convert(raw, _ReviewedFile).reviewed
    except UnicodeDecodeError as exc:
        raise CatalogError(file, "", f"not UTF-8 text: {exc.reason}") from None
    except RecursionError:
        raise CatalogError(file, "", "not valid TOML: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(file, "", f"not valid TOML: {exc}") from None
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `")
        raise CatalogError(file, where.rstrip("`") or "$", message) from None
    for i, entry in enumerate(entries):
        if not entry.source.startswith(("https://", "http://")):
            raise CatalogError(file, f"$.reviewed[{i}].source", "give the URL the difference was checked against")
        if not entry.reason.strip():
            raise CatalogError(file, f"$.reviewed[{i}].reason", "say why our value stands")
    return entries


def unreviewed(against: str, differences: Iterable[Difference], reviewed: Iterable[Reviewed]) -> list[Difference]:
    """The ``differences`` (from ``against``'s data) that no reviewed entry records with both values."""
    known = {(r.against, r.model, r.field, r.theirs, r.ours) for r in reviewed}
    return [d for d in differences
            if (against, d.model, d.field, _text(d.theirs), _text(d.ours)) not in known]

"""Self-hosting data: GPU offers, serving profiles, and which catalog names serve an open-weight model.

The files live in ``pricing/data/selfhost/*.toml``: a sub-folder, so the price catalog's loader
(``pricing/data/*.toml``) never reads them as provider files. Reading them is this module's only I/O.
"""

from __future__ import annotations

import functools
import re
import tomllib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import msgspec

from pricing.errors import CatalogError
from pricing.schema import doc

_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
#: Bounds on a rate or price as written: keeps every quote's exact arithmetic small.
RATE_LIMIT = Decimal("1e12")
MAX_PLACES = 20
DEFAULT_FOLDER = Path(__file__).with_name("data") / "selfhost"



class GpuOffer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A price for renting GPUs: one product of one provider under one commitment, dated and sourced."""

    id: Annotated[str, doc("The offer's id, e.g. `aws-p5.48xlarge-us-east-1`.")]
    provider: Annotated[str, doc("Who rents it out: `aws`, `azure`, `google-cloud`, `coreweave`, `lambda`, `runpod`...")]
    product: Annotated[str, doc("The instance type or product name as the provider sells it.")]
    gpu: Annotated[str, doc("The GPU model, e.g. `H100 SXM 80GB`.")]
    gpus: Annotated[int, doc("GPUs in one instance of the product.")]
    gpu_hour: Annotated[Decimal, doc("Price of one GPU for one hour, in `currency` (instance price / `gpus`).")]
    commitment: Annotated[str, doc("`on-demand`, `spot`, `reserved-1y`, `reserved-3y`, or `assumed` (not a market offer).")]
    starts: Annotated[datetime, doc("From when the price is known to be in force.")] = msgspec.field(name="from")
    source: Annotated[str, doc("The URL the price was read from.")]
    checked: Annotated[date, doc("When the source was last read.")]
    region: Annotated[str, doc("The region the price applies to; empty when the provider has one price.")] = ""
    currency: Annotated[str, doc("ISO 4217 code of `gpu_hour`.")] = "USD"
    until: Annotated[datetime | None, doc("When the price stopped applying; none while current.")] = None
    note: Annotated[str, doc("What the price covers and how it was read.")] = ""


class ServingProfile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An open-weight model served on a hardware layout, with its measured throughput per node."""

    id: Annotated[str, doc("The profile's id, e.g. `deepseek-v3-r1-h800-deepseek`.")]
    model: Annotated[str, doc("The open-weight model it serves (an id of the served-by list).")]
    gpu: Annotated[str, doc("The GPU model.")]
    gpus_per_node: Annotated[int, doc("GPUs in the serving unit the rates are measured on.")]
    prefill_tokens_per_second: Annotated[Decimal, doc("Input tokens a node prefills per second.")]
    decode_tokens_per_second: Annotated[Decimal, doc("Output tokens a node decodes per second.")]
    prefill_includes_cache_hits: Annotated[bool, doc(
        "True: the prefill rate counts every input token, cache hits included (all input is divided by it). "
        "False: it counts computed tokens, and a cache hit is taken to cost no prefill time.")]
    source: Annotated[str, doc("The URL the figures were read from.")]
    checked: Annotated[date, doc("When the source was last read.")]
    name: Annotated[str, doc("A readable title.")] = ""
    engine: Annotated[str, doc("The serving engine (SGLang, vLLM, TensorRT-LLM, in-house...).")] = ""
    parallelism: Annotated[str, doc("The parallelism layout (TP, EP, DP, disaggregation).")] = ""
    precision: Annotated[str, doc("Weight and compute precision.")] = ""
    per_user_tokens_per_second: Annotated[str, doc("Output speed one user sees at these rates, as the source states it; empty when not stated.")] = ""
    min_nodes: Annotated[Decimal, doc("The smallest deployment of this layout, in nodes: self-hosting pays for at least this many.")] = Decimal(1)
    direct: Annotated[tuple[str, ...], doc("Fields the source gives directly.")] = ()
    derived: Annotated[tuple[str, ...], doc("Fields computed from the source's figures (the note says how).")] = ()
    published: Annotated[date | None, doc("When the source was published, if it says.")] = None
    note: Annotated[str, doc("Quotes from the source, and how derived figures were computed.")] = ""


class OpenModel(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An open-weight model and the catalog names (first party, then hosts) that serve it by API."""

    id: str
    served_by: tuple[str, ...]
    name: str = ""
    weights: str = ""
    note: str = ""


class _File(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    offers: tuple[GpuOffer, ...] = ()
    profiles: tuple[ServingProfile, ...] = ()
    models: tuple[OpenModel, ...] = ()


class SelfhostData:
    """The offers, profiles and served-by lists, indexed by id. Immutable after construction."""

    __slots__ = ("models", "offers", "profiles")

    def __init__(self, offers: dict[str, GpuOffer], profiles: dict[str, ServingProfile],
                 models: dict[str, OpenModel]) -> None:
        self.offers = offers
        self.profiles = profiles
        self.models = models

    def served_by(self, model: str) -> tuple[str, ...]:
        """The catalog names that serve open-weight ``model``; empty when none are listed."""
        found = self.models.get(model)
        return () if found is None else found.served_by


def _check_amount(fail: functools.partial[CatalogError], path: str, value: Decimal, *, zero: bool = False) -> None:
    if not value.is_finite() or value < 0 or (value == 0 and not zero) or value.is_signed():
        raise fail(path, f"must be a finite number {'>=' if zero else '>'} 0, got {value}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES:
        raise fail(path, f"{value} has more than {MAX_PLACES} digits after the point")
    if value >= RATE_LIMIT:
        raise fail(path, f"{value} is not below {RATE_LIMIT:f}")


def _check_source(fail: functools.partial[CatalogError], path: str, url: str) -> None:
    if not url.startswith(("https://", "http://")):
        raise fail(path, f"must be the URL the figure was read from, got {url!r}")


def _fail(name: str, path: str, reason: str) -> CatalogError:
    return CatalogError(name, path, reason)


def parse_selfhost_files(contents: list[tuple[str, bytes]]) -> SelfhostData:
    """Decode and validate ``(name, bytes)`` files; ``CatalogError`` names the file and the field."""
    offers: dict[str, GpuOffer] = {}
    profiles: dict[str, ServingProfile] = {}
    models: dict[str, OpenModel] = {}
    profile_where: dict[str, tuple[str, str]] = {}
    for name, data in contents:
        fail = functools.partial(_fail, name)
        try:
            raw = tomllib.loads(data.decode("utf-8"), parse_float=Decimal)
            parsed = msgspec.convert(raw, _File)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CatalogError(name, "", f"not valid TOML: {exc}") from None
        except msgspec.ValidationError as exc:
            message, _, where = str(exc).partition(" - at `")
            raise CatalogError(name, where.rstrip("`") or "$", message) from None
        for i, offer in enumerate(parsed.offers):
            at = f"$.offers[{i}]"
            if not _ID.match(offer.id) or offer.id in offers:
                raise fail(f"{at}.id", f"{offer.id!r} is not a new id (lower-case letters, digits, '.', '-', '_', ':')")
            if offer.gpus < 1:
                raise fail(f"{at}.gpus", f"must be at least 1, got {offer.gpus}")
            _check_amount(fail, f"{at}.gpu_hour", offer.gpu_hour)
            _check_source(fail, f"{at}.source", offer.source)
            if not _CURRENCY.match(offer.currency):
                raise fail(f"{at}.currency", f"{offer.currency!r} is not an ISO 4217 code such as 'USD'")
            for field, value in (("from", offer.starts), ("until", offer.until)):
                if value is not None and value.utcoffset() is None:
                    raise fail(f"{at}.{field}", f"{value} has no UTC offset")
            if offer.until is not None and offer.until <= offer.starts:
                raise fail(f"{at}.until", "must be after from")
            offers[offer.id] = offer
        for i, profile in enumerate(parsed.profiles):
            at = f"$.profiles[{i}]"
            if not _ID.match(profile.id) or profile.id in profiles:
                raise fail(f"{at}.id", f"{profile.id!r} is not a new id (lower-case letters, digits, '.', '-', '_', ':')")
            if profile.gpus_per_node < 1:
                raise fail(f"{at}.gpus_per_node", f"must be at least 1, got {profile.gpus_per_node}")
            _check_amount(fail, f"{at}.prefill_tokens_per_second", profile.prefill_tokens_per_second)
            _check_amount(fail, f"{at}.decode_tokens_per_second", profile.decode_tokens_per_second)
            _check_amount(fail, f"{at}.min_nodes", profile.min_nodes)
            _check_source(fail, f"{at}.source", profile.source)
            fields = set(ServingProfile.__struct_fields__)
            for j, field in enumerate((*profile.direct, *profile.derived)):
                if field not in fields:
                    raise fail(f"{at}.direct/derived[{j}]", f"{field!r} is not a profile field")
            profiles[profile.id] = profile
            profile_where[profile.id] = (name, f"{at}.model")
        for i, model in enumerate(parsed.models):
            at = f"$.models[{i}]"
            if not _ID.match(model.id) or model.id in models:
                raise fail(f"{at}.id", f"{model.id!r} is not a new id")
            models[model.id] = model
    for pid, profile in profiles.items():
        if profile.model not in models:
            file, path = profile_where[pid]
            raise CatalogError(file, path, f"{profile.model!r} is not an open-weight model of the served-by list "
                               f"({', '.join(sorted(models))})")
    return SelfhostData(offers, profiles, models)


def load_selfhost(folder: Path | str) -> SelfhostData:
    """The self-hosting data in ``folder`` (every ``*.toml`` in it)."""
    path = Path(folder)
    files = sorted(path.glob("*.toml"))
    if not files:
        raise CatalogError(str(path), "", "no *.toml self-hosting files in this folder")
    return parse_selfhost_files([(f.name, f.read_bytes()) for f in files])


@functools.cache
def default_selfhost() -> SelfhostData:
    """The self-hosting data shipped in ``pricing/data/selfhost``, loaded once."""
    return load_selfhost(DEFAULT_FOLDER)

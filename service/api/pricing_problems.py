"""The engine's errors as problem documents, each pointing at the request field to blame."""

from __future__ import annotations

from collections.abc import Sequence

from pricing import (
    AmbiguousModelError,
    Catalog,
    InvalidWorkloadError,
    NoBatchPriceError,
    NoCurrencyPriceError,
    NoPriceError,
    PricingError,
    UnknownModelError,
)
from service.api.problems import ProblemError, problem


def model_problem(exc: UnknownModelError, field: str | None, index: int | None = None) -> ProblemError:
    """404 for a name that resolves to no model, or to several (``matches`` lists them)."""
    if isinstance(exc, AmbiguousModelError):
        return problem(404, "ambiguous_model", str(exc), field=field, index=index, matches=exc.suggestions)
    detail = str(exc) if exc.suggestions else f"{exc}; GET /v1/models lists the catalog"
    return problem(404, "unknown_model", detail, field=field, index=index, matches=exc.suggestions)


def _no_price_field(exc: NoPriceError) -> str:
    if isinstance(exc, NoCurrencyPriceError):
        return "currency"
    return "batch" if isinstance(exc, NoBatchPriceError) else "at"


def pricing_problem(
    exc: PricingError,
    prefix: str,
    *,
    model_field: str | None = None,
    index: int | None = None,
) -> ProblemError:
    """The problem for ``exc``, raised while pricing the workload at JSON path ``prefix``."""
    if isinstance(exc, UnknownModelError):
        return model_problem(exc, model_field or f"{prefix}.model", index)
    if isinstance(exc, NoPriceError):
        field = f"{prefix}.{_no_price_field(exc)}"
        return problem(422, "no_price", f"{field}: {exc}", field=field, index=index)
    if isinstance(exc, InvalidWorkloadError):
        field = f"{prefix}.{exc.field}"
        return problem(422, "invalid_request", f"{field}: {exc.reason}", field=field, index=index)
    return problem(422, "invalid_request", str(exc), field=prefix, index=index)


def compare_problem(
    catalog: Catalog, exc: PricingError, models: Sequence[str] | None, baseline: str | None
) -> ProblemError:
    """The problem for a failed comparison, naming the model (``$.models[i]`` or ``$.baseline``) at fault."""
    name = exc.name if isinstance(exc, UnknownModelError) else None
    key = exc.model if isinstance(exc, NoPriceError) else None

    def blames(candidate: str) -> bool:
        if name is not None:
            return candidate == name
        try:
            model = catalog.model(candidate)
        except PricingError:
            return False
        return f"{model.provider}/{model.id}" == key

    field, index = "$.workload", None
    for i, candidate in enumerate(models or ()):
        if blames(candidate):
            field, index = f"$.models[{i}]", i
            break
    else:
        if baseline is not None and blames(baseline):
            field = "$.baseline"
    if isinstance(exc, UnknownModelError):
        return model_problem(exc, field, index)
    if isinstance(exc, NoPriceError):
        where = f"$.workload.{_no_price_field(exc)}"
        return problem(422, "no_price", f"{field}: {exc} (see {where})", field=field, index=index)
    return pricing_problem(exc, "$.workload")

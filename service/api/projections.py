"""``POST /v1/projections``, ``/v1/budgets``, ``/v1/plans`` and ``/v1/forecasts``: requests over time,
priced by the schedule."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler

from pricing import Catalog, NoPriceError, PricingError, UnknownModelError, Usage
from pricing.budget import Budget, budget
from pricing.forecast import MAX_HISTORY_WEEKS, Forecast, Observation, forecast
from pricing.fx import MissingRateError
from pricing.plan import Plan, plan
from pricing.projection import Projection, RankedProjection, Shape, project, project_many
from pricing.schema import doc
from service.api import openapi
from service.api.bodies import content_type, decode, require_json
from service.api.pricing_problems import model_problem
from service.api.problems import ProblemError, problem
from service.api.settings import MAX_COMPARE_MODELS

_Req = Request[Any, Any, Any]
_STRICT = {"frozen": True, "kw_only": True, "forbid_unknown_fields": True}



_FX = doc("The caller's own rates, e.g. {\"USD/VND\": \"25000\"} (1 USD is 25,000 VND): nothing is fetched.")
_CURRENCY = doc("ISO 4217 code to answer in; other than the catalog's, it needs its rate in `fx`.")
_USAGE = doc("The token profile of one request (`requests` and `at` are not used: see from/until).")


class ProjectionRequest(msgspec.Struct, **_STRICT):
    """Requests with one token profile spread over a span, on one model or several."""

    until: Annotated[datetime, doc("End of the span, exclusive (RFC 3339 with an offset).")]
    starts: Annotated[datetime, doc("Start of the span (RFC 3339 with an offset).")] = msgspec.field(name="from")
    usage: Annotated[Usage, _USAGE] = Usage()
    model: Annotated[str | None, doc("The model (or give `models`).")] = None
    models: Annotated[Annotated[list[str], msgspec.Meta(min_length=1, max_length=MAX_COMPARE_MODELS)] | None,
                      doc("Several models, ranked cheapest first.")] = None
    baseline: Annotated[str | None, doc("With `models`: savings in percent against this model.")] = None
    requests: Annotated[int | None, doc("Requests over the span (or give a rate).")] = None
    requests_per_day: Annotated[Decimal | None, doc("A rate: requests a day.")] = None
    requests_per_hour: Annotated[Decimal | None, doc("A rate: requests an hour.")] = None
    shape: Annotated[Shape | None, doc("Hour-of-week traffic shape (default: even).")] = None
    zone: Annotated[str, doc("IANA zone of the month (and day) breakdown.")] = "UTC"
    days: Annotated[bool, doc("Also break down by day.")] = False
    currency: Annotated[str | None, _CURRENCY] = None
    fx: Annotated[dict[str, Decimal] | None, _FX] = None


class ProjectionRanking(msgspec.Struct, frozen=True, kw_only=True):
    """Projections of several models, cheapest first (by currency, then total)."""

    projections: Annotated[tuple[RankedProjection, ...], doc("One projection a model, cheapest first.")]
    baseline: Annotated[str | None, doc("provider/id of the baseline, if any.")]


class BudgetRequest(msgspec.Struct, **_STRICT):
    """A budget per cycle and a rate of use from an instant."""

    model: Annotated[str, doc("The model.")]
    amount: Annotated[Decimal, doc("The budget for the cycle, in `currency` (default: the catalog's).")]
    starts: Annotated[datetime, doc("When the rate of use starts; its cycle is the one it falls in.")] = \
        msgspec.field(name="from")
    usage: Annotated[Usage, _USAGE] = Usage()
    requests_per_day: Annotated[Decimal | None, doc("The rate: requests a day.")] = None
    requests_per_hour: Annotated[Decimal | None, doc("The rate: requests an hour.")] = None
    shape: Annotated[Shape | None, doc("Hour-of-week traffic shape (default: even).")] = None
    cycle: Annotated[Literal["month", "rolling-30d"], doc("Calendar month in `zone`, or 30 days from `from`.")] = \
        "month"
    zone: Annotated[str, doc("IANA zone of the calendar month and days.")] = "UTC"
    spent: Annotated[Decimal, doc("Already spent in the cycle before `from`.")] = Decimal(0)
    currency: Annotated[str | None, _CURRENCY] = None
    fx: Annotated[dict[str, Decimal] | None, _FX] = None


class PlanRequest(msgspec.Struct, **_STRICT):
    """Deferrable work: requests that may run anywhere in a span, at most a rate an hour."""

    model: Annotated[str, doc("The model.")]
    requests: Annotated[int, doc("Requests to run.")]
    until: Annotated[datetime, doc("Deadline, exclusive.")]
    max_per_hour: Annotated[Decimal, doc("The most requests in any hour.")]
    starts: Annotated[datetime, doc("Earliest start.")] = msgspec.field(name="from")
    usage: Annotated[Usage, _USAGE] = Usage()
    currency: Annotated[str | None, _CURRENCY] = None
    fx: Annotated[dict[str, Decimal] | None, _FX] = None


#: Most hourly points in a forecast's history: ten years of hours.
MAX_HISTORY_POINTS = MAX_HISTORY_WEEKS * 168


class HistoryHour(msgspec.Struct, **_STRICT):
    """Requests seen in one UTC hour (points in the same hour add up)."""

    at: Annotated[datetime, doc("An instant in the hour (RFC 3339 with an offset).")]
    requests: Annotated[int, msgspec.Meta(ge=0, le=10**12), doc("Requests in that hour.")]


class ForecastRequest(msgspec.Struct, **_STRICT):
    """Hourly request history of one model and token profile, and the weeks to forecast after it."""

    model: Annotated[str, doc("The model to price the forecast on.")]
    history: Annotated[Annotated[list[HistoryHour], msgspec.Meta(min_length=1, max_length=MAX_HISTORY_POINTS)],
                       doc("Hourly requests; hours missing from it had none.")]
    weeks: Annotated[int, msgspec.Meta(ge=1, le=520), doc("Whole weeks to forecast after the history.")]
    usage: Annotated[Usage, _USAGE] = Usage()
    holdout: Annotated[int, msgspec.Meta(ge=0, le=520),
                       doc("Last weeks of history held out to score the fit (0: no backtest).")] = 2
    since: Annotated[datetime | None, doc("Fit from this instant (default: the history's first hour).")] = None
    until: Annotated[datetime | None, doc("Fit up to this instant, exclusive (default: after its last hour).")] = None


PROJECTION_DECODER = msgspec.json.Decoder(ProjectionRequest)
BUDGET_DECODER = msgspec.json.Decoder(BudgetRequest)
PLAN_DECODER = msgspec.json.Decoder(PlanRequest)
FORECAST_DECODER = msgspec.json.Decoder(ForecastRequest)
_ENCODER = msgspec.json.Encoder()

def _problem(exc: PricingError, model_field: str = "$.model", when_field: str = "$.from") -> ProblemError:
    if isinstance(exc, UnknownModelError):
        return model_problem(exc, model_field)
    if isinstance(exc, MissingRateError):
        return problem(422, "invalid_request", f"$.fx: {exc.reason}", field="$.fx")
    if isinstance(exc, NoPriceError):
        return problem(422, "no_price", f"{when_field}: {exc}", field=when_field)
    field = getattr(exc, "field", None)
    reason = getattr(exc, "reason", str(exc))
    path = "$" if field is None else f"$.{field}"
    return problem(422, "invalid_request", f"{path}: {reason}", field=path)


def _json(value: Any) -> Response[bytes]:
    return Response(_ENCODER.encode(value), media_type="application/json")


def routes(current: Callable[[], Catalog]) -> list[HTTPRouteHandler]:
    """The four routes, each pricing with the catalog ``current()`` returns at the time.

    Each prices in a worker thread (``asyncio.to_thread``): a long span priced by the hour with days
    broken out is seconds of exact arithmetic, which on the event loop would stall every other
    request of the worker (past its timeout the client gets 503 and the thread finishes unseen)."""

    @post("/v1/projections", status_code=200, tags=["quotes"], summary="Project requests over a span",
          dependencies=openapi.body_doc(ProjectionRequest, "What to project."),
          operation_class=openapi.ProblemOperation,
          responses=openapi.responses(Projection | ProjectionRanking,
                                      "The projection; with `models`, a ranking of them (`{projections, baseline}`)."))
    async def projections(request: _Req) -> Response[bytes]:
        """Requests spread over a span (evenly or by an hour-of-week shape) and priced stretch by
        stretch at the price, window and tier in force: exact, with parts, months and days."""
        require_json(content_type(request.scope))
        body = decode(await request.body(), PROJECTION_DECODER)
        if (body.model is None) == (body.models is None):
            raise problem(422, "invalid_request", "$.model: give exactly one of model and models", field="$.model")
        if body.baseline is not None and body.models is None:
            raise problem(422, "invalid_request", "$.baseline: a baseline ranks `models` against it; with one "
                          "`model` there is nothing to compare: give `models`", field="$.baseline")
        catalog = current()
        options: dict[str, Any] = {
            "requests": body.requests, "requests_per_day": body.requests_per_day,
            "requests_per_hour": body.requests_per_hour, "shape": body.shape, "zone": body.zone,
            "days": body.days, "currency": body.currency, "fx": body.fx}
        if body.model is not None:
            try:
                return _json(await asyncio.to_thread(project, catalog, body.model, body.usage, body.starts, body.until, **options))
            except PricingError as exc:
                raise _problem(exc) from None
        try:
            ranked = await asyncio.to_thread(project_many, catalog, body.models or [], body.usage, body.starts, body.until,
                                  baseline=body.baseline, **options)
        except UnknownModelError as exc:
            names = [*(body.models or []), body.baseline]
            i = names.index(exc.name) if exc.name in names else None
            field = "$.baseline" if i == len(names) - 1 else f"$.models[{i}]" if i is not None else "$.models"
            raise model_problem(exc, field, i if field.startswith("$.models[") else None) from None
        except PricingError as exc:
            raise _problem(exc) from None
        base = None
        if body.baseline is not None:
            m = catalog.model(body.baseline)
            base = f"{m.provider}/{m.id}"
        return _json(ProjectionRanking(projections=ranked, baseline=base))

    @post("/v1/budgets", status_code=200, tags=["quotes"], summary="When a budget runs out",
          dependencies=openapi.body_doc(BudgetRequest, "The budget and the rate of use."),
          operation_class=openapi.ProblemOperation,
          responses=openapi.responses(Budget, "The cycle's cost and the instant the budget is exhausted."))
    async def budgets(request: _Req) -> Response[bytes]:
        """A budget per calendar month (or rolling 30 days) against a rate of use: the cycle's cost,
        the instant (to the second) the amount is exhausted, and the requests it buys."""
        require_json(content_type(request.scope))
        body = decode(await request.body(), BUDGET_DECODER)
        try:
            result = await asyncio.to_thread(budget, current(), body.model, body.usage, body.amount, body.starts,
                            requests_per_day=body.requests_per_day, requests_per_hour=body.requests_per_hour,
                            shape=body.shape, cycle=body.cycle, zone=body.zone, spent=body.spent,
                            currency=body.currency, fx=body.fx)
        except PricingError as exc:
            raise _problem(exc) from None
        return _json(result)

    @post("/v1/plans", status_code=200, tags=["quotes"], summary="Schedule deferrable work cheapest",
          dependencies=openapi.body_doc(PlanRequest, "The work, its span and its rate limit."),
          operation_class=openapi.ProblemOperation,
          responses=openapi.responses(Plan, "The cheapest schedule and the cost of running it now."))
    async def plans(request: _Req) -> Response[bytes]:
        """N requests that may run anywhere between two instants at most R an hour: the cheapest
        schedule under the windows and price changes, against running them now."""
        require_json(content_type(request.scope))
        body = decode(await request.body(), PLAN_DECODER)
        try:
            result = await asyncio.to_thread(plan, current(), body.model, body.usage, body.requests, body.starts, body.until,
                          body.max_per_hour, currency=body.currency, fx=body.fx)
        except PricingError as exc:
            raise _problem(exc) from None
        return _json(result)

    @post("/v1/forecasts", status_code=200, tags=["quotes"], summary="Forecast requests and cost from history",
          dependencies=openapi.body_doc(ForecastRequest, "The hourly history and the weeks to forecast."),
          operation_class=openapi.ProblemOperation,
          responses=openapi.responses(Forecast, "The forecast with P10/P90 bands and its backtest error."))
    async def forecasts(request: _Req) -> Response[bytes]:
        """An hour-of-week shape and a weekly trend fitted exactly to the history; the next weeks
        spread by the shape and priced with the schedule, with bands and the error on held-out weeks."""
        require_json(content_type(request.scope))
        body = decode(await request.body(), FORECAST_DECODER)
        history = [Observation(at=h.at, requests=h.requests) for h in body.history]
        try:
            result = await asyncio.to_thread(forecast, current(), body.model, body.usage, history, body.weeks, holdout=body.holdout,
                              since=body.since, until=body.until)
        except PricingError as exc:
            raise _problem(exc, when_field="$.weeks") from None
        return _json(result)

    return [projections, budgets, plans, forecasts]

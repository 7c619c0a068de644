"""``POST /v1/usage``: price a usage file sent as the body (CSV, JSON Lines or Parquet, or an export).

The body is at most ``MAX_BODY_BYTES`` (the service's limit for every body). The answer is the
summary as JSON, or, when ``Accept`` asks for ``text/csv`` or ``application/x-ndjson``, the priced
rows themselves, streamed in input order. Pricing runs on the duckdb engine in a worker thread.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import Parameter
from litestar.response import Stream

from pricing import Catalog, Workload
from pricing.bounds import EARLIEST, LATEST
from service.api import openapi
from service.api.problems import problem
from service.usage.errors import UsageInputError
from service.usage.options import check_currency, check_reprice_on
from service.usage.summary import ENCODER, UsageSummary

#: The provider exports ``?format=`` accepts (service.usage.importers; not imported here, so the
#: service starts without DuckDB and Arrow).
IMPORTERS = ("openai", "anthropic", "otel", "litellm")

_Req = Request[Any, Any, Any]
#: Content types of the canonical formats, and what each is read as.
BODY_TYPES = {
    "text/csv": "csv",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}
#: Priced-row answers by Accept.
ROW_TYPES = {"text/csv": ".csv", "application/x-ndjson": ".jsonl"}
_CHUNK = 64 * 1024
#: Rows of a Parquet body the service prices. Compressed, 50,000,000 rows fit in 32 KB (minutes of
#: pricing and gigabytes of priced rows); a CSV or JSON Lines body within the size limit holds fewer.
MAX_PARQUET_ROWS = 500_000


def _media(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _row_type(accept: str | None) -> str | None:
    for part in (accept or "").split(","):
        media = _media(part)
        if media in ROW_TYPES:
            return media
        if media in ("application/json", "*/*", "application/*"):
            return None
    return None


def _shown(text: str) -> str:
    """A client's header or parameter as an error repeats it: at most 100 characters of it."""
    return text if len(text) <= 100 else text[:100] + "..."


def _refuse_many_rows(source: Path, folder: Path) -> None:
    """A 413 if the Parquet body holds over ``MAX_PARQUET_ROWS`` rows (its footer says how many)."""
    import pyarrow as pa  # Arrow: loaded on first use, as the usage run is
    import pyarrow.parquet as pq

    try:
        rows = pq.read_metadata(source).num_rows
    except (OSError, ValueError, pa.ArrowException):  # not Parquet: the run says what is wrong
        return
    if rows > MAX_PARQUET_ROWS:
        shutil.rmtree(folder, ignore_errors=True)
        raise problem(413, "body_too_large", f"the Parquet body holds {rows:,} rows; the service prices at most "
                      f"{MAX_PARQUET_ROWS:,} a request: split the file (or price it with `inference-cost usage price`)")


def _forget(run: asyncio.Future[Any], folder: Path) -> None:
    if not run.cancelled():
        run.exception()  # read, so that asyncio does not log it as lost
    shutil.rmtree(folder, ignore_errors=True)


def _format(content_type: str | None, export: str | None) -> str:
    media = _media(content_type)
    if export is not None:
        if export not in IMPORTERS:
            raise problem(400, "invalid_request", f"format must be one of {', '.join(IMPORTERS)}, "
                          f"got {_shown(export)!r}", field="format")
        if media not in ("application/json", "application/x-ndjson", "text/csv"):
            raise problem(400, "unsupported_media_type", f"an {export} export is sent as application/json "
                          "(or text/csv for litellm)")
        return export
    found = BODY_TYPES.get(media)
    if found is None:
        raise problem(400, "unsupported_media_type",
                      f"send the usage as one of {', '.join(BODY_TYPES)} "
                      f"(got {_shown(content_type) if content_type else 'no Content-Type'}); "
                      "a provider export: application/json with ?format=openai|anthropic|otel|litellm")
    return found


def _suffix(fmt: str) -> str:
    return {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}.get(fmt, ".json")


async def _stream_file(path: Path, folder: Path) -> AsyncIterator[bytes]:
    try:
        with path.open("rb") as handle:
            while chunk := await asyncio.to_thread(handle.read, _CHUNK):
                yield chunk
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def routes(current: Callable[[], Catalog]) -> list[HTTPRouteHandler]:
    """The usage route over the catalog ``current()`` returns at each request."""

    @post("/v1/usage", status_code=200, tags=["quotes"], summary="Price a usage log",
          # The rows are the Workload's fields (the canonical usage row); the file itself is CSV,
          # JSON Lines or Parquet by Content-Type, which OpenAPI's one JSON schema cannot say.
          dependencies=openapi.body_doc(Workload,
                                        "A usage file whose rows are workloads (`model`, `at`, the counts, "
                                        "`requests`, `batch`; other columns pass through): CSV (`text/csv`), "
                                        "JSON Lines (`application/x-ndjson`) or Parquet "
                                        "(`application/vnd.apache.parquet`); or a provider export as "
                                        "`application/json` with `?format=openai|anthropic|otel|litellm`."),
          operation_class=openapi.ProblemOperation,
          responses=openapi.responses(UsageSummary, "The summary (rows, priced, unpriced, errors by reason, "
                                      "totals per currency, groups, reconciliation); or, per Accept, the "
                                      "priced rows.", not_found=None))
    async def usage(
        request: _Req,
        group_by: Annotated[str | None, Parameter(
            description="Comma-separated columns to total by (input columns, provider, model_id, "
                        "hour/day/month/year).")] = None,
        as_of: Annotated[datetime | None, Parameter(
            description="Price every row at this instant (RFC 3339, with offset) instead of its own.")] = None,
        format: Annotated[str | None, Parameter(
            description="A provider export in the body: openai, anthropic, otel or litellm.")] = None,
        currency: Annotated[str | None, Parameter(
            description="Price in this price list (ISO 4217, e.g. CNY for DeepSeek's yuan prices) instead "
                        "of each model's first-listed currency; rows whose model has no list in it are "
                        "unpriced with `no_price_in_currency`.")] = None,
        reprice_on: Annotated[str | None, Parameter(
            description="Comma-separated models to price the same usage on as well (same counts, instants, "
                        "batch flags): the summary's `repriced`, per currency and group, with the rows each "
                        "cannot price counted by reason. Each model is one more pass over the body.")] = None,
    ) -> Response[bytes] | Stream:
        """Every row of the body priced at the price in force at its instant, exactly.

        Body: CSV (`text/csv`), JSON Lines (`application/x-ndjson`) or Parquet
        (`application/vnd.apache.parquet`) in the canonical usage shape, or a provider export
        (`application/json` and `?format=`), up to the service's body limit. Unpriceable rows keep
        their place with `error`; bad input answers 422 naming the row and column."""
        body = await request.body()  # first: a body over the limit is a 413 whatever it is
        fmt = _format(request.headers.get("content-type"), format)
        if as_of is not None and (as_of.tzinfo is None or as_of.utcoffset() is None):
            raise problem(400, "invalid_request", "as_of must have an offset, e.g. 2025-01-31T12:00:00Z",
                          field="as_of")
        if as_of is not None and not EARLIEST <= as_of <= LATEST:
            raise problem(400, "invalid_request", f"as_of {as_of.isoformat()} is too far from today to price: "
                          "use an instant between the years 0002 and 9998", field="as_of")
        if not body:
            raise problem(400, "empty_body", "the request body is empty; send the usage file")
        catalog = current()
        models = tuple(m.strip() for m in reprice_on.split(",")) if reprice_on is not None else ()
        try:
            check_currency(currency, catalog)
        except UsageInputError as exc:
            raise problem(400, "invalid_request", f"currency: {exc.reason}", field="currency") from None
        try:
            check_reprice_on(models, catalog)
        except UsageInputError as exc:
            raise problem(400, "invalid_request", f"reprice_on: {exc.reason}", field="reprice_on") from None
        rows_type = _row_type(request.headers.get("accept"))
        folder = Path(tempfile.mkdtemp(prefix="usage-http-"))
        source = folder / f"body{_suffix(fmt)}"
        source.write_bytes(body)
        if fmt == "parquet":
            _refuse_many_rows(source, folder)
        out = None if rows_type is None else folder / f"priced{ROW_TYPES[rows_type]}"
        from service.usage.run import UsageJob, price_usage  # DuckDB and Arrow: loaded on first use

        job = UsageJob(source=source, format=fmt, out=out, as_of=as_of, label="body", currency=currency,
                       reprice_on=models,
                       group_by=tuple(c.strip() for c in (group_by or "").split(",") if c.strip()))
        run = asyncio.ensure_future(asyncio.to_thread(price_usage, job, catalog))
        try:
            summary = await asyncio.shield(run)
        except asyncio.CancelledError:
            # The request timed out (or the server is stopping). The thread cannot be cancelled: it
            # prices on and writes the priced rows into the folder (making it again if it is gone),
            # so the folder goes when the thread is done.
            run.add_done_callback(lambda _: _forget(run, folder))
            raise
        except UsageInputError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            field = exc.column if exc.column is not None else None
            # DuckDB names the file it read: the service's temporary copy of the body, no business of the client's.
            detail = str(exc).replace(str(source), "the body")
            raise problem(422, "invalid_request", detail, field=field, index=exc.row) from None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        if out is None:
            shutil.rmtree(folder, ignore_errors=True)
            return Response(ENCODER.encode(summary), media_type="application/json")
        headers = {"X-Usage-Rows": str(summary.rows), "X-Usage-Unpriced": str(summary.unpriced)}
        return Stream(_stream_file(out, folder), media_type=rows_type, headers=headers)

    return [usage]


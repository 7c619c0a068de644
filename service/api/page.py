"""The calculator page at ``/``: one HTML document, its stylesheet and script, all served from the package.

The page is written here (no third-party JavaScript or CSS): the HTML is rendered per request with the
catalog's model names embedded (so the model picker needs no second request), and ``page.js`` calls
the API from the browser and draws its charts as SVG. Nothing is fetched from outside the service.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from importlib.resources import files
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from pricing import Catalog
from service.api.problems import problem

_STATIC = files("service.api") / "static"
#: The page's own assets, by the name they are served under (``/static/<name>``).
ASSETS: dict[str, tuple[bytes, str]] = {
    "page.css": ((_STATIC / "page.css").read_bytes(), "text/css"),
    "page.js": ((_STATIC / "page.js").read_bytes(), "text/javascript"),
}
_TEMPLATE = (_STATIC / "page.html").read_text(encoding="utf-8")
# The page's code may only talk to its own origin: a stray URL to a CDN fails in the browser, and the
# browser tests see it (tests/test_page_browser.py).
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
_HEADERS = {"content-security-policy": _CSP, "x-content-type-options": "nosniff"}


class ModelEntry(msgspec.Struct, frozen=True, array_like=True):
    """One model as the page's picker needs it: ``[provider, id, display name, aliases]``."""

    provider: str
    id: str
    name: str
    aliases: tuple[str, ...]


def render(catalog: Catalog, api_paths: Iterable[str] = ()) -> bytes:
    """The page's HTML for ``catalog``: its provider filter and the picker's model list filled in, and
    the API's paths, from which the script shows the panels whose endpoint this service has."""
    entries = [ModelEntry(m.provider, m.id, m.name, m.aliases) for m in catalog.models()]
    # "</" cannot occur in the JSON inside the <script> element: msgspec escapes no "/", so do it here.
    data = msgspec.json.encode(entries).decode().replace("</", "<\\/")
    providers = "".join(f'<option value="{html.escape(p)}">{html.escape(p)}</option>'
                        for p in catalog.providers())
    return (_TEMPLATE.replace("{{models_json}}", data)
            .replace("{{provider_options}}", providers)
            .replace("{{model_count}}", str(len(entries)))
            .replace("{{catalog_digest}}", html.escape(catalog.digest))
            .replace("{{api_paths}}", html.escape(" ".join(sorted(set(api_paths)))))).encode()


def routes(current: Callable[[], Catalog]) -> list[HTTPRouteHandler]:
    """``GET /`` (the page) and ``GET /static/{name}`` (its stylesheet and script)."""
    rendered: dict[str, bytes] = {}

    @get("/", include_in_schema=False)
    async def page(request: Request[Any, Any, Any]) -> Response[bytes]:
        catalog = current()
        # Rendered once per catalog: a reload swaps the catalog, and with it the digest.
        body = rendered.get(catalog.digest)
        if body is None:
            rendered.clear()
            paths = [route.path for route in request.app.routes if route.path.startswith("/v1/")]
            body = rendered[catalog.digest] = render(catalog, paths)
        return Response(body, media_type="text/html",
                        headers={**_HEADERS, "cache-control": "no-cache"})

    @get("/static/{name:str}", include_in_schema=False)
    async def asset(name: FromPath[str]) -> Response[bytes]:
        found = ASSETS.get(name)
        if found is None:
            raise problem(404, "not_found", f"no asset {name!r}; the page's assets are: {', '.join(ASSETS)}")
        body, media_type = found
        return Response(body, media_type=media_type, headers={**_HEADERS, "cache-control": "no-cache"})

    return [page, asset]

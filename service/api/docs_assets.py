"""Swagger UI and ReDoc for ``/schema``, served by the service itself: no CDN, no web font.

Their dist files come from the ``drf-spectacular-sidecar`` package (a dependency in pyproject.toml,
updated from the upstream npm releases), which exists to ship exactly these files. Its ``__init__``
imports Django, which the service never needs: the package's folder is found without importing it.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import OpenAPIRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin
from litestar.params import FromPath

from pricing import Catalog
from service.api.problems import problem

#: Where the assets are served (inside ``/schema``, next to the pages that load them).
PREFIX = "/schema/assets"
#: Served name -> (path inside the sidecar package's static folder, media type).
ASSETS: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger-ui-dist/swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui-standalone-preset.js": ("swagger-ui-dist/swagger-ui-standalone-preset.js",
                                        "text/javascript"),
    "swagger-ui.css": ("swagger-ui-dist/swagger-ui.css", "text/css"),
    "redoc.standalone.js": ("redoc/bundles/redoc.standalone.js", "text/javascript"),
}
# Litestar puts this HTML into each page's <head>: no favicon request at all (its default links one
# on a CDN), and a policy that keeps the pages on this origin (the browser refuses anything else).
_HEAD = ("<link rel='icon' href='data:,'>"
         "<meta http-equiv='Content-Security-Policy' content=\"default-src 'self'; "
         "script-src 'self' 'unsafe-inline' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
         "worker-src 'self' blob:; connect-src 'self'; object-src 'none'\">")


def _static_folder() -> Path:
    spec = importlib.util.find_spec("drf_spectacular_sidecar")  # finds, does not import (no Django)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("drf-spectacular-sidecar is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "drf_spectacular_sidecar"


#: The one resource ReDoc's bundle loads from outside: Redocly's logo under "API docs by Redocly" in the
#: sidebar. Served with an empty image in its place, which ReDoc's own error handler then hides.
_REDOC_LOGO = (b"https://cdn.redoc.ly/redoc/logo-mini.svg", b"data:,")


@functools.cache
def asset(name: str) -> bytes:
    """The bytes of a served asset, read on first use (2.8 MB in all: not held until asked for)."""
    data = (_static_folder() / ASSETS[name][0]).read_bytes()
    return data.replace(*_REDOC_LOGO) if name == "redoc.standalone.js" else data


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at ``/schema`` and ``/schema/swagger``, ReDoc at ``/schema/redoc``, on local assets."""
    return [
        SwaggerRenderPlugin(path=["/", "/swagger"], js_url=f"{PREFIX}/swagger-ui-bundle.js",
                            css_url=f"{PREFIX}/swagger-ui.css",
                            standalone_preset_js_url=f"{PREFIX}/swagger-ui-standalone-preset.js",
                            favicon=_HEAD),
        RedocRenderPlugin(path="/redoc", js_url=f"{PREFIX}/redoc.standalone.js", google_fonts=False,
                          favicon=_HEAD),
    ]


def routes(current: Callable[[], Catalog]) -> list[HTTPRouteHandler]:
    """``GET /schema/assets/{name}``: the documentation pages' scripts and stylesheet."""

    @get(f"{PREFIX}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
    def docs_asset(name: FromPath[str]) -> Response[bytes]:
        found = ASSETS.get(name)
        if found is None:
            raise problem(404, "not_found", f"no asset {name!r}; the documentation's assets are: {', '.join(ASSETS)}")
        return Response(asset(name), media_type=found[1], headers={"cache-control": "public, max-age=86400"})

    return [docs_asset]

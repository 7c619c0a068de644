"""The page at ``/`` and the documentation's assets, through Litestar's test client: what is served, with
which types and policy, and that nothing in it points outside the service (the browser side is in
tests/test_page_browser.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from pricing import Catalog
from service.api import docs_assets, page
from service.cli import counts
from tests.support import service_client

STATIC = "service/api/static"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.default()


@pytest.fixture(scope="module")
def client(catalog: Catalog) -> Iterator[TestClient[Any]]:
    with service_client(catalog) as c:
        yield c


def test_the_page_embeds_every_model_and_provider(client: TestClient[Any], catalog: Catalog) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    embedded = re.search(r'<script type="application/json" id="catalog"[^>]*>(.*?)</script>', r.text, re.S)
    assert embedded is not None
    assert json.loads(embedded[1]) == [[m.provider, m.id, m.name, list(m.aliases)] for m in catalog.models()]
    for provider in catalog.providers():
        assert f'<option value="{provider}">{provider}</option>' in r.text
    assert "{{" not in r.text
    # The API's paths, from which the script shows the panels whose endpoint exists.
    paths = re.search(r'data-api="([^"]*)"', r.text)
    assert paths is not None and {"/v1/compare", "/v1/projections"} <= set(paths[1].split())


def test_the_assets_are_served_with_their_types(client: TestClient[Any]) -> None:
    for name, (body, media_type) in page.ASSETS.items():
        r = client.get(f"/static/{name}")
        assert (r.status_code, r.content) == (200, body)
        assert r.headers["content-type"].split(";")[0] == media_type
    missing = client.get("/static/nope.js")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_the_page_loads_nothing_from_outside(client: TestClient[Any]) -> None:
    html = client.get("/").text
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(s.startswith(("/", "data:")) for s in sources), sources
    for name, (body, _) in page.ASSETS.items():
        # The only absolute URL in the script is SVG's namespace, which is a name, never fetched.
        assert set(re.findall(rb"https?://[^\s\"'`)]+", body)) <= {b"http://www.w3.org/2000/svg"}, name


def test_a_model_name_cannot_close_the_embedded_script(catalog: Catalog) -> None:
    rendered = page.render(catalog).decode()
    data = rendered.split('id="catalog"', 1)[1]
    assert "</script>" not in data.split(">", 1)[1].rsplit("</script>", 1)[0]


def test_the_scripts_count_grammar_is_the_clis() -> None:
    """page.js mirrors service/cli/counts.py's pattern (the browser tests compare their answers)."""
    script = page.ASSETS["page.js"][0].decode()
    found = re.search(r"^const COUNT = /(.*)/;$", script, re.M)
    assert found is not None
    assert found[1] == re.sub(r"\?P<\w+>", "", counts._COUNT.pattern)


def test_swagger_ui_and_redoc_are_served_from_the_sidecar_package(client: TestClient[Any]) -> None:
    for path in ("/schema", "/schema/swagger", "/schema/redoc"):
        html = client.get(path).text
        sources = re.findall(r"""(?:src|href)=["']([^"']*)["']""", html)
        assert sources and all(s.startswith((docs_assets.PREFIX, "data:")) for s in sources), (path, sources)
        assert "fonts.googleapis.com" not in html
    for name, (_, media_type) in docs_assets.ASSETS.items():
        r = client.get(f"{docs_assets.PREFIX}/{name}")
        assert r.status_code == 200 and len(r.content) > 100_000, name
        assert r.headers["content-type"].split(";")[0] == media_type
    assert b"cdn.redoc.ly" not in docs_assets.asset("redoc.standalone.js")
    assert client.get(f"{docs_assets.PREFIX}/nope.js").json()["code"] == "not_found"

"""The calculator page at ``/`` and the API docs at ``/schema``, in headless Chromium against the service
running as a real process: permalinks show the API's exact figures, the form works from the keyboard,
every kind of bad input shows the API's own ``detail`` beside its field, and no request leaves the
service. Screenshots go to tests/screenshots/ (git-ignored).

Chromium is Debian's (``make install`` installs it); Playwright only drives it, its own browser
download is never used.
"""

from __future__ import annotations

import json
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    sync_playwright,
)

from service.cli.counts import parse_count
from tests.test_service_serve import free_port, serving, wait_healthy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(__file__).parent / "screenshots"
SEED = "/?output_tokens=1000000&at=2025-01-31T12:00:00Z&models=deepseek-reasoner,o1&baseline=o1"
TIMES = "\u00d7"  # the multiplication sign the page writes between tokens and rate
COUNT_FIELDS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "requests")


@pytest.fixture(scope="session")
def origin() -> Iterator[str]:
    port = free_port()
    with serving("--port", str(port)) as proc:
        wait_healthy(proc, port)
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[BrowserContext]:
    """One Chromium for the whole session, with its own fresh profile."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        yield context
        context.close()


_REFUSED = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d ")


class Tab:
    """A page of the session's browser that records every request it makes and every script error."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page, self.origin = page, origin
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # The browser logs every 4xx answer; a refused field is what the bad-input tests ask for.
        if message.type == "error" and not _REFUSED.match(message.text):
            self.errors.append(message.text)

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def open(self, path: str) -> Page:
        self.page.goto(self.origin + path)
        return self.page

    def foreign(self) -> list[str]:
        """Requests to anywhere but the service (``data:`` URLs never leave the browser)."""
        return [u for u in self.requests
                if not u.startswith((self.origin + "/", "data:", f"blob:{self.origin}/"))]


@pytest.fixture
def tab(browser: BrowserContext, origin: str, request: pytest.FixtureRequest) -> Iterator[Tab]:
    page = browser.new_page()
    recorded = Tab(page, origin)
    yield recorded
    SCREENSHOTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:120]
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.close()
    # Every test checks it: nothing the page (or the API docs) loads comes from outside the service.
    assert recorded.requests and recorded.foreign() == []
    assert recorded.errors == []


# -- what the API says, asked directly ---------------------------------------------------------------


def api(origin: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(origin + path, data=data, headers={"content-type": "application/json"},
                                 method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def compare_body(query: str) -> dict[str, Any]:
    """The POST /v1/compare body a permalink stands for, built here independently of the page's code."""
    params = dict(parse_qsl(urlsplit(query).query))
    workload: dict[str, Any] = {name: parse_count(params[name]) for name in COUNT_FIELDS if name in params}
    if "at" in params:
        workload["at"] = params["at"]
    if params.get("batch") == "true":
        workload["batch"] = True
    body: dict[str, Any] = {"workload": workload}
    if params.get("models"):
        body["models"] = [m.strip() for m in params["models"].split(",") if m.strip()]
    if params.get("baseline"):
        body["baseline"] = params["baseline"]
    return body


def shown(amount: str) -> str:
    """How the page must show an exact decimal string: the same digits, plain notation, grouped."""
    return format(Decimal(amount), ",f")


def results(page: Page) -> list[dict[str, Any]]:
    page.wait_for_selector("#quotes tbody tr")
    return page.eval_on_selector_all("#quotes tbody tr", """rows => rows.map(r => ({
        model: r.dataset.model,
        currency: r.querySelector('.currency').textContent,
        total: r.querySelector('.value').textContent,
        saving: r.querySelector('.saving').textContent,
        lines: [...r.querySelectorAll('.lines li')].map(li => [li.dataset.kind, li.querySelector('.amount').textContent, li.textContent]),
        period: r.querySelector('.period').textContent,
        window: r.querySelector('.window').textContent,
        source: r.querySelector('a.source').getAttribute('href'),
    }))""")


def assert_shows_the_api_answer(page: Page, origin: str, query: str) -> dict[str, Any]:
    status, answer = api(origin, "/v1/compare", compare_body(query))
    assert status == 200, answer
    rows = results(page)
    assert [r["model"] for r in rows] == [f"{q['provider']}/{q['model']}" for q in answer["quotes"]]
    for row, q in zip(rows, answer["quotes"], strict=True):
        assert (row["currency"], row["total"]) == (q["currency"], shown(q["total"]))
        assert row["saving"] == ("—" if q["savings_percent"] is None else f"{shown(q['savings_percent'])}%")
        assert [(kind, amount) for kind, amount, _ in row["lines"]] == [
            (line["kind"], shown(line["amount"])) for line in q["lines"]]
        for (_, _, text), line in zip(row["lines"], q["lines"], strict=True):
            assert f"{line['tokens']:,} {TIMES} {shown(line['rate'])} = " in text
        assert row["source"] == q["source"]
        assert q["period_from"] in row["period"]
        assert f"window: {q['window'] or 'none'}; tier: {q['tier'] or 'base'}" in row["window"]
    return answer


# -- permalinks ---------------------------------------------------------------------------------------


def test_the_seed_permalink_shows_r1_at_2_19_against_o1_at_60(tab: Tab, origin: str) -> None:
    page = tab.open(SEED)
    answer = assert_shows_the_api_answer(page, origin, SEED)
    rows = results(page)
    assert [(r["model"], r["total"], r["saving"]) for r in rows] == [
        ("deepseek/deepseek-reasoner", "2.19", "96.35%"), ("openai/o1", "60", "0.00%")]
    assert answer["baseline"] == "openai/o1"
    # The bar chart: one stacked bar per model, its label the exact total.
    labels = page.eval_on_selector_all("#bars text.bar-label", "ts => ts.map(t => t.textContent)")
    assert labels == ["2.19 USD", "60 USD"]
    widths = page.eval_on_selector_all("#bars rect", "rs => rs.map(r => +r.getAttribute('width'))")
    assert len(widths) == 2 and widths[0] / widths[1] == pytest.approx(2.19 / 60)


@pytest.mark.parametrize("query", [
    "/?output_tokens=4000&requests=250&at=2025-01-31T12:00:00Z&models=o1,deepseek-reasoner&baseline=o1",
    # Cache reads and writes, and a prompt-size tier (Gemini 2.5 Pro above 200k).
    "/?input_tokens=1.2M&cached_input_tokens=900k&cache_write_tokens=100k&output_tokens=20k&requests=1,000"
    "&at=2025-07-01T00:00:00Z&models=claude-sonnet-4-0,gemini-2.5-pro,gpt-4.1&baseline=gpt-4.1",
    # An instant inside DeepSeek's off-peak window: the window applies and is shown.
    "/?input_tokens=10000&output_tokens=2000&at=2025-03-01T17:00:00Z&models=deepseek-reasoner,deepseek-chat",
    # Batch rates, and every model priced at that instant (no model list).
    "/?input_tokens=1000&output_tokens=1000&requests=10&at=2025-06-01T00:00:00Z&batch=true",
])
def test_a_permalink_renders_the_apis_exact_answer_at_once(tab: Tab, origin: str, query: str) -> None:
    page = tab.open(query)
    assert_shows_the_api_answer(page, origin, query)


def test_an_offset_in_a_hand_written_link_is_kept(tab: Tab, origin: str) -> None:
    encoded = "/?output_tokens=1M&at=2025-03-02T01:00:00%2B08:00&models=deepseek-reasoner"
    page = tab.open(encoded)
    want = assert_shows_the_api_answer(page, origin, encoded)
    assert want["quotes"][0]["window"] == "off-peak"  # 17:00 UTC
    page = tab.open(encoded.replace("%2B", "+"))  # "+" in a query is a space, unless the page knows better
    assert results(page)[0]["total"] == shown(want["quotes"][0]["total"])


def test_the_readme_seed_by_clicking(tab: Tab, origin: str) -> None:
    """README.md, "The seed question, by clicking", step by step."""
    page = tab.open("/")
    page.click("text=Output tokens")
    page.keyboard.type("1M")
    page.click("text=When")
    page.keyboard.type("2025-01-31T12:00:00Z")
    page.click("text=Find a model")
    page.keyboard.type("deepseek-reasoner")
    page.keyboard.press("Enter")
    page.fill("#search", "o1")
    page.get_by_role("button", name="openai/o1 o1", exact=True).click()
    page.click("label[for=baseline]")
    page.keyboard.type("o1")
    page.get_by_role("button", name="Compare").click()
    rows = results(page)
    assert [(r["model"], r["currency"], r["total"], r["saving"]) for r in rows] == [
        ("deepseek/deepseek-reasoner", "USD", "2.19", "96.35%"), ("openai/o1", "USD", "60", "0.00%")]
    assert page.url == origin + SEED


def test_a_window_permalink_names_the_window(tab: Tab, origin: str) -> None:
    page = tab.open("/?output_tokens=1M&at=2025-03-01T17:00:00Z&models=deepseek-reasoner")
    assert "window: off-peak" in results(page)[0]["window"]


def test_price_history_steps_through_the_models_periods(tab: Tab, origin: str) -> None:
    page = tab.open(SEED)
    page.wait_for_selector("#history-svg")
    _, model = api(origin, "/v1/models/deepseek/deepseek-reasoner")
    notes = page.eval_on_selector_all("#history-notes .history-period", "ls => ls.map(l => l.textContent)")
    # The chart is in the quote's currency (USD): DeepSeek's CNY price list is another timeline.
    usd = [p for p in model["periods"] if p["currency"] == "USD"]
    assert len(usd) < len(model["periods"])
    assert len(notes) == len(usd)
    for note, period in zip(notes, usd, strict=True):
        assert note.startswith(f"from {period['from']}")
        assert f"output {shown(period['output'])}" in note
    # Output steps: one horizontal segment per period; the off-peak window is marked; the quote's instant too.
    assert page.locator("#history-svg line.step.s-output").count() == len(usd)
    assert page.locator("#history-svg rect.window-band").count() == 1
    assert "quote: 2025-01-31T12:00:00Z" in page.text_content("#history-svg")
    # Choosing another model redraws the chart for it and puts it in the permalink.
    page.select_option("#history-model", "openai/o1")
    periods = len(api(origin, "/v1/models/openai/o1")[1]["periods"])
    page.wait_for_function(f"() => document.querySelectorAll('#history-notes .history-period').length === {periods}")
    assert "model=openai/o1" in page.url


def test_price_history_marks_prompt_size_tiers(tab: Tab, origin: str) -> None:
    page = tab.open("/?input_tokens=300k&at=2025-07-01T00:00:00Z&models=gemini-2.5-pro&model=google/gemini-2.5-pro")
    page.wait_for_selector("#history-notes .history-period")
    _, model = api(origin, "/v1/models/google/gemini-2.5-pro")
    tiers = sum(len(p["tiers"]) for p in model["periods"] if p["currency"] == "USD")
    assert tiers and page.locator("#history-svg line.tier").count() >= tiers
    assert results(page)[0]["window"].endswith("tier: >200000")


# -- the projection panel ----------------------------------------------------------------------------

PROJECTED = ("/?input_tokens=2000&output_tokens=4000&at=2025-01-31T12:00:00Z&models=o1,deepseek-reasoner"
             "&baseline=o1&from=2025-02-01T00:00:00Z&until=2025-07-01T00:00:00Z&requests_per_day=1000")


def test_a_projection_permalink_shows_the_apis_months(tab: Tab, origin: str) -> None:
    page = tab.open(PROJECTED)
    page.wait_for_selector("#projection-table tbody tr")
    status, answer = api(origin, "/v1/projections", {
        "usage": {"input_tokens": 2000, "output_tokens": 4000}, "models": ["deepseek/deepseek-reasoner", "openai/o1"],
        "baseline": "openai/o1", "from": "2025-02-01T00:00:00Z", "until": "2025-07-01T00:00:00Z",
        "requests_per_day": 1000})
    assert status == 200, answer
    heads = page.eval_on_selector_all("#projection-table thead th", "hs => hs.map(h => h.textContent)")
    assert heads == ["month", *(f"{p['provider']}/{p['model']}" for p in answer["projections"])]
    shown_rows = page.eval_on_selector_all(
        "#projection-table tbody tr", "rs => rs.map(r => [...r.children].map(c => c.textContent))")
    months = [m["label"] for m in answer["projections"][0]["months"]]
    assert months == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    assert shown_rows == [[label, *(shown(next(m["total"] for m in p["months"] if m["label"] == label))
                                     for p in answer["projections"])] for label in months]
    totals = page.eval_on_selector_all("#projection-table tfoot td.total", "ts => ts.map(t => t.textContent)")
    assert [t.split(" (")[0] for t in totals] == [f"{p['currency']} {shown(p['total'])}" for p in answer["projections"]]
    assert page.locator("#projection-svg rect").count() == sum(len(p["months"]) for p in answer["projections"])


def test_a_projection_refused_shows_the_detail_beside_its_field(tab: Tab, origin: str) -> None:
    page = tab.open(PROJECTED.replace("from=2025-02-01", "from=2025-01-01"))
    page.wait_for_selector("#from-error:not(:empty)")
    status, problem = api(origin, "/v1/projections", {
        "usage": {"input_tokens": 2000, "output_tokens": 4000}, "models": ["deepseek/deepseek-reasoner", "openai/o1"],
        "baseline": "openai/o1", "from": "2025-01-01T00:00:00Z", "until": "2025-07-01T00:00:00Z",
        "requests_per_day": 1000})
    assert (status, problem["field"]) == (422, "$.from")
    assert page.text_content("#from-error") == problem["detail"]
    # The panel's form corrects it in place, and the permalink follows.
    page.fill("#from", "2025-02-01T00:00:00Z")
    page.press("#from", "Enter")
    page.wait_for_selector("#projection-table tbody tr")
    assert page.text_content("#from-error") == ""
    assert "from=2025-02-01T00:00:00Z" in page.url


# -- the usage panel ---------------------------------------------------------------------------------

USAGE_FIXTURE = Path(__file__).parent / "fixtures" / "usage" / "canonical.csv"
USAGE_AMOUNTS = ("input_amount", "cached_input_amount", "cache_write_amount", "cache_write_1h_amount",
                 "output_amount", "total", "reported_cost", "variance")


def usage_api(origin: str, body: bytes, content_type: str) -> tuple[int, Any]:
    req = urllib.request.Request(origin + "/v1/usage", data=body, method="POST",
                                 headers={"content-type": content_type, "accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_usage_file_shows_the_apis_exact_summary(tab: Tab, origin: str) -> None:
    page = tab.open("/")
    page.set_input_files("#usage-file", str(USAGE_FIXTURE))
    page.wait_for_selector("#usage-totals tbody tr")
    status, summary = usage_api(origin, USAGE_FIXTURE.read_bytes(), "text/csv")
    assert status == 200, summary
    assert summary["unpriced"] > 0 and summary["totals"]  # the fixture has both kinds of row
    counts = page.text_content("#usage-counts") or ""
    assert (f"{summary['rows']} rows, {summary['priced']} priced, {summary['unpriced']} unpriced" in counts)
    reasons = page.eval_on_selector_all("#usage-errors li", "ls => ls.map(l => [l.dataset.reason, l.textContent])")
    assert reasons == [[reason, f"{reason}: {n}"] for reason, n in summary["errors"].items()]
    rows = page.eval_on_selector_all("#usage-totals tbody tr", """rs => rs.map(r => ({
        currency: r.dataset.currency,
        amounts: Object.fromEntries([...r.querySelectorAll('td.num')].slice(1).map(c => [c.classList[1], c.textContent])),
    }))""")
    assert rows == [{"currency": t["currency"],
                     "amounts": {k: shown(t[k]) for k in USAGE_AMOUNTS}} for t in summary["totals"]]
    assert summary["catalog_digest"] in (page.text_content("#usage") or "")


def test_a_bad_usage_file_shows_the_problems_detail(tab: Tab, origin: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("model,at,output_tokens\nopenai/o1,last tuesday,10\n")
    # The panel is there even when the comparison in the link is refused.
    page = tab.open("/?output_tokens=1000&models=no-such-model")
    page.wait_for_selector("#models-error:not(:empty)")
    page.set_input_files("#usage-file", str(bad))
    page.wait_for_selector("#usage-error:not(:empty)")
    status, problem = usage_api(origin, bad.read_bytes(), "text/csv")
    assert (status, problem["field"]) == (422, "at")
    assert page.text_content("#usage-error") == problem["detail"]
    assert page.locator("#usage-totals").count() == 0
    # A good file after it clears the error and shows its summary.
    page.set_input_files("#usage-file", str(USAGE_FIXTURE))
    page.wait_for_selector("#usage-totals tbody tr")
    assert page.text_content("#usage-error") == ""


def test_the_usage_repriced_on_other_models_shows_the_apis_figures(tab: Tab, origin: str) -> None:
    page = tab.open("/")
    page.fill("#usage-reprice", "deepseek-chat, o1")
    page.set_input_files("#usage-file", str(USAGE_FIXTURE))
    page.wait_for_selector("#usage-repriced tbody tr")
    req = urllib.request.Request(origin + "/v1/usage?reprice_on=deepseek-chat,o1", data=USAGE_FIXTURE.read_bytes(),
                                 method="POST", headers={"content-type": "text/csv", "accept": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        summary = json.loads(r.read())
    rows = page.eval_on_selector_all("#usage-repriced tbody tr", """rs => rs.map(r => Object.fromEntries(
        [...r.querySelectorAll('td')].map(c => [c.classList[c.classList.length - 1], c.textContent])))""")
    expected = [{"model": f"{x['provider']}/{x['model_id']}", "currency": c["currency"], "rows": str(c["rows"]),
                 "original": shown(c["original"]), "repriced": shown(c["repriced"]),
                 "difference": shown(c["difference"]),
                 "unpriced": ", ".join(f"{k}: {n}" for k, n in x["errors"].items()) or "none"}
                for x in summary["repriced"] for c in x["compared"]]
    assert rows == expected and len(rows) == 2
    # An unknown model: the API's detail beside the field, and a good name after it clears it.
    page.fill("#usage-reprice", "no-such-model")
    page.dispatch_event("#usage-reprice", "change")
    page.wait_for_selector("#usage-error:not(:empty)")
    assert "reprice_on" in (page.text_content("#usage-error") or "")
    page.fill("#usage-reprice", "deepseek-chat")
    page.dispatch_event("#usage-reprice", "change")
    page.wait_for_selector("#usage-repriced tbody tr")
    assert page.text_content("#usage-error") == ""
    assert page.locator("#usage-repriced tbody tr").count() == 1


# -- the form, from the keyboard ---------------------------------------------------------------------


def tab_to(page: Page, element_id: str) -> None:
    for _ in range(120):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    pytest.fail(f"Tab never reached #{element_id}")


def test_the_seed_comparison_from_the_keyboard(tab: Tab, origin: str) -> None:
    page = tab.open("/")
    tab_to(page, "output_tokens")
    page.keyboard.type("1M")
    tab_to(page, "at")
    page.keyboard.type("2025-01-31T12:00:00Z")
    tab_to(page, "search")
    page.keyboard.type("deepseek-reasoner")
    page.keyboard.press("Enter")  # adds the first match
    page.keyboard.press("Tab")
    page.keyboard.type("openai")  # picks the provider in the <select>
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("o1")
    page.keyboard.press("ArrowDown")  # into the list of matches
    assert page.evaluate("document.activeElement.dataset.name") == "o1"
    page.keyboard.press("Enter")
    assert page.input_value("#models") == "deepseek-reasoner, o1"
    # The list of matches is one Tab stop: the next one is the baseline.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "baseline"
    page.keyboard.type("o1")
    tab_to(page, "compare")
    page.keyboard.press("Enter")
    rows = results(page)
    assert [(r["model"], r["total"], r["saving"]) for r in rows] == [
        ("deepseek/deepseek-reasoner", "2.19", "96.35%"), ("openai/o1", "60", "0.00%")]
    # The URL now holds the whole state, with the API's field names and values.
    assert dict(parse_qsl(urlsplit(page.url).query)) == {
        "output_tokens": "1000000", "at": "2025-01-31T12:00:00Z", "models": "deepseek-reasoner,o1",
        "baseline": "o1", "provider": "openai"}
    assert_shows_the_api_answer(page, origin, page.url)


# -- bad input ---------------------------------------------------------------------------------------


def expected_problem(origin: str, query: str) -> tuple[str | None, str]:
    """(form field, message) the page must show: the CLI grammar's own message for a count that does
    not parse, else the API's problem ``detail`` beside the field its ``field`` names."""
    params = dict(parse_qsl(urlsplit(query).query))
    for name in COUNT_FIELDS:
        if name in params:
            try:
                parse_count(params[name])
            except ValueError as exc:
                return name, str(exc)
    status, problem = api(origin, "/v1/compare", compare_body(query))
    assert 400 <= status < 500, problem
    path = problem.get("field") or ""
    match = re.match(r"^\$\.workload\.([a-z_0-9]+)", path) or re.match(r"^\$\.(models|baseline)\b", path)
    return (match[1] if match else None), problem["detail"]


BAD = "&at=2025-01-31T12:00:00Z&models=o1"


@pytest.mark.parametrize("query", [
    "/?output_tokens=1.2345k" + BAD,          # not a whole number (the CLI's grammar, in the page)
    "/?output_tokens=lots" + BAD,             # not a count at all
    "/?output_tokens=1,5M" + BAD,             # a decimal comma is refused, not read as 15M
    "/?output_tokens=20B" + BAD,              # over the API's maximum
    "/?input_tokens=10&cached_input_tokens=20" + BAD,  # cached tokens beyond the prompt
    "/?output_tokens=1&requests=0" + BAD,     # fewer than one request
    "/?output_tokens=1&at=2025-01-31&models=o1",  # no time, no offset
    "/?output_tokens=1&at=2020-01-01T00:00:00Z&models=o1",  # before the model had a price
    "/?output_tokens=1&batch=true&at=2025-03-01T00:00:00Z&models=deepseek-reasoner",  # no batch price
    "/?output_tokens=1&at=2025-01-31T12:00:00Z&models=o1,deepseek-resoner",  # unknown model
    "/?output_tokens=1&at=2025-01-31T12:00:00Z&models=o1&baseline=gpt-nine",  # unknown baseline
])
def test_bad_input_shows_the_problem_beside_its_field(tab: Tab, origin: str, query: str) -> None:
    field, detail = expected_problem(origin, query)
    page = tab.open(query)
    where = f"#{field}-error" if field else "#form-error"
    page.wait_for_function("sel => document.querySelector(sel).textContent !== ''", arg=where)
    assert page.text_content(where) == detail
    if field:
        assert page.get_attribute(f"#{field}", "aria-invalid") == "true"
    assert page.locator("#quotes").count() == 0
    # Nothing is broken: the other fields show no error.
    assert page.eval_on_selector_all("output.error", "os => os.filter(o => o.textContent).length") == 1


def test_after_an_error_a_corrected_field_prices_again(tab: Tab, origin: str) -> None:
    page = tab.open("/?output_tokens=1.2345k&at=2025-01-31T12:00:00Z&models=deepseek-reasoner,o1&baseline=o1")
    page.wait_for_selector("#output_tokens-error:not(:empty)")
    page.fill("#output_tokens", "1M")
    page.press("#output_tokens", "Enter")
    assert [r["total"] for r in results(page)] == ["2.19", "60"]
    assert page.text_content("#output_tokens-error") == ""


# -- the count grammar, the same in the page as in the CLI ----------------------------------------------


COUNTS = ["0", "7", "350k", "350K", "1.2M", "1.2m", "2B", "1_200_000", "1,200,000", ".5k", "0.5k", "12 k",
          "  42  ", "007", "1.2345k", "1,5M", "1,20,000", "1__000", "-5", "+5", "1e6", "", "k", "1.2.3",
          "10B", "99999999999999999999", "1.000000001B", "0.0000001k", "\u0663", "\uff11\uff12"]  # non-ASCII digits are refused


def test_the_page_parses_counts_exactly_like_the_cli(tab: Tab) -> None:
    page = tab.open("/")
    page.wait_for_selector("#matches li")
    for text in COUNTS:
        got = page.evaluate("t => { try { return ['ok', parseCount(t)]; } catch (e) { return ['error', e.message]; } }",
                            text)
        try:
            want = ["ok", str(parse_count(text))]
        except ValueError as exc:
            want = ["error", str(exc)]
        assert got == want, text


# -- speed and stability ---------------------------------------------------------------------------


def test_first_render_is_small_and_results_do_not_shift_the_layout(tab: Tab, origin: str) -> None:
    page = tab.page
    responses: list[Response] = []
    page.on("response", lambda r: responses.append(r))
    page.goto(origin + SEED)
    page.wait_for_selector("#history-svg")
    page.wait_for_load_state("networkidle")
    # Everything it took to show the results and the history chart: HTML, CSS, script, two API answers.
    sizes = {r.url: len(r.body()) for r in responses}
    total = sum(sizes.values())
    assert total < 100_000, sizes
    shift = page.evaluate("""() => new Promise(done => {
        let sum = 0;
        new PerformanceObserver(list => { for (const e of list.getEntries()) sum += e.value; })
            .observe({type: 'layout-shift', buffered: true});
        setTimeout(() => done(sum), 300);
    })""")
    assert shift == 0


def test_the_page_is_served_with_a_policy_that_forbids_other_origins(tab: Tab, origin: str) -> None:
    page = tab.page
    response = page.goto(origin + "/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    # A script trying to reach another origin is refused by the browser, never sent.
    refused = page.evaluate("() => fetch('http://192.0.2.1/x').then(() => 'sent', e => 'refused')")
    assert refused == "refused"
    tab.errors.clear()  # the browser logs the refusal as a console error, as it should


# -- the API docs at /schema -------------------------------------------------------------------------


def test_swagger_ui_works_offline(tab: Tab) -> None:
    page = tab.open("/schema")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "inference-cost" in page.text_content(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path[data-path='/v1/compare']")


def test_redoc_works_offline(tab: Tab) -> None:
    page = tab.open("/schema/redoc")
    page.wait_for_selector("h1:has-text('inference-cost')", timeout=20_000)
    page.wait_for_selector("h2:has-text('Compare models on one token profile')")
    # ReDoc's bundle links Redocly's logo on their CDN: served with an empty image instead.
    assert page.locator("img[alt='redocly logo']").count() == 0

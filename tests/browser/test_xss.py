"""In Chromium: a mesh whose every text field (titles, descriptions, owners, check descriptions,
dashboard and tile titles, data values, access purposes, comments) holds script, `<img onerror>`,
`<iframe srcdoc>`, `<svg onload>` and `javascript:` payloads. Every page, every tab and both HTML exports
(owner review, dashboard) are visited as a steward and as an analyst; no payload may run (a `window.__pwned`
flag stays unset, no dialog opens) and no `javascript:` link may exist.
One app server for the whole module; each page is loaded once per role and its tabs are opened by clicks in
that session (a short rerun each), and the check waits for the page's images to settle instead of sleeping."""

from __future__ import annotations

import csv
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from playwright.sync_api import Error as PlaywrightError

import catalog
from tests import harness
from conftest import AppServer, wait_for_app
from minimesh import build_minimesh

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-xss")]

PAYLOAD = ("<script>window.__pwned=1</script><img src=x onerror=\"__pwned=2;alert(2)\">"
           "<iframe srcdoc=\"<script>parent.__pwned=3</script>\"></iframe><svg onload=\"__pwned=4\">"
           "[x](javascript:alert(5)) :red[y]")  # under 200 characters: titles are capped


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def hostile_mesh(root: Path) -> Path:
    """The mini mesh with a payload in every free-text field a descriptor, a check, a dashboard, the data and
    the state store hold (names stay valid: the model refuses markup in column and product names)."""
    build_minimesh(root)
    owner = "x" + "<img src=x onerror=alert(1)>@evil.example"

    def mesh(d):
        d.update(title=f"Mesh {PAYLOAD}", description=f"About {PAYLOAD}")
    _edit(root / "mesh.yaml", mesh)
    for domain in ("retail", "risk"):
        _edit(root / domain / "domain.yaml", lambda d: d.update(title=f"Domain {PAYLOAD}",
                                                               description=f"Domain about {PAYLOAD}"))
    for product in (root / "retail/products").glob("*.yaml"):
        def change(d):
            d.update(title=f"Title {PAYLOAD}", description=f"Description {PAYLOAD}", tags=["ok", "tag-x"])
            for column in d.get("columns", []):
                column["description"] = f"Column {PAYLOAD}"
            d["quality"] = [{"check": "not_null", "column": "email" if "customers" in product.name else "city",
                             "name": "present", "description": f"Check about {PAYLOAD}"}]  # names refuse markup
        _edit(product, change)
    _edit(root / "risk/products/scores.yaml", lambda d: d.update(owner=owner, title=f"Scores {PAYLOAD}"))
    with (root / "retail/data/branches.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["branch_id", "city"], ["B1", PAYLOAD], ["B2", "Porto"]])
    (root / "retail/dashboards").mkdir()
    (root / "retail/dashboards/hostile.yaml").write_text(yaml.safe_dump({
        "title": f"Board {PAYLOAD}", "owner": "ana.silva@bank.example", "description": f"Board about {PAYLOAD}",
        "tiles": [{"title": f"Tile {PAYLOAD}", "query": "SELECT city, count(*) AS n FROM retail.branches GROUP BY city",
                   "chart": {"mark": "bar", "x": "city", "y": "n", "title": f"Chart {PAYLOAD}"}, "size": "medium"},
                  {"title": f"Table {PAYLOAD}", "query": "SELECT * FROM retail.branches", "size": "medium"}]}))
    opened = catalog.open_mesh(root)
    for pid in ("retail.customers", "retail.branches"):
        opened.check(pid)
    plain = PAYLOAD.replace("\n", " ")
    # an agreement bo asks of retail.customers' owner, the app's user: the access page draws its purpose
    opened.agreements.request("bo@bank.example", "retail.customers", "sql", f"Purpose {plain}", 30, kind="pii")
    for attempt in (lambda: opened.trust_desk.comment("retail.customers", "bo@bank.example", f"Comment {plain}"),
                    lambda: opened.trust_desk.certify("retail.branches", "ana.silva@bank.example", f"Note {plain}")):
        try:
            attempt()
        except catalog.MeshError:  # a field that refuses this text is fine: nothing stored, nothing to render
            pass
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = hostile_mesh(tmp_path_factory.mktemp("xss") / "hostile")
    app = AppServer(root, env={"MESHWORK_USER": "ana.silva@bank.example"})
    yield app, root
    app.stop()


@pytest.fixture(scope="module")
def browser_context(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    yield context
    context.close()


# Every image loaded or failed, then two animation frames for the error events those failures queue.
IMAGES_SETTLED = ("() => [...document.images].every(i => i.complete) && new Promise(r => "
                  "requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")


class Watch:
    """Dialogs opened and flags set by any payload, on every page and frame the browser loaded."""

    def __init__(self, page):
        self.page, self.dialogs = page, []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def assert_clean(self, where: str) -> None:
        page = self.page
        for frame in [f for f in page.frames if not f.is_detached()]:  # an onerror fires once an image's load
            try:                                                         # has failed: wait for each to settle
                frame.wait_for_function(IMAGES_SETTLED, timeout=10_000)
            except PlaywrightError:  # the frame went away meanwhile (a rerun replaced an iframe)
                continue
        flags = [f.evaluate("() => window.__pwned === undefined ? null : String(window.__pwned)")
                 for f in page.frames if not f.is_detached()]
        assert not any(flags), f"a payload ran on {where}: {flags}"
        assert not self.dialogs, f"a payload opened a dialog on {where}: {self.dialogs}"
        js_links = page.evaluate("() => [...document.querySelectorAll('a[href]')]"
                                 ".filter(a => a.getAttribute('href').trim().toLowerCase().startsWith('javascript:'))"
                                 ".length")
        assert js_links == 0, f"a javascript: link on {where}"
        assert page.get_by_test_id("stException").count() == 0, f"a traceback on {where}"


PAGES = [
    "home", "discover?q=title", "product?product=retail.customers", "product?product=risk.scores",
    "product?product=risk.limits", "product?product=%3Cscript%3Ealert(1)%3C/script%3E",
    "lineage?product=retail.customers", "lineage?product=risk.customer_risk",
    "workbench?sql=" + quote("SELECT city FROM retail.branches"), "marketplace", "dashboards",
    "dashboards?dashboard=retail.hostile", "scorecards", "scorecards?domain=retail",
    "scorecards?product=retail.customers", "scorecards?product=retail.branches", "review", "review?domain=retail",
    "governance", "publish",
]
TABS = {
    "product?product=retail.customers": ["Schema", "Sample rows", "Quality", "Usage", "Lineage",
                                         "Possible duplicates", "Descriptor"],
    "product?product=retail.branches": ["Schema", "Sample rows", "Quality"],
    "marketplace": ["Request access", "Requests to decide", "My requests & grants", "Subscriptions & alerts",
                    "Trust & ratings", "Audit log"],
    "governance": ["Domain × policy", "Violations", "PII inventory", "Access rules", "Policies", "Data contracts",
                   "Audit log"],
    "scorecards?product=retail.customers": ["Checks", "Quality trend"],
}


def visit(page, watch, url: str) -> None:
    page.goto(url)
    wait_for_app(page)
    watch.assert_clean(url)


@pytest.mark.parametrize("role", ["steward", "analyst"])
def test_no_payload_runs_on_any_page_or_tab(server, browser_context, role):
    app, root = server
    page = browser_context.new_page()
    page.set_default_timeout(60_000)
    watch = Watch(page)
    try:
        for path in PAGES:
            sep = "&" if "?" in path else "?"
            visit(page, watch, f"{app.url}/{path}{sep}role={role}")
        for path, tabs in TABS.items():  # each tab by a click in one session: a short rerun, not a reload
            sep = "&" if "?" in path else "?"  # (`marketplace&role=` named no page: its tabs went unvisited)
            visit(page, watch, f"{app.url}/{path}{sep}role={role}")
            for tab in tabs:
                page.get_by_role("tab", name=tab, exact=True).click()
                wait_for_app(page)
                page.wait_for_function(f"() => new URLSearchParams(location.search).get('tab') === {tab!r}"
                                       " || document.querySelector('[role=tab][aria-selected=true]')"
                                       f"?.innerText.trim() === {tab!r}")
                watch.assert_clean(f"{path} tab {tab}")
        page.goto(f"{app.url}/lineage?product=retail.customers&role={role}")
        wait_for_app(page)
        page.get_by_text("Whole mesh").first.click()
        wait_for_app(page)
        watch.assert_clean("the whole-mesh lineage")
        page.goto(f"{app.url}/workbench?sql={quote('SELECT * FROM retail.branches')}&role={role}")
        wait_for_app(page)
        harness.run_cell(page)
        page.get_by_text("2 rows", exact=False).first.wait_for()
        watch.assert_clean("a workbench result holding the payload")
        page.goto(f"{app.url}/review?role={role}")
        wait_for_app(page)
        page.get_by_text("Preview the Markdown").click()
        wait_for_app(page)
        watch.assert_clean("the review's Markdown preview")
    finally:
        page.close()


def test_the_html_exports_run_no_payload(server, browser_context, tmp_path):
    app, root = server
    page = browser_context.new_page()
    page.set_default_timeout(60_000)
    watch = Watch(page)
    try:
        exports = []
        for url, button in ((f"{app.url}/review?role=steward&domain=retail", "Download HTML report"),
                            (f"{app.url}/dashboards?dashboard=retail.hostile&role=steward", "Export as HTML")):
            page.goto(url)
            wait_for_app(page)
            with page.expect_download(timeout=120_000) as info:
                page.get_by_role("button", name=button).click()
            saved = tmp_path / f"{len(exports)}.html"
            info.value.save_as(saved)
            exports.append(saved)
        for saved in exports:
            text = saved.read_text()
            assert "<script>window.__pwned" not in text and "<img src=x" not in text and "<iframe" not in text
            assert "&lt;script&gt;" in text, f"the payload is shown as text in {saved.name}"
            page.goto(saved.as_uri())
            page.wait_for_load_state("load")
            watch.assert_clean(f"the exported {saved.name}")
    finally:
        page.close()


def test_the_hostile_pages_still_say_what_they_hold(server, browser_context, screenshot):
    """The payloads are shown as the text they are (escaped), not dropped: look at the product page."""
    app, _ = server
    page = browser_context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{app.url}/product?product=retail.customers&role=steward")
        wait_for_app(page)
        main = page.get_by_test_id("stMain")
        main.get_by_text("<script>window.__pwned=1</script>", exact=False).first.wait_for()
        screenshot(page, "xss-product-page")
        page.goto(f"{app.url}/dashboards?dashboard=retail.hostile&role=steward")
        wait_for_app(page)
        page.get_by_role("link", name="All dashboards").wait_for()
        page.get_by_text("data as of", exact=False).first.wait_for()
        assert "Board about &lt;script&gt;window.__pwned=1&lt;/script&gt;" in page.content()
        screenshot(page, "xss-dashboard")
        page.goto(f"{app.url}/marketplace?role=steward")
        wait_for_app(page)
        page.get_by_role("tab", name="Requests to decide", exact=True).click()
        main = page.get_by_test_id("stMain")
        main.get_by_text("Purpose: Purpose <script>window.__pwned=1</script>", exact=False).first.wait_for()
        screenshot(page, "xss-access-request")
    finally:
        page.close()

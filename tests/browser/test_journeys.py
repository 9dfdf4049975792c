"""Whole journeys a person makes in Chromium, each on a freshly started app server, each saving screenshots
(they illustrate the README tour: `make screenshots`).

(a) dashboard: Home → switch mesh → a domain's scorecard → a failing check's example rows;
(b) exploration: search → product page → open in workbench → join with another domain → chart → CSV.
(c) owner review lives in tests/browser/test_review.py (pick an owner, read the review, open the HTML report);
(d) another mesh: life sciences product → Open in workbench (same tab, on life sciences, query ready) → reload
    keeps mesh and role → the shared link in a fresh browser context shows the same page.
"""

from __future__ import annotations

import polars as pl
import pytest

from tests import harness
from conftest import choose, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-journeys")]


def address_has(page, *parts: str) -> str:
    """The page's address once it holds every part: the app writes it after the rerun a click starts, so a
    heading can show before the address is up to date."""
    page.wait_for_url(lambda url: all(part in url for part in parts), timeout=60_000)
    return page.url


def test_dashboard_journey_from_home_to_a_failing_checks_example_rows(sample_copy, app_server, page, screenshot):
    banking, supply_chain = sample_copy("banking"), sample_copy("supply_chain")
    server = app_server(banking, env={"MESHWORK_MESH": str(banking), "MESHWORK_MESHES": str(supply_chain)})
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_test_id("stMain").get_by_text("Retail Banking", exact=True).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)  # tables and charts paint after the script run
    screenshot(page, "journey-a-1-home")

    sidebar = page.get_by_test_id("stSidebar")
    choose(page, "Mesh", "Supply Chain", where=sidebar)  # the served copy; the sample is "Sample Supply Chain"
    address_has(page, "mesh=supply_chain")
    main = page.get_by_test_id("stMain")
    main.get_by_text("Inventory", exact=True).first.wait_for(timeout=60_000)
    assert main.get_by_text("Retail Banking", exact=True).count() == 0

    main.locator("a[href*='scorecards?'][href*='domain=inventory']").filter(has_text="Domain scorecard").click()
    page.wait_for_url("**/scorecards?*domain=inventory*")
    wait_for_app(page)
    main.get_by_test_id("stMetricLabel").filter(has_text="Domain score").wait_for(timeout=60_000)
    page.wait_for_timeout(1000)  # charts paint after the script run
    screenshot(page, "journey-a-2-domain-scorecard")

    choose(page, "Product", "inventory.stock_levels")
    page.get_by_text("Checks in the latest run").wait_for()
    page.get_by_role("button", name="Run checks now (1 product)").click()
    wait_for_app(page)
    page.get_by_text("Run just now as analyst").wait_for(timeout=60_000)
    failing = main.get_by_test_id("stExpander").filter(has_text="failing of").first
    failing.get_by_test_id("stDataFrame").wait_for()
    page.wait_for_timeout(800)
    screenshot(page, "journey-a-3-failing-check-rows")


def test_exploration_journey_search_product_workbench_join_chart_export(sample_copy, app_server, page, screenshot,
                                                                        tmp_path):
    banking = sample_copy("banking")
    server = app_server(banking)
    harness.search_for(page, "retail customer", at=server.url)
    first = page.get_by_test_id("stMain").get_by_role("link", name="Retail customers").first
    first.wait_for()
    screenshot(page, "journey-b-1-search")

    first.click()
    wait_for_app(page)
    page.get_by_role("heading", name="Retail customers").wait_for()
    address_has(page, "product=retail.customers")
    page.get_by_role("tab", name="Sample rows").click()
    wait_for_app(page)
    screenshot(page, "journey-b-2-product")

    page.get_by_role("link", name="Open in workbench").first.click()  # same tab, query ready, not run
    page.wait_for_url("**/workbench?*")
    wait_for_app(page)
    assert len(page.context.pages) == 1
    page.get_by_role("heading", name="Workbench").wait_for()
    page.frame_locator("iframe[title*='code_editor']").first.get_by_text("retail.customers").first.wait_for()
    harness.run_cell(page)  # the link filled the cell; the person runs it
    page.get_by_text("read retail.customers").first.wait_for(timeout=60_000)

    query = ("SELECT c.state, round(avg(s.score)) AS avg_score, count(*) AS customers "
             "FROM retail.customers c JOIN risk.credit_scores s USING (customer_id) GROUP BY c.state ORDER BY c.state")
    page.get_by_role("button", name="Add SQL cell").click()
    wait_for_app(page)
    editor = page.frame_locator("iframe[title*='code_editor']").last
    harness.type_in_editor(page, editor, query, delay=2)
    page.keyboard.press("Control+Enter")
    wait_for_app(page)
    page.get_by_text("read retail.customers, risk.credit_scores").first.wait_for(timeout=60_000)
    page.locator("[data-testid='stVegaLiteChart']").last.wait_for()
    page.wait_for_timeout(800)
    screenshot(page, "journey-b-3-workbench-join-chart")

    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download CSV").last.click()
    saved = tmp_path / "result.csv"
    info.value.save_as(saved)
    frame = pl.read_csv(saved)
    assert frame.columns == ["state", "avg_score", "customers"]
    assert frame.height > 1 and frame["customers"].sum() > 0


def test_life_sciences_product_to_workbench_survives_reload_and_a_shared_link(sample_copy, app_server, page, chromium,
                                                                             screenshot):
    banking, life = sample_copy("banking"), sample_copy("life_sciences")
    server = app_server(banking, env={"MESHWORK_MESHES": str(life)})
    page.goto(server.url)
    wait_for_app(page)
    choose(page, "Mesh", "Life Sciences", where=page.get_by_test_id("stSidebar"))
    choose(page, "Role", "steward", where=page.get_by_test_id("stSidebar"))
    # the app writes the choice into the address after its rerun: wait for it rather than race it
    page.wait_for_function("() => location.search.includes('mesh=life_sciences') && location.search.includes('role=steward')",
                           timeout=30_000)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Discover").click()
    wait_for_app(page)
    harness.search_for(page, "enrolled patients")
    page.get_by_test_id("stMain").get_by_role("link", name="Enrolled patients").first.click()
    wait_for_app(page)
    page.get_by_role("heading", name="Enrolled patients").wait_for()
    product_url = address_has(page, "mesh=life_sciences", "role=steward", "product=clinical.patients")
    screenshot(page, "journey-d-0-life-sciences-product")
    page.get_by_role("link", name="Open in workbench").first.click()
    page.wait_for_url("**/workbench?*")
    wait_for_app(page)
    assert len(page.context.pages) == 1, "the workbench opens in the same tab"
    address_has(page, "mesh=life_sciences", "role=steward", "clinical.patients")
    main = page.get_by_test_id("stMain")
    main.get_by_text("Querying as steward").wait_for()
    editor = page.frame_locator("iframe[title*='code_editor']").first
    editor.get_by_text("clinical.patients", exact=False).first.wait_for()
    assert main.get_by_text("no product", exact=False).count() == 0
    harness.run_cell(page)
    main.get_by_text("read clinical.patients").first.wait_for(timeout=60_000)
    screenshot(page, "journey-d-1-life-sciences-workbench")

    page.reload()
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    page.get_by_test_id("stMain").get_by_text("clinical", exact=True).first.wait_for()  # life sciences' schema
    assert "Data steward" in sidebar.inner_text()
    address_has(page, "mesh=life_sciences", "role=steward")
    page.get_by_test_id("stMain").get_by_text("Querying as steward").wait_for()
    page.frame_locator("iframe[title*='code_editor']").first.get_by_text("clinical.patients", exact=False).first.wait_for()

    shared = page.url
    fresh = chromium.new_context(viewport={"width": 1400, "height": 900})
    try:
        other = fresh.new_page()
        other.set_default_timeout(30_000)
        other.goto(product_url)
        wait_for_app(other)
        other.get_by_role("heading", name="Enrolled patients").wait_for()
        assert other.get_by_test_id("stMain").get_by_text("Product not found").count() == 0
        other.goto(shared)
        wait_for_app(other)
        other.get_by_test_id("stMain").get_by_text("Querying as steward").wait_for()
        other.frame_locator("iframe[title*='code_editor']").first.get_by_text("clinical.patients",
                                                                             exact=False).first.wait_for()
        screenshot(other, "journey-d-2-shared-link")
    finally:
        fresh.close()

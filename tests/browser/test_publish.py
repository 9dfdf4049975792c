"""A product owner publishes a CSV through Chromium; the new product is queryable and drawn at once."""

from __future__ import annotations

import pytest

from tests.harness import run_cell
from conftest import wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-publish")]

OWNER = "ana.silva@bank.example"
CSV = ("visit_id,branch_id,customer_email,minutes,channel\n"
       "V1,B1,ana@bank.example,12.5,walk_in\nV2,B2,bo@mail.example,3.0,appointment\n"
       "V3,B1,cy@bank.example,4.0,walk_in\nV4,B2,di@mail.example,7.25,walk_in\n")


def test_publish_a_csv_through_the_browser_then_find_query_and_govern_it(sample_copy, tmp_path, app_server, page,
                                                                  screenshot):
    mesh_root = sample_copy("banking")
    upload = tmp_path / "branch_visits.csv"
    upload.write_text(CSV)
    server = app_server(mesh_root, env={"MESHWORK_USER": OWNER})
    page.goto(f"{server.url}/publish")
    wait_for_app(page)
    page.get_by_role("textbox", name="Product name").wait_for()
    domain = page.get_by_test_id("stSelectbox").filter(has_text="Domain").first
    domain.locator("input").click()
    domain.locator("input").fill("retail")
    page.get_by_role("option", name="retail", exact=True).click()
    page.get_by_role("textbox", name="Product name").fill("branch_visits")
    page.get_by_role("textbox", name="Title").fill("Branch visits")
    page.get_by_role("textbox", name="Description").fill("Every visit to a branch, with its channel and duration.")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(upload))
    page.get_by_text("branch_visits.csv").first.wait_for()
    page.get_by_role("button", name="Draft the product").click()
    wait_for_app(page)
    page.get_by_text("Draft: retail.branch_visits").wait_for()
    page.get_by_text("Draft: retail.branch_visits").scroll_into_view_if_needed()
    page.get_by_text("policy violation(s)").wait_for()   # the bank's global policies are checked (warnings only)
    screenshot(page, "publish-draft")
    suggested = page.locator("[data-testid='stMarkdown']", has_text="Personal data suggested").inner_text()
    assert "customer_email as email" in suggested   # PII suggested from the name
    page.get_by_role("tab", name="YAML").click()
    page.get_by_text("accepted_values").first.wait_for()
    page.get_by_role("button", name="Publish").scroll_into_view_if_needed()
    screenshot(page, "publish-yaml")

    page.get_by_role("button", name="Publish").click()
    wait_for_app(page)
    page.get_by_text("Published retail.branch_visits v1.0.0").wait_for()
    # The confirmation queries the new product as the current role: the app's cached mesh already has it.
    page.get_by_text("First rows as role analyst").wait_for()
    page.locator("[data-testid^=glide-cell]", has_text="***@bank.example").first.wait_for(state="attached")
    screenshot(page, "publish-done")
    assert (mesh_root / "retail/products/branch_visits.yaml").is_file()
    assert (mesh_root / "retail/data/branch_visits.csv").read_text() == CSV

    href = page.get_by_role("link", name="Query it in the Workbench").get_attribute("href")
    page.goto(f"{server.url}/{href.removeprefix('./')}")   # markdown links open a new tab; follow it here
    wait_for_app(page)
    page.get_by_role("heading", name="Workbench").wait_for()
    assert page.locator("[data-testid^=glide-cell]", has_text="walk_in").count() == 0  # the link only fills the cell
    run_cell(page)
    page.locator("[data-testid^=glide-cell]", has_text="walk_in").first.wait_for(state="attached")
    screenshot(page, "publish-then-workbench")

    page.goto(f"{server.url}/lineage?product=retail.branch_visits")
    wait_for_app(page)
    page.wait_for_selector("svg g.node text", timeout=30_000)
    labels = set(page.eval_on_selector_all("svg g.node text", "els => els.map(e => e.textContent)"))
    assert "retail.branch_visits" in labels and "branch_visits.csv" in labels

    page.goto(f"{server.url}/discover?q=branch+visits")
    wait_for_app(page)
    page.get_by_text("retail.branch_visits").first.wait_for()
    screenshot(page, "publish-found-in-discover")

    # The Governance page counts the new product in its matrix, inventory and access rules.
    page.goto(f"{server.url}/governance")
    wait_for_app(page)
    page.get_by_role("tab", name="Domain × policy").wait_for()
    page.locator("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg").first.wait_for()
    screenshot(page, "governance-matrix")
    # its undescribed columns and missing freshness SLA join the sample's 4 planted violations
    violations = page.get_by_test_id("stMetric").filter(has_text="Violations")
    assert violations.get_by_test_id("stMetricValue").inner_text() == "6"
    page.get_by_role("tab", name="Violations").click()
    wait_for_app(page)
    page.get_by_text("meshwork compliance").first.wait_for()
    page.get_by_text("6 violation(s)").wait_for()
    page.wait_for_timeout(1000)
    screenshot(page, "governance-violations")
    page.get_by_role("tab", name="PII inventory").click()
    wait_for_app(page)
    page.get_by_text("privacy officer").first.wait_for()
    page.wait_for_timeout(1000)  # tables and charts paint after the script ends
    screenshot(page, "governance-pii")
    page.get_by_role("tab", name="Access rules").click()
    wait_for_app(page)
    page.get_by_text("Products visible").first.wait_for()
    screenshot(page, "governance-access")

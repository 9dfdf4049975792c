"""In Chromium: pin a workbench chart to a dashboard, then open the dashboard by its link in a fresh browser."""

from __future__ import annotations

from pathlib import Path

import pytest

import catalog
from conftest import wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WORKBENCH = Path(__file__).resolve().parents[1] / "app" / "views" / "workbench.py"


def settle(page) -> None:
    wait_for_app(page)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=30_000)


def test_a_sample_dashboard_opens_by_its_link_with_charts_and_masked_data(sample_copy, app_server, page, screenshot):
    server = app_server(sample_copy("banking"))
    page.goto(f"{server.url}/dashboards?dashboard=marketing.customer_360")
    settle(page)
    page.get_by_role("heading", name="Customer 360").wait_for()
    page.wait_for_selector("[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg")
    assert page.locator("[data-testid='stVegaLiteChart']").count() == 3
    page.get_by_text("data as of", exact=False).first.wait_for()
    page.get_by_text("Open in workbench").first.wait_for()
    page.set_viewport_size({"width": 1400, "height": 1700})  # the whole board in one picture
    page.wait_for_timeout(1500)  # the table tile paints on a canvas after the script ends
    screenshot(page, "dashboard-customer-360")
    page.set_viewport_size({"width": 1400, "height": 900})

    page.goto(f"{server.url}/dashboards")
    settle(page)
    page.get_by_text("Last viewed:", exact=False).first.wait_for()
    page.get_by_role("link", name="Customer 360").wait_for()
    assert page.get_by_role("link", name="Segment value").count() == 1
    screenshot(page, "dashboards-list")


@pytest.mark.skipif(not WORKBENCH.exists(), reason="the workbench page is not in this tree yet")
def test_pin_a_workbench_chart_then_open_the_dashboard_by_link_in_a_fresh_context(
        minimesh, app_server, page, chromium, screenshot):
    server = app_server(minimesh)
    page.goto(f"{server.url}/workbench")
    settle(page)
    editor = page.locator("textarea").first
    editor.fill("SELECT customer_id, score FROM risk.scores")
    page.get_by_role("button", name="Run").first.click()
    settle(page)
    page.wait_for_selector("[data-testid='stVegaLiteChart']")
    page.get_by_role("button", name="Pin to dashboard").first.click()
    popover = page.locator("[data-testid='stPopoverBody']")
    popover.get_by_text("Dashboard", exact=True).wait_for()
    popover.locator("[data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name="A new dashboard…").click()
    settle(page)
    popover.get_by_label("Dashboard title").fill("Score watch")
    popover.get_by_label("Tile title").fill("Scores per customer")
    popover.get_by_label("Tile title").press("Enter")
    settle(page)
    popover.get_by_role("button", name="Pin").click()
    settle(page)
    popover.get_by_text("Pinned to", exact=False).wait_for()
    screenshot(page, "dashboard-pinned")

    board = catalog.open_mesh(minimesh).dashboards.get("retail.score_watch")
    assert board.tiles[0].tile.title == "Scores per customer"

    fresh = chromium.new_context(viewport={"width": 1400, "height": 900})
    try:
        other = fresh.new_page()
        other.set_default_timeout(30_000)
        other.goto(f"{server.url}/dashboards?dashboard=retail.score_watch")
        settle(other)
        other.get_by_role("heading", name="Score watch").wait_for()
        other.get_by_text("Scores per customer").wait_for()
        other.wait_for_selector("[data-testid='stVegaLiteChart']")
        screenshot(other, "dashboard-opened-by-link")
    finally:
        fresh.close()

"""In Chromium: pin a workbench chart to a dashboard, then open the dashboard by its link in a fresh browser."""

from __future__ import annotations

from urllib.parse import quote

import pytest

import catalog
from conftest import wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

QUERY = "SELECT s.customer_id, s.score FROM risk.scores AS s ORDER BY s.customer_id"


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


def test_pin_a_workbench_chart_then_open_the_dashboard_by_link_in_a_fresh_context(
        minimesh, app_server, page, chromium, screenshot):
    server = app_server(minimesh)
    page.goto(f"{server.url}/workbench?sql={quote(QUERY)}")  # a cell holding the query, run once
    settle(page)
    page.get_by_text("3 rows", exact=False).first.wait_for()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
    page.get_by_role("button", name="Pin to dashboard").first.click()
    popover = page.locator("[data-testid='stPopoverBody']")
    popover.get_by_text("Dashboard", exact=True).wait_for()
    popover.locator("[data-testid='stSelectbox']").first.click()
    page.get_by_role("option", name="A new dashboard…").click()
    settle(page)
    popover.get_by_label("Dashboard title").fill("Score watch")
    popover.get_by_label("Dashboard title").press("Enter")
    settle(page)
    popover.get_by_label("Tile title").fill("Scores per customer")
    popover.get_by_label("Tile title").press("Enter")
    settle(page)
    popover.get_by_text("retail/dashboards/score_watch.yaml", exact=False).wait_for()
    popover.get_by_role("button", name="Pin", exact=True).click()
    settle(page)
    popover.get_by_text("Pinned to", exact=False).wait_for()
    screenshot(page, "dashboard-pinned")

    board = catalog.open_mesh(minimesh).dashboards.get("retail.score_watch")
    [slot] = board.tiles
    assert slot.tile.title == "Scores per customer" and slot.tile.query.strip() == QUERY
    assert slot.tile.chart is not None

    fresh = chromium.new_context(viewport={"width": 1400, "height": 900})  # another person, no shared state
    try:
        other = fresh.new_page()
        other.set_default_timeout(30_000)
        other.goto(f"{server.url}/dashboards?dashboard=retail.score_watch")
        settle(other)
        other.get_by_role("heading", name="Score watch").wait_for()
        other.get_by_text("Scores per customer").wait_for()
        other.locator("[data-testid='stVegaLiteChart']").first.wait_for()
        other.get_by_text("3 rows", exact=False).first.wait_for()
        screenshot(other, "dashboard-opened-by-link")
    finally:
        fresh.close()

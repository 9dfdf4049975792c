"""A product owner prepares their review in Chromium: scorecards drill-down, then the review, ending in a
downloaded self-contained HTML report."""

from __future__ import annotations

import pytest

from conftest import choose, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-review")]


def test_owner_reviews_their_products_and_downloads_the_html_report(sample_copy, app_server, page, screenshot,
                                                                    tmp_path):
    mesh = sample_copy("banking")
    server = app_server(mesh, env={"MESHWORK_USER": "ana.silva@bank.example"})

    page.set_viewport_size({"width": 1440, "height": 900})  # the newcomer's screen
    page.goto(f"{server.url}/scorecards")
    wait_for_app(page)
    page.locator("[data-testid='stDataFrame'] canvas").first.wait_for()
    page.wait_for_timeout(1000)  # the grid sizes its columns after it paints
    overflow = page.locator("[data-testid='stDataFrame'] .dvn-scroller").first.evaluate(
        "e => e.scrollWidth - e.clientWidth")
    assert overflow <= 1, f"the domains table scrolls sideways by {overflow} px at 1440 px"
    screenshot(page, "scorecards-mesh")

    page.goto(f"{server.url}/scorecards?domain=retail")
    wait_for_app(page)
    page.get_by_text("Domain score").first.wait_for()
    page.wait_for_selector("canvas, svg.marks", timeout=60_000)
    page.wait_for_timeout(1500)  # charts and tables paint after the script ends
    screenshot(page, "scorecards-domain")

    page.goto(f"{server.url}/scorecards?product=retail.accounts")
    wait_for_app(page)
    page.get_by_text("account_id unique").first.wait_for()
    page.wait_for_timeout(1000)
    screenshot(page, "scorecards-product")

    page.goto(f"{server.url}/review")
    wait_for_app(page)
    page.get_by_text("Review by").wait_for(timeout=60_000)
    choose(page, "Owner", "ben.okafor@bank.example")
    page.get_by_text("Quality review of ben.okafor@bank.example").first.wait_for()
    choose(page, "Owner", "ana.silva@bank.example")
    page.get_by_text("Quality review of ana.silva@bank.example").first.wait_for()
    page.get_by_text("Fix “account_id unique”").first.wait_for()
    page.wait_for_timeout(1500)
    screenshot(page, "owner-review")

    with page.expect_download(timeout=90_000) as info:
        page.get_by_role("button", name="Download HTML report").click()
    download = info.value
    assert download.suggested_filename.startswith("review-ana.silva-at-bank.example-")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    report = saved.read_text(encoding="utf-8")
    assert report.startswith("<!doctype html>") and "Quality review of ana.silva@bank.example" in report
    assert report.count("<svg") == 2 and "<script" not in report  # charts inline: opens offline
    assert "retail.accounts" in report and "How the score is computed" in report

    report_page = page.context.new_page()
    report_page.goto(saved.as_uri())
    report_page.get_by_text("Action items").first.wait_for()
    screenshot(report_page, "owner-review-report")

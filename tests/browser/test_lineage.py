"""A person opens a product's lineage in Chromium and sees its upstream products drawn."""

from __future__ import annotations

import pytest

from conftest import wait_for_app
from tests.lineage.test_graph import add_profile_products, seed_run

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-lineage")]


def svg_labels(page) -> set[str]:
    """The text of every node drawn in the rendered lineage SVG."""
    page.wait_for_selector("svg g.node text", timeout=30_000)
    return set(page.eval_on_selector_all("svg g.node text", "els => els.map(e => e.textContent)"))


def test_deep_link_to_a_products_lineage_draws_its_upstream_nodes(minimesh, app_server, page, screenshot):
    import catalog

    add_profile_products(minimesh)
    seed_run(catalog.open_mesh(minimesh), "risk.scores", "fail")
    server = app_server(minimesh)
    # The very first visit of a fresh server is the deep link itself.
    page.goto(f"{server.url}/lineage?product=risk.customer_profile")
    wait_for_app(page)
    page.locator("[data-testid='stSidebar']").get_by_text("Role", exact=True).wait_for()  # the app's own sidebar: main.py ran
    labels = svg_labels(page)
    assert {"retail.customers", "risk.scores", "risk.customer_profile", "marketing.age_bands"} <= labels
    assert "customers.parquet" in labels and "✗ checks failing" in labels
    page.get_by_text("Root cause", exact=True).wait_for()
    page.get_by_text("risk.scores · 1 hop up").wait_for()
    screenshot(page, "lineage-product")

    page.get_by_text("Columns", exact=True).click()
    wait_for_app(page)
    page.wait_for_selector("svg g.cluster")
    page.locator("svg g.node text", has_text="best_score").first.wait_for()
    screenshot(page, "lineage-columns")

    page.get_by_text("Whole mesh", exact=True).click()
    wait_for_app(page)
    page.locator("svg g.cluster text", has_text="marketing").first.wait_for()
    page.wait_for_timeout(1500)  # the flows table paints on a canvas after the script ends
    screenshot(page, "lineage-mesh")

"""The lineage graph at 1440 px in Chromium: it fits the column with labels big enough to read, zooms and pans
in its own box, a click on a node opens that product's lineage and side panel (owner, domain, quality, ports),
long side-panel lines end in an ellipsis instead of being cut, and the column view draws each product's
columns in that box."""

from __future__ import annotations

import pytest

from conftest import wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-lineage_view")]

BOX = "[class*='st-key-lineage_graph'][data-testid='stVerticalBlock'], .st-key-lineage_graph"


def box_size(page) -> dict:
    return page.eval_on_selector(".st-key-lineage_graph", "e => ({sw: e.scrollWidth, cw: e.clientWidth, "
                                 "svg: e.querySelector('g.node').ownerSVGElement.getBoundingClientRect().width})")


def test_lineage_fits_zooms_pans_and_a_node_click_opens_its_panel(sample_copy, app_server, chromium, screenshot):
    server = app_server(sample_copy("banking"))
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{server.url}/lineage?product=marketing.customer_360")
        wait_for_app(page)
        page.wait_for_selector(".st-key-lineage_graph svg g.node text")
        page.wait_for_timeout(800)
        fit = box_size(page)
        assert fit["sw"] <= fit["cw"] + 2, f"fitted: nothing clipped or hidden sideways {fit}"
        sizes = page.eval_on_selector_all(".st-key-lineage_graph svg g.node text",
                                          "els => els.map(e => e.getBoundingClientRect().height)")
        assert min(sizes) >= 9, f"labels readable: {min(sizes):.1f} px"
        screenshot(page, "lineage-fit-1440")

        page.get_by_text("200%", exact=True).click()
        wait_for_app(page)
        page.wait_for_timeout(1000)
        screenshot(page, "lineage-zoom-200")
        zoomed = box_size(page)
        assert zoomed["svg"] > fit["svg"] * 1.3 and zoomed["sw"] > zoomed["cw"], "zoomed: the box scrolls (pan)"
        page.eval_on_selector(".st-key-lineage_graph", "e => e.scrollLeft = 200")
        assert page.eval_on_selector(".st-key-lineage_graph", "e => e.scrollLeft") > 0

        ellipsis = page.eval_on_selector_all(
            ".st-key-lineage_side [data-testid='stPageLink'] p",
            "els => els.map(e => getComputedStyle(e).textOverflow)")
        assert ellipsis and set(ellipsis) == {"ellipsis"}

        page.get_by_text("Fit", exact=True).click()
        wait_for_app(page)
        node = page.locator(".st-key-lineage_graph svg g.node a", has_text="retail.customers").first
        node.click()
        page.wait_for_url("**product=retail.customers**")
        wait_for_app(page)
        page.get_by_text("Impact", exact=True).wait_for()
        assert "mesh=" in page.url, "the click keeps the mesh and role"
        page.locator(".st-key-lineage_side").get_by_text("hop").first.wait_for()
        # the clicked node's panel: its product's owner, domain, quality and ports, each line cut with an ellipsis
        panel = page.locator(".st-key-lineage_node")
        panel.get_by_text("Owner").first.wait_for()
        text = panel.inner_text()
        assert "retail.customers" in text and "Domain" in text and "Output ports" in text and "Quality" in text
        cut = page.eval_on_selector_all(".st-key-lineage_node div[title]",
                                        "els => els.map(e => [getComputedStyle(e).textOverflow, "
                                        "e.getBoundingClientRect().right])")
        right = page.eval_on_selector(".st-key-lineage_node", "e => e.getBoundingClientRect().right")
        assert cut and {c[0] for c in cut} == {"ellipsis"} and max(c[1] for c in cut) <= right + 1
        screenshot(page, "lineage-node-panel")

        # the column view: each product a box of its columns, fitted and readable, in the same pannable box
        page.get_by_text("Columns", exact=True).click()
        wait_for_app(page)
        page.wait_for_selector(".st-key-lineage_graph svg g.cluster")
        page.wait_for_timeout(800)
        clusters = page.eval_on_selector_all(".st-key-lineage_graph svg g.cluster title",
                                             "els => els.map(e => e.textContent)")
        assert "cluster_retail.customers" in clusters and len(clusters) >= 2, clusters
        columns = page.eval_on_selector_all(".st-key-lineage_graph svg g.node text",
                                            "els => els.map(e => [e.textContent, e.getBoundingClientRect().height])")
        assert any(name == "customer_id" for name, _ in columns) and min(h for _, h in columns) >= 9, columns[:5]
        screenshot(page, "lineage-columns-1440")
    finally:
        context.close()

"""In Chromium: search an abbreviation, land on the product that links the term, see each column's terms and
ports, and open the term on the Glossary page with its definition and where it is used."""

from __future__ import annotations

import re

import pytest

from conftest import wait_for_app
from tests.harness import open_tab, search_for

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-glossary")]


def test_search_otif_then_product_terms_then_the_glossary_term(sample_copy, app_server, page, screenshot):
    server = app_server(sample_copy("supply_chain"))
    search_for(page, "OTIF", at=server.url)
    first = page.locator("[class*='st-key-card_0']")
    link = first.get_by_role("link", name="Carrier performance")
    link.wait_for()
    screenshot(page, "glossary-discover-otif")
    link.click()
    page.wait_for_url(re.compile(r"/product\?(.*&)?product=planning\.carrier_performance"))
    wait_for_app(page)
    open_tab(page, "Terms & ports")
    page.get_by_text("Output ports").wait_for()
    page.get_by_test_id("stMarkdown").filter(has_text="Terms:").get_by_text("On time in full").wait_for()
    screenshot(page, "glossary-product-terms")
    page.goto(f"{server.url}/glossary?term=on_time_in_full")
    wait_for_app(page)
    page.get_by_role("heading", name="On time in full").wait_for()
    page.get_by_test_id("stMarkdown").get_by_text(re.compile("delivered by the promised date")).wait_for()
    page.get_by_role("link", name=re.compile(r"planning\.carrier_performance")).first.wait_for()
    screenshot(page, "glossary-term")

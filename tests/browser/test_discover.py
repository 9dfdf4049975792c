"""A person searches in Chromium, clicks a result and lands on the product page through its deep link;
the deep link alone opens a product page as well."""

from __future__ import annotations

import re

import pytest

from conftest import wait_for_app
from tests.harness import open_tab, search_for

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-discover")]


def test_search_click_a_result_and_land_on_its_product_page(sample_copy, app_server, page, screenshot):
    server = app_server(sample_copy("banking"))
    search_for(page, "custmers retail", at=server.url)
    page.get_by_text(re.compile(r"Read .*custmers")).wait_for()
    first = page.locator("[class*='st-key-card_0']")
    first.get_by_role("link", name="Retail customers").wait_for()
    screenshot(page, "discover")
    first.get_by_role("link", name="Retail customers").click()
    page.wait_for_url(re.compile(r"/product\?(.*&)?product=retail\.customers"))
    wait_for_app(page)
    page.get_by_role("heading", name="Retail customers").wait_for()
    page.get_by_text("Open in workbench").wait_for()
    open_tab(page, "Sample rows")
    page.get_by_text(re.compile(r"First \d+ rows as the role analyst sees them")).wait_for()
    screenshot(page, "product")
    assert "product=retail.customers" in page.url and "tab=Sample" in page.url  # the open tab can be linked
    # the deep link alone opens a product page too
    page.goto(f"{server.url}/product?product=marketing.customer_contacts")
    wait_for_app(page)
    page.get_by_role("heading", name="Customer contact list").wait_for()
    page.wait_for_url(re.compile(r"role=analyst"))  # the page writes mesh and role into the link, then draws again
    wait_for_app(page)
    open_tab(page, "Possible duplicates")
    # duplicates sample key values through the analyst's masked views: slower on a busy machine
    page.get_by_role("link", name=re.compile(r"retail\.customers · \d+% similar")).wait_for(timeout=90_000)
    screenshot(page, "product_duplicates")

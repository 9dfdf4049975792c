"""A link to any page finds the app's server at once: Streamlit's page used to ask the page's own URL first
(`/governance/_stcore/health`, a 404) and wait 100 ms before asking the right one, on every deep link. The
served page now names its server (app/index_page.py); served under a path prefix, it still does."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from conftest import wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-deep-links")]

LINKS = {"/governance": "Governance", "/product?product=retail.customers": "Customers",
         "/lineage?product=marketing.customer_360": "Lineage", "/": "Retail bank data mesh"}


def _open(chromium, url: str) -> tuple[list[tuple[str, int]], str]:
    """(every health and host-config answer the page got, as (path, status); the page's first heading)."""
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    answers: list[tuple[str, int]] = []
    context.on("response", lambda r: answers.append((urlparse(r.url).path, r.status))
               if "/_stcore/" in r.url and "stream" not in r.url else None)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(url)
        wait_for_app(page)
        heading = page.get_by_test_id("stMain").locator("h1").first.inner_text()
    finally:
        context.close()
    return answers, heading


def _server_checks(answers: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return [(path, status) for path, status in answers if path.endswith(("_stcore/health", "_stcore/host-config"))]


def test_a_deep_link_asks_the_server_once_at_its_root_and_opens_its_page(sample_copy, app_server, chromium):
    server = app_server(sample_copy("banking"))
    for link, heading in LINKS.items():
        answers, shown = _open(chromium, server.url + link)
        assert heading.lower() in shown.lower(), (link, shown)
        assert sorted(_server_checks(answers)) == [("/_stcore/health", 200), ("/_stcore/host-config", 200)], link


def test_served_under_a_path_prefix_every_link_still_finds_its_server(sample_copy, app_server, chromium):
    server = app_server(sample_copy("banking"), base_path="meshwork")
    for link, heading in LINKS.items():
        answers, shown = _open(chromium, server.url + link)
        assert heading.lower() in shown.lower(), (link, shown)
        assert sorted(_server_checks(answers)) == [("/meshwork/_stcore/health", 200),
                                                   ("/meshwork/_stcore/host-config", 200)], link

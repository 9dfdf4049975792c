"""A person opens the app in Chromium and sees the mesh's domains."""

from __future__ import annotations

import pytest

from conftest import wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-home")]


def test_home_in_chromium_lists_the_domains(minimesh, app_server, page, screenshot):
    server = app_server(minimesh)
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_role("heading", name="Mini mesh").wait_for()
    page.get_by_text("Domains", exact=True).first.wait_for()
    page.get_by_text("retail", exact=True).first.wait_for()
    page.get_by_text("risk", exact=True).first.wait_for()
    screenshot(page, "home")
    # the risk domain's card, as the analyst sees it: its restricted product is locked, so its columns
    # (and whether they hold PII) are not shown
    assert page.get_by_text("3 products · 2 with PII").count() == 1

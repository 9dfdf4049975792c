"""Offline: every page of the app, opened in Chromium, asks nothing of any host but the app's own server
(no favicon from a font host, no script, font or image from a CDN); the upload limit says what the README says."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from conftest import wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-offline")]

PAGES = ["home", "discover", "product", "lineage", "workbench", "marketplace", "dashboards", "scorecards",
         "review", "governance", "publish"]


def test_no_page_makes_a_request_to_another_host(sample_copy, app_server, chromium):
    server = app_server(sample_copy("banking"))
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        for name in PAGES:
            page.goto(f"{server.url}/{name}")
            wait_for_app(page)
            page.get_by_test_id("stMain").wait_for()
            page.wait_for_timeout(800)  # favicons, fonts and chart assets load after the script run
        upload = page.get_by_test_id("stFileUploaderDropzoneInstructions").first.inner_text()
    finally:
        context.close()
    hosts = {urlparse(url).hostname for url in requests if not url.startswith(("data:", "blob:", "about:"))}
    assert hosts == {"127.0.0.1"}, sorted(u for u in requests if urlparse(u).hostname != "127.0.0.1")[:10]
    assert any("favicon" in u or "media" in u for u in requests)  # the page icon came from our own server
    assert "100MB" in upload.replace(" ", "") and "200" not in upload

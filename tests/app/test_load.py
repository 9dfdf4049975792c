"""Load safety of the app: 20 browser sessions at once on one real server, each running a governed
cross-domain query filled in by the Workbench deep link and run by its Run shortcut: every session gets its result, and there is exactly one
usage event per product per query — none lost, none failed."""

from __future__ import annotations

from urllib.parse import quote

import pytest

import catalog
from conftest import wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-load")]

JOIN = "SELECT c.age, s.score FROM retail.customers c JOIN risk.scores s USING (customer_id) ORDER BY c.age"
SESSIONS = 20


def test_twenty_concurrent_app_sessions_lose_no_usage_event(minimesh, app_server, chromium):
    server = app_server(minimesh)
    contexts = [chromium.new_context(viewport={"width": 1200, "height": 800}) for _ in range(SESSIONS)]
    try:
        pages = [c.new_page() for c in contexts]
        for page in pages:
            page.set_default_timeout(120_000)
            page.goto(f"{server.url}/workbench?sql={quote(JOIN)}", wait_until="commit")
        for page in pages:  # the link fills the cell; each person presses Ctrl+Enter, all twenty in flight at once
            page.frame_locator("iframe[title*='code_editor']").first.locator(".ace_content").first.click()
            page.keyboard.press("Control+Enter")
        for page in pages:
            page.get_by_text("3 rows", exact=False).first.wait_for()
            wait_for_app(page)
            assert page.get_by_test_id("stException").count() == 0
    finally:
        for context in contexts:
            context.close()
    usage = catalog.open_mesh(minimesh).usage()
    per_product = dict(usage.group_by("product_id").len().iter_rows())
    assert per_product == {"retail.customers": SESSIONS, "risk.scores": SESSIONS}
    assert usage["status"].unique().to_list() == ["ok"]
    assert usage["query_id"].n_unique() == SESSIONS

"""Load safety of the app: 20 app sessions at once on one real server, each running a governed cross-domain
query filled in by the Workbench deep link and run by the editor's submit (Ctrl+Enter): every session gets its
result, and there is exactly one usage event per product per query — none lost, none failed.

The sessions speak the app's websocket protocol (tests/state/appsession.py), as a browser tab does, so twenty
of them fit on a small machine; the browser journeys of the workbench are in tests/browser/.
"""

from __future__ import annotations

import asyncio

import catalog
from tests.state.appsession import AppSession, run_sessions

JOIN = "SELECT c.age, s.score FROM retail.customers c JOIN risk.scores s USING (customer_id) ORDER BY c.age"
SESSIONS = 20


async def _twenty(url: str) -> list:
    apps = [AppSession(url, timeout_s=120) for _ in range(SESSIONS)]
    try:
        for app in apps:
            await app.__aenter__()
        pages = await asyncio.gather(*(app.open("workbench", {"sql": JOIN}) for app in apps))
        assert all(page.has_text("A link filled a cell below") for page in pages)
        # each person presses Ctrl+Enter: all twenty runs in flight at once
        return await asyncio.gather(*(app.submit_editor(page, JOIN) for app, page in zip(apps, pages)))
    finally:
        for app in apps:
            await app.close()


def test_twenty_concurrent_app_sessions_lose_no_usage_event(minimesh, app_server):
    server = app_server(minimesh)
    answers = run_sessions(_twenty(server.url))
    for page in answers:
        assert page.has_text("3 rows") and page.has_text("read retail.customers, risk.scores"), page.texts()[-5:]
        assert page.exceptions == []
    usage = catalog.open_mesh(minimesh).usage()
    per_product = dict(usage.group_by("product_id").len().iter_rows())
    assert per_product == {"retail.customers": SESSIONS, "risk.scores": SESSIONS}
    assert usage["status"].unique().to_list() == ["ok"]
    assert usage["query_id"].n_unique() == SESSIONS

"""Two app servers (app/serve.py) on two ports over one PostgreSQL state, as behind a load balancer: a request
sent on one is decided on the other, the grant is honoured at once by a query on the first, and what each
records (usage, audit) is one history, seen by both without a restart.

Identity comes from the trusted proxy header, as in tests/browser/test_access.py; each browser context sends
its own. The state is a fresh schema of this module's database (tests/statebackends.py).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

import catalog
from conftest import wait_for_app
from tests import harness
from tests.access.test_identity import configure
from tests.browser.test_access import CONSUMER, OWNER, browser_as, metric, open_marketplace, open_tab, send_request
from tests.statebackends import fresh_schema

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-two_servers")]

LIMITS = "SELECT count(*) AS limits FROM risk.limits"


def run_in_workbench(page, url: str, sql: str) -> None:
    page.goto(f"{url}/workbench?sql={quote(sql)}")
    wait_for_app(page)
    page.get_by_text("A link filled a cell below").wait_for()
    harness.run_cell(page)


def test_a_grant_approved_on_one_server_is_honoured_at_once_by_a_query_on_the_other(
        minimesh, app_server, chromium, screenshot, monkeypatch, state_pg_database):
    monkeypatch.delenv("MESHWORK_USER", raising=False)
    url = fresh_schema(state_pg_database)
    root = configure(minimesh, trusted_header="X-Forwarded-Email")
    one, other = app_server(root, env={"MESHWORK_STATE_URL": url}), app_server(root, env={"MESHWORK_STATE_URL": url})
    assert one.port != other.port
    consumer_ctx, consumer = browser_as(chromium, CONSUMER)
    owner_ctx, owner = browser_as(chromium, OWNER)
    try:
        run_in_workbench(consumer, one.url, LIMITS)  # before any grant: refused on server one
        consumer.get_by_text("Refused.").first.wait_for()

        open_marketplace(consumer, one.url, CONSUMER)  # an access request is an agreement on a port
        send_request(consumer, "Credit line review for the Q3 campaign", 7, "risk.limits · Limits · restricted")
        consumer.get_by_text("Agreement #1 requested from", exact=False).wait_for()

        open_marketplace(owner, other.url, OWNER)  # server two sees the request server one stored
        assert metric(owner, "Requests to decide") == "1"
        open_tab(owner, "Requests to decide")
        owner.get_by_text("Purpose: Credit line review for the Q3 campaign", exact=False).wait_for()
        owner.get_by_role("button", name="Approve").click()
        owner.get_by_text("Agreement #1 approved.").wait_for()

        run_in_workbench(consumer, one.url, LIMITS)  # server one honours server two's grant, no restart
        consumer.get_by_text("1 row", exact=False).first.wait_for()
        assert consumer.get_by_text("Refused.").count() == 0
        screenshot(consumer, "two-servers-grant-honoured")
        open_marketplace(consumer, other.url, CONSUMER)
        open_tab(consumer, "My requests & grants")
        assert metric(consumer, "My active grants") == "1"
    finally:
        consumer_ctx.close()
        owner_ctx.close()

    monkeypatch.setenv("MESHWORK_STATE_URL", url)  # the library, on the same state
    mesh = catalog.open_mesh(root)
    usage = mesh.usage_log.frame()
    assert (usage["user"] == CONSUMER).sum() >= 1 and "risk.limits" in usage["product_id"].to_list()
    actions = [(r["actor"], r["action"]) for r in mesh.access.audit().iter_rows(named=True)]
    assert (CONSUMER, "agreement.request") in actions and (OWNER, "agreement.approve") in actions
    assert (CONSUMER, "grant.use") in actions
    assert not (root / ".meshwork" / "state.sqlite").exists(), "neither server wrote a SQLite state"
    mesh.state.close()

"""Two people in two browsers: a consumer asks for access (an agreement), the owner approves, the consumer gets it.

There is no OIDC provider here, so the server trusts a reverse-proxy header
(`identity.trusted_header: X-Forwarded-Email`) and each browser context sends its own,
the way a proxy would. Streamlit exposes the headers of the page's websocket request
to the script as `st.context.headers`, and Playwright's `extra_http_headers` are sent
on that request too.
"""

from __future__ import annotations

import pytest

import catalog
from conftest import wait_for_app
from tests.access.test_identity import configure
from tests.harness import open_tab

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-access")]

OWNER = "rui.costa@bank.example"
CONSUMER = "bo@bank.example"


def browser_as(chromium, user: str | None):
    headers = {"X-Forwarded-Email": user} if user else {}
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, extra_http_headers=headers)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return context, page


def open_marketplace(page, url: str, who: str) -> None:
    page.goto(f"{url}/marketplace")
    wait_for_app(page)
    page.get_by_text(f"Acting as {who}").wait_for()


def metric(page, label: str) -> str:
    return page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue").inner_text()


def send_request(page, purpose: str, days: int, product: str | None = None) -> None:
    """Fill the Request access form (the product's option label, unless a link chose it) and send it."""
    if product:
        page.get_by_test_id("stSelectbox").filter(has_text="Product").first.click()
        page.get_by_role("option", name=product).click()
        wait_for_app(page)
    page.get_by_role("textbox", name="Purpose").fill(purpose)
    field = page.get_by_label("Duration (days)")
    field.fill(str(days))
    field.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Send request").click()


def test_request_in_one_browser_and_approval_in_another(minimesh, app_server, chromium, screenshot, monkeypatch):
    monkeypatch.delenv("MESHWORK_USER", raising=False)
    root = configure(minimesh, trusted_header="X-Forwarded-Email")
    server = app_server(root)
    consumer_ctx, consumer = browser_as(chromium, CONSUMER)
    owner_ctx, owner = browser_as(chromium, OWNER)
    stranger_ctx, stranger = browser_as(chromium, None)
    try:
        open_marketplace(consumer, server.url, CONSUMER)
        consumer.get_by_text("bo@bank.example (from the proxy)").wait_for()
        send_request(consumer, "Credit line review for the Q3 campaign", 7, "risk.limits · Limits · restricted")
        consumer.get_by_text("Agreement #1 requested from risk-team@bank.example, rui.costa@bank.example.").wait_for()
        wait_for_app(consumer)
        screenshot(consumer, "access-request-consumer")

        open_marketplace(owner, server.url, OWNER)
        assert metric(owner, "Requests to decide") == "1"
        open_tab(owner, "Requests to decide")
        owner.get_by_text("Purpose: Credit line review for the Q3 campaign · 7 day(s)", exact=False).wait_for()
        screenshot(owner, "access-request-owner")
        owner.get_by_role("button", name="Approve").click()
        owner.get_by_text("Agreement #1 approved.").wait_for()

        consumer.reload()
        wait_for_app(consumer)
        open_tab(consumer, "My requests & grants")
        consumer.get_by_text("My grants").wait_for()
        assert metric(consumer, "My active grants") == "1"
        screenshot(consumer, "access-grants-consumer")

        open_marketplace(stranger, server.url, "anonymous")
        stranger.get_by_text("Not identified").wait_for()
        assert metric(stranger, "Requests to decide") == "0"
    finally:
        for context in (consumer_ctx, owner_ctx, stranger_ctx):
            context.close()

    mesh = catalog.open_mesh(root)
    grant, = mesh.access.grants().to_dicts()
    assert (grant["user"], grant["granted_by"], grant["product_id"], grant["status"]) == \
        (CONSUMER, OWNER, "risk.limits", "active")
    assert mesh.session(role="analyst", user=CONSUMER).sql("SELECT count(*) AS n FROM risk.limits")["n"][0] == 2
    assert [(r["actor"], r["action"]) for r in mesh.access.audit().iter_rows(named=True)][:2] == [
        (CONSUMER, "agreement.request"), (OWNER, "agreement.approve")]  # an access request is an agreement
    assert mesh.agreements.get(1).grant_id == grant["id"] and mesh.access.grants()["request_id"].is_null().all()

"""In Chromium, two people: a consumer searches a glossary synonym, lands on the product, sees its term, asks
for its personal data unmasked with a purpose and a duration; the owner approves in another browser; the
consumer's query then returns the data unmasked; the agreement expires (the scheduled `meshwork agreement
expire`, run as of a later day) and the same query is masked again.

Identity comes from a trusted proxy header, as in test_access.py: each browser context sends its own.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

import catalog
from catalog.cli import app as cli
from conftest import AppServer, wait_for_app
from tests import harness
from tests.access.test_identity import configure
from tests.browser.test_access import browser_as, open_tab, send_request
from tests.samplecopy import copy_sample

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-agreement-journey")]

OWNER = "ana.silva@bank.example"  # owner of retail.customers and of the retail domain
CONSUMER = "bo@bank.example"      # an analyst: personal data masked
EMAIL_SQL = "SELECT email FROM retail.customers WHERE email IS NOT NULL ORDER BY customer_id LIMIT 1"


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    """One server for the module, on a private copy of the banking sample that trusts a proxy header."""
    root = copy_sample(tmp_path_factory.mktemp("journey"))
    configure(root, trusted_header="X-Forwarded-Email")
    with pytest.MonkeyPatch.context() as env:
        env.delenv("MESHWORK_USER", raising=False)  # who acts comes from the header alone
        server = AppServer(root)
    try:
        yield server, root
    finally:
        server.stop()


def query_email(page, url: str) -> str:
    """Run the consumer's query in the workbench, as a person does, and read the e-mail cell it returns."""
    page.goto(f"{url}/workbench?sql={quote(EMAIL_SQL)}")
    wait_for_app(page)
    harness.run_cell(page)
    cell = page.locator("[data-testid='stDataFrame'] td[role='gridcell']").filter(has_text="@").first
    cell.wait_for(state="attached")
    return cell.inner_text()


def test_synonym_to_product_to_term_to_agreement_to_unmasked_query_to_expiry(journey, chromium, screenshot):
    server, root = journey
    consumer_ctx, consumer = browser_as(chromium, CONSUMER)
    owner_ctx, owner = browser_as(chromium, OWNER)
    try:
        assert query_email(consumer, server.url).startswith("***@")  # masked for an analyst, to begin with

        harness.search_for(consumer, "client", at=server.url)  # a synonym of the glossary term Customer
        link = consumer.locator("[class*='st-key-card_0']").get_by_role("link", name="Retail customers")
        link.wait_for()
        screenshot(consumer, "agreement-journey-1-search-synonym")
        link.click()
        consumer.wait_for_url(re.compile(r"/product\?(.*&)?product=retail\.customers"))
        wait_for_app(consumer)
        open_tab(consumer, "Terms & ports")
        consumer.get_by_test_id("stMarkdown").filter(has_text="Terms:").get_by_text("Customer").first.wait_for()
        screenshot(consumer, "agreement-journey-2-product-term")
        consumer.get_by_role("link", name="Request access to port sql").click()
        consumer.wait_for_url(re.compile(r"/marketplace\?(.*&)?port=sql"))
        wait_for_app(consumer)
        consumer.get_by_text("Its personal data unmasked").click()
        wait_for_app(consumer)
        send_request(consumer, "Churn model for the Q3 retention campaign", 2)
        consumer.get_by_text("Agreement #1 requested from ana.silva@bank.example.").wait_for()
        wait_for_app(consumer)
        screenshot(consumer, "agreement-journey-3-requested")

        owner.goto(f"{server.url}/marketplace?tab={quote('Requests to decide')}")
        wait_for_app(owner)
        owner.get_by_text(f"Acting as {OWNER}").wait_for()
        owner.get_by_text(re.compile("Purpose: Churn model for the Q3 retention campaign · 2 day")).wait_for()
        screenshot(owner, "agreement-journey-4-owner-decides")
        owner.get_by_role("button", name="Approve").click()
        owner.get_by_text("Agreement #1 approved.").wait_for()
        wait_for_app(owner)
        open_tab(owner, "Agreements on my products")
        owner.get_by_text(re.compile(r"1 agreement\(s\) on your products end within 7 days: #1")).wait_for()
        screenshot(owner, "agreement-journey-5-owner-reminder")

        email = query_email(consumer, server.url)
        assert "@" in email and "*" not in email, email  # the agreement's grant unmasks it
        screenshot(consumer, "agreement-journey-6-unmasked")

        # the scheduled job, run as of three days on: the 2-day agreement is due, so it ends now with its grant
        ran = CliRunner().invoke(cli, ["agreement", "expire", str(root), "--as-of",
                                       (date.today() + timedelta(days=3)).isoformat(), "--user", OWNER])
        assert ran.exit_code == 0 and ran.output.startswith("agreement #1: expired"), ran.output

        assert query_email(consumer, server.url).startswith("***@")  # masked again (the lapse is audited)
        consumer.get_by_text("so its personal data is masked again", exact=False).wait_for()  # and says why
        screenshot(consumer, "agreement-journey-7-masked-again")
        consumer.goto(f"{server.url}/marketplace?tab={quote('My requests & grants')}")
        wait_for_app(consumer)
        consumer.get_by_text("My agreements").wait_for()
        screenshot(consumer, "agreement-journey-8-my-agreements")
    finally:
        consumer_ctx.close()
        owner_ctx.close()

    mesh = catalog.open_mesh(root)
    made = mesh.agreements.get(1)
    assert (made.requested_by, made.kind, made.port, made.status, made.owner_approved_by) == \
        (CONSUMER, "pii", "sql", "expired", OWNER)
    assert mesh.access.grants(user=CONSUMER)["status"].to_list() == ["expired"]
    actions = [a for a in mesh.access.audit()["action"].to_list() if a.startswith(("agreement", "grant"))]
    assert actions[:6] == ["agreement.request", "agreement.approve", "agreement.approved", "grant.issue",
                           "agreement.activate", "grant.use"]
    assert actions[-3:] == ["grant.expire", "agreement.expire", "grant.use"]

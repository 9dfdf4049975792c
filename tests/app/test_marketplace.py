"""The Access & alerts page and the identity-aware role switcher, through Streamlit's AppTest.

AppTest has no request headers, so users are set the way a local deployment sets them:
mesh.yaml `identity.local_user`, or `st.session_state["user"]` (server-side only).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from apptest import open_app, page_links, plain

import catalog
from tests.governance.test_changes import change_customers, consumer_mesh
from tests.access.test_identity import configure

OWNER = "rui.costa@bank.example"
CONSUMER = "bo@bank.example"


@pytest.fixture(autouse=True)
def _no_env_user(monkeypatch):
    monkeypatch.delenv("MESHWORK_USER", raising=False)


def open_page(mesh: Path, page: str | None = "views/marketplace.py", user: str | None = None,
              tab: str | None = None, **state) -> AppTest:
    """Run one page (AppTest runs it alone) with `tab` open, or with page=None the app entry with its sidebar."""
    return open_app(mesh, page, params={"tab": tab}, timeout=60, **({"user": user} if user else {}), **state)


def as_user(at: AppTest, user: str, tab: str | None = None) -> AppTest:
    """The same browser session, now as `user`, with `tab` open (or the one open before)."""
    at.session_state["user"] = user
    if tab:
        at.query_params["tab"] = tab
    return at.run()


def role_options(at: AppTest) -> list[str]:
    return list(next(s for s in at.sidebar.selectbox if s.label == "Role").options)


def tab(at: AppTest, label: str):
    return next(t for t in at.tabs if t.label == label)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def texts(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])


def test_role_switcher_offers_only_the_roles_each_user_holds(minimesh):
    root = configure(minimesh)
    assert role_options(open_page(root, None, user="ana.silva@bank.example")) == ["analyst", "steward"]
    assert role_options(open_page(root, None, user=OWNER)) == ["analyst", "risk_officer"]
    stranger = open_page(root, None, user="stranger@elsewhere.example")
    assert role_options(stranger) == ["analyst"]
    assert "not in this mesh's users: least-privileged view" in texts(stranger)
    forged = open_page(root, None, user="ana.silva@bank.example\nX-Evil: 1")
    assert role_options(forged) == ["analyst"] and not forged.exception
    assert "Not identified" in texts(forged)


def test_a_stale_role_in_session_falls_back_to_what_the_user_holds(minimesh):
    at = open_page(configure(minimesh), None, user=CONSUMER, role="steward")
    assert not at.exception
    assert next(s for s in at.sidebar.selectbox if s.label == "Role").value == "analyst"


def test_local_user_from_mesh_yaml_is_who_make_run_acts_as(minimesh):
    at = open_page(configure(minimesh, local_user="Ana.Silva@bank.example"), page=None)
    assert not at.exception
    assert "**ana.silva@bank.example** (local user)" in texts(at)
    assert role_options(at) == ["analyst", "steward"]


def request_in_page(at: AppTest, product: str, purpose: str, days: int | None = None, until=None,
                    kind: str | None = None, consumer: str | None = None) -> AppTest:
    """Fill the Request access tab (product, then port, kind, purpose, duration, consumer) and send it."""
    at.selectbox(key="agreement_product").set_value(product)
    at.run()
    if kind:
        at.radio(key="agreement_kind").set_value(kind)
    at.text_area(key="agreement_purpose").set_value(purpose)
    if days is not None:
        at.number_input(key="agreement_days").set_value(days)
    if until is not None:
        at.date_input(key="agreement_until").set_value(until)
    if consumer:
        at.selectbox(key="agreement_consumer").set_value(consumer)
    at.button(key="agreement_send").click()
    return at.run()


def test_request_is_an_agreement_the_owner_approves_and_the_consumer_then_queries(minimesh):
    root = configure(minimesh)
    at = open_page(root, user=CONSUMER)
    assert at.selectbox(key="agreement_port").value == "sql"  # the governed SQL view every product has
    at = request_in_page(at, "risk.limits", "Credit line review for the Q3 campaign", days=14)
    assert not at.exception
    assert plain(at.success[0].value) == ("Agreement #1 requested from risk-team@bank.example, "
                                          "rui.costa@bank.example.")

    at = as_user(at, "ana.silva@bank.example")  # not an owner of risk.limits: nothing to decide
    assert metric(at, "Requests to decide") == "0"
    at = as_user(at, OWNER)
    assert metric(at, "Requests to decide") == "1"  # seen at a glance, whichever tab is open
    at = as_user(at, OWNER, tab="Requests to decide")
    decide = tab(at, "Requests to decide")
    assert "Credit line review for the Q3 campaign · 14 day(s) · approval owner" in \
        plain(" ".join(c.value for c in decide.caption))
    decide.button(key="approve_1").click()
    at.run()
    assert not at.exception and plain(at.success[0].value) == "Agreement #1 approved."
    assert metric(at, "Requests to decide") == "0"

    at = as_user(at, CONSUMER, tab="My requests & grants")
    mine = tab(at, "My requests & grants").dataframe
    assert mine[0].value.iloc[0][["product_id", "port", "status"]].tolist() == ["risk.limits", "sql", "active"]
    assert mine[1].value.iloc[0][["product_id", "kind", "status"]].tolist() == ["risk.limits", "access", "active"]
    assert metric(at, "My active grants") == "1"
    mesh = catalog.open_mesh(root)
    assert mesh.session(role="analyst", user=CONSUMER).sql("SELECT count(*) AS n FROM risk.limits")["n"][0] == 2
    assert mesh.access.grants()["request_id"].is_null().all()  # one path: the agreement, whose grant the policy reads
    at = as_user(at, CONSUMER, tab="Audit log")
    events = tab(at, "Audit log").dataframe[0].value  # newest first: the query above relied on the grant
    assert events["action"].tolist()[:6] == ["grant.use", "agreement.activate", "grant.issue", "agreement.approved",
                                             "agreement.approve", "agreement.request"]
    assert at.get("download_button")


def test_owner_rejects_with_a_reason_and_the_consumer_reads_it(minimesh):
    root = configure(minimesh)
    catalog.open_mesh(root).agreements.request(CONSUMER, "risk.limits", "sql",
                                               "Credit line review for the Q3 campaign", 30)
    at = open_page(root, user=OWNER, tab="Requests to decide")
    decide = tab(at, "Requests to decide")
    decide.button(key="reject_1").click()
    at.run()
    assert "Agreement #1: give a reason." in plain(at.error[0].value)  # refused, shown, not a traceback
    tab(at, "Requests to decide").text_input(key="reason_1").set_value("Use risk.scores; limits are for risk only.")
    tab(at, "Requests to decide").button(key="reject_1").click()
    at.run()
    at = as_user(at, CONSUMER, tab="My requests & grants")
    mine = tab(at, "My requests & grants").dataframe[0].value
    assert mine.iloc[0][["status", "reason"]].tolist() == ["rejected", "Use risk.scores; limits are for risk only."]


def test_bad_requests_show_a_message_with_the_reason_and_write_nothing(minimesh):
    root = configure(minimesh)
    at = open_page(root, user=CONSUMER)
    at = request_in_page(at, "retail.customers", "Churn", kind="pii")
    assert not at.exception and "at least 10 characters" in plain(at.error[0].value)
    at = request_in_page(at, "retail.customers", "Churn model for the Q3 campaign", kind="pii",
                         until=date.today() - timedelta(days=3))
    assert not at.exception and "is in the past; give a future date" in plain(at.error[0].value)
    mesh = catalog.open_mesh(root)
    assert mesh.agreements.agreements().is_empty() and mesh.access.grants().is_empty()
    refused = mesh.access.audit().filter(pl.col("outcome") == "refused")["action"].to_list()
    assert refused == ["agreement.request", "agreement.request"]


def test_owner_sees_the_expiring_agreement_renews_it_and_the_consumer_ends_another(minimesh):
    root = configure(minimesh)
    desk = catalog.open_mesh(root).agreements
    soon = desk.request(CONSUMER, "risk.limits", "sql", "Credit line review for the Q3 campaign", 3)
    desk.approve(soon.id, OWNER)
    later = desk.request(CONSUMER, "risk.scores", "sql", "Scores for the Q3 campaign review", 60)
    at = open_page(root, user=OWNER, tab="Agreements on my products")
    assert metric(at, "Expiring within 7 days") == "1"
    assert f"1 agreement(s) on your products end within 7 days: #{soon.id} (risk.limits" in plain(at.warning[0].value)
    on_mine = tab(at, "Agreements on my products")
    on_mine.number_input(key="renew_days").set_value(30)
    on_mine.button(key="renew_button").click()
    at.run()
    assert plain(at.success[0].value) == f"Agreement #{soon.id} renewed for 30 more day(s)."
    assert metric(at, "Expiring within 7 days") == "0"
    renewed = catalog.open_mesh(root).agreements.get(soon.id)
    assert renewed.days == 3 and renewed.expires_at > desk.get(soon.id).activated_at[:10]

    at = as_user(at, CONSUMER, tab="My requests & grants")  # the consumer withdraws the undecided one
    mine = tab(at, "My requests & grants")
    mine.selectbox(key="my_agreement").set_value(later.id)
    at.run()
    tab(at, "My requests & grants").button(key="cancel_button").click()
    at.run()
    assert plain(at.success[0].value) == f"Agreement #{later.id} cancelled."
    assert catalog.open_mesh(root).agreements.get(later.id).status == "cancelled"

    at = as_user(at, OWNER, tab="Agreements on my products")  # the owner revokes the renewed one
    tab(at, "Agreements on my products").text_input(key="revoke_reason").set_value("Campaign ended early")
    tab(at, "Agreements on my products").button(key="revoke_button").click()
    at.run()
    assert plain(at.success[0].value) == f"Agreement #{soon.id} revoked."
    mesh = catalog.open_mesh(root)
    assert mesh.access.grants(user=CONSUMER)["status"].to_list() == ["revoked"]
    with pytest.raises(catalog.AccessDenied):
        mesh.session(role="analyst", user=CONSUMER).sql("SELECT count(*) AS n FROM risk.limits")


def test_a_request_for_a_product_i_own_names_it_as_the_consumer(minimesh):
    root = configure(minimesh)
    at = open_page(root, user=OWNER)  # rui owns the risk products and asks for retail data for one of them
    at = request_in_page(at, "retail.customers", "Exposure by customer for the risk model", kind="pii",
                         consumer="product:risk.customer_risk")
    assert not at.exception, at.exception
    made, = catalog.open_mesh(root).agreements.agreements().to_dicts()
    assert (made["consumer_kind"], made["consumer"], made["kind"], made["status"]) == \
        ("product", "risk.customer_risk", "pii", "requested")


def test_product_page_links_each_port_to_the_request_and_lists_my_agreements(minimesh):
    root = configure(minimesh)
    catalog.open_mesh(root).agreements.request(CONSUMER, "risk.limits", "sql",
                                               "Credit line review for the Q3 campaign", 30)
    at = open_app(root, "views/product.py", params={"product": "retail.customers", "tab": "Terms & ports"},
                  timeout=60, user=CONSUMER)
    assert not at.exception
    link = next(link for link in page_links(at) if link["label"] == "Request access to port sql")
    assert (link["label"], link["product"], link["port"], link["tab"]) == \
        ("Request access to port sql", "retail.customers", "sql", "Request access")
    at = open_app(root, "views/product.py", params={"product": "risk.limits", "tab": "Terms & ports"},
                  timeout=60, user=CONSUMER, role="analyst")
    assert not at.exception


def test_inbox_shows_the_alert_with_its_impact_for_the_downstream_owner(minimesh):
    root = consumer_mesh(configure(minimesh))
    catalog.open_mesh(root).changes.sync()
    change_customers(root, lambda d: d["columns"].pop(1))
    assert metric(open_page(root, user=OWNER), "New alerts") == "1"
    at = open_page(root, user=OWNER, tab="Subscriptions & alerts")
    alerts = tab(at, "Subscriptions & alerts")
    body = plain(" ".join([m.value for m in alerts.markdown] + [c.value for c in alerts.caption]))
    assert "BREAKING" in body and "column full_name removed" in body
    assert "Your products affected: risk.customer_risk · your columns: risk.customer_risk.full_name" in body
    alerts.button[0].click()  # mark all read
    at.run()
    assert metric(at, "New alerts") == "0" and "new" not in " ".join(m.value for m in at.markdown)


def test_owner_certifies_and_consumer_rates_and_comments(minimesh):
    root = configure(minimesh)
    at = open_page(root, user="ana.silva@bank.example", tab="Trust & ratings")
    trust = tab(at, "Trust & ratings")
    trust.selectbox(key="trust_product").set_value("retail.customers")
    at.run()
    tab(at, "Trust & ratings").button(key="certify_button").click()
    at.run()
    assert at.success[0].value == "retail.customers certified."
    at = as_user(at, CONSUMER)
    trust = tab(at, "Trust & ratings")
    assert all(b.key != "certify_button" for b in trust.button)  # only owners may certify
    trust.text_area(key="comment_text").set_value("Reliable; e-mails lag a day.")
    trust.button(key="comment_button").click()
    at.run()
    signal = catalog.open_mesh(root).trust("retail.customers")
    assert signal.certified and signal.certified_by == "ana.silva@bank.example" and signal.comments == 1
    assert "Reliable; e-mails lag a day." in texts(at)
    metrics = {m.label: m.value for m in tab(at, "Trust & ratings").metric}
    assert metrics["Certification"] == "Certified"


def test_open_mesh_without_identity_config_keeps_todays_behaviour(minimesh):
    at = open_page(minimesh, None)
    assert set(role_options(at)) == {"analyst", "steward", "risk_officer"}
    spec = yaml.safe_load((minimesh / "mesh.yaml").read_text())
    assert "identity" not in spec

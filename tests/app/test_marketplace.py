"""The Access & alerts page and the identity-aware role switcher, through Streamlit's AppTest.

AppTest has no request headers, so users are set the way a local deployment sets them:
mesh.yaml `identity.local_user`, or `st.session_state["user"]` (server-side only).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from apptest import open_app, plain

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


def test_request_then_owner_approves_then_consumer_sees_the_grant_and_can_query(minimesh):
    root = configure(minimesh)
    at = open_page(root, user=CONSUMER)
    form = tab(at, "Request access")
    form.selectbox[0].set_value("risk.limits")
    form.text_area[0].set_value("Credit line review for the Q3 campaign")
    form.button[0].click()
    at.run()
    assert not at.exception
    assert plain(at.success[0].value).startswith("Request #1 sent to")

    at = as_user(at, "ana.silva@bank.example")  # not an owner of risk.limits: nothing to decide
    assert metric(at, "Requests to decide") == "0"
    at = as_user(at, OWNER)
    assert metric(at, "Requests to decide") == "1"  # seen at a glance, whichever tab is open
    at = as_user(at, OWNER, tab="Requests to decide")
    decide = tab(at, "Requests to decide")
    assert "Credit line review for the Q3 campaign" in " ".join(c.value for c in decide.caption)
    decide.number_input(key="days_1").set_value(14)
    decide.button(key="approve_1").click()
    at.run()
    assert not at.exception and plain(at.success[0].value) == "Request #1 approved for 14 day(s)."

    at = as_user(at, CONSUMER, tab="My requests & grants")
    grants = tab(at, "My requests & grants").dataframe[0].value
    assert grants.iloc[0][["product_id", "kind", "status"]].tolist() == ["risk.limits", "access", "active"]
    assert metric(at, "My active grants") == "1"
    mesh = catalog.open_mesh(root)
    assert mesh.session(role="analyst", user=CONSUMER).sql("SELECT count(*) AS n FROM risk.limits")["n"][0] == 2
    at = as_user(at, CONSUMER, tab="Audit log")
    events = tab(at, "Audit log").dataframe[0].value  # newest first: the query above relied on the grant
    assert events["action"].tolist()[:3] == ["grant.use", "access.approve", "access.request"]
    assert at.get("download_button")


def test_owner_rejects_with_a_reason_and_the_consumer_reads_it(minimesh):
    root = configure(minimesh)
    catalog.open_mesh(root).access.request(CONSUMER, "risk.limits", "Credit line review for the Q3 campaign")
    at = open_page(root, user=OWNER, tab="Requests to decide")
    decide = tab(at, "Requests to decide")
    decide.button(key="reject_1").click()
    at.run()
    assert "Give the requester a reason" in at.error[0].value  # refused, shown, not a traceback
    tab(at, "Requests to decide").text_input(key="reason_1").set_value("Use risk.scores; limits are for risk only.")
    tab(at, "Requests to decide").button(key="reject_1").click()
    at.run()
    at = as_user(at, CONSUMER, tab="My requests & grants")
    mine = tab(at, "My requests & grants").dataframe[-1].value
    assert mine.iloc[0][["status", "reason"]].tolist() == ["rejected", "Use risk.scores; limits are for risk only."]


def test_bad_request_shows_a_message_not_a_traceback(minimesh):
    at = open_page(configure(minimesh), user=CONSUMER)
    form = tab(at, "Request access")
    form.selectbox[0].set_value("retail.branches")
    form.text_area[0].set_value("Branches for the campaign")
    form.button[0].click()
    at.run()
    assert not at.exception and "not restricted" in at.error[0].value


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

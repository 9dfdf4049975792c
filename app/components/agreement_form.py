"""The access-agreement forms of the Access & alerts page, drawing only: each draws its widgets and hands back
what the person asked for when they press its button (None until then); the page acts on it through the
agreement desk (catalog.access.agreements), which owns the choices and the rules."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

import catalog
from catalog.access.agreements import MAX_DAYS
from catalog.numbers import moment_text
from components.tables import show_table
from components.text import md

KIND_LABELS = {"access": "Read the port", "pii": "Its personal data unmasked"}


def request_form(mesh: catalog.Mesh, user: str | None, product_ids: list[str], wanted: str | None,
                 asked_port: str | None) -> dict[str, Any] | None:
    """Ask for one output port of a product, for a purpose and a duration (or until a date), for yourself or for
    a product you own; the keyword arguments of `AgreementDesk.request` once "Send request" is pressed."""
    desk = mesh.agreements
    product_id = st.selectbox("Product", product_ids, key="agreement_product",
                              index=product_ids.index(wanted) if wanted in product_ids else 0,
                              format_func=lambda pid: f"{pid} · {mesh.products[pid].title}"
                              + (" · restricted" if mesh.products[pid].descriptor.access.restricted else ""))
    ports = {p.name: p for p in mesh.ports(product_id)["output"]}
    names = list(ports)
    port = st.selectbox("Port", names, key="agreement_port",
                        format_func=lambda name: f"{name} · {ports[name].kind} · approval: {ports[name].approval}",
                        index=names.index(asked_port) if asked_port in names else 0)
    kind = st.radio("What you need", desk.kinds(product_id), horizontal=True, key="agreement_kind",
                    format_func=KIND_LABELS.get)
    purpose = st.text_area("Purpose", key="agreement_purpose", placeholder="What you will use it for",
                           help="the owner decides on the purpose; it is kept in the audit log")
    left, right = st.columns(2)
    days = left.number_input("Duration (days)", min_value=1, max_value=MAX_DAYS, value=30, key="agreement_days")
    until = right.date_input("Or until (a date; overrides the duration)", value=None, key="agreement_until")
    consumers = desk.consumers(user, product_id)
    consumer = st.selectbox("Consumer", consumers, key="agreement_consumer",
                            format_func=lambda c: f"me ({user})" if c == consumers[0] else c,
                            help="a product you own that will read it: its agreement shows in lineage and in "
                                 "its domain's scorecard")
    if not st.button("Send request", key="agreement_send", icon=":material/send:", type="primary"):
        return None
    return {"product_id": product_id, "port": port, "purpose": purpose, "days": None if until else days,
            "until": until.isoformat() if until else None, "kind": kind, "consumer": consumer}


def describe(row: dict) -> str:
    """One requested agreement in a line: who asks for what of which product, for whom."""
    what = "unmasked personal data of" if row["kind"] == "pii" else "port"
    port = "" if row["kind"] == "pii" else f" **{md(row['port'])}** of"
    consumer = "" if row["consumer_kind"] == "person" else f" for {md(row['consumer_kind'])} **{md(row['consumer'])}**"
    return f"**#{row['id']} · {md(row['requested_by'])}** asks for {what}{port} **{md(row['product_id'])}**{consumer}"


def decision_card(row: dict) -> tuple[str, str] | None:
    """A request waiting for this person's approval; ("approve", "") or ("reject", reason) once pressed."""
    aid = row["id"]
    with st.container(border=True, key=f"agreement_{aid}"):
        st.markdown(describe(row))
        approved = " · owner approved: " + md(row["owner_approved_by"]) if row["owner_approved_by"] else ""
        st.caption(f"Purpose: {md(row['purpose'])} · {row['days']:g} day(s) · approval {md(row['approval'])}"
                   f"{approved} · asked {md(moment_text(row['ts']))}")
        left, right = st.columns(2)
        if left.button("Approve", key=f"approve_{aid}", icon=":material/check:", type="primary"):
            return "approve", ""
        reason = right.text_input("Reason to reject", key=f"reason_{aid}")
        if right.button("Reject", key=f"reject_{aid}", icon=":material/close:"):
            return "reject", reason
    return None


def owner_controls(active: pl.DataFrame) -> tuple[str, int, Any] | None:
    """The active agreements on the owner's products, soonest end first, with ("renew", id, days) or
    ("revoke", id, reason) once pressed."""
    active = active.sort("expires_at")
    show_table(active.select("id", "requested_by", "consumer", "product_id", "port", "kind", "purpose",
                             "expires_at"), human=False)
    cols = st.columns([1, 1, 2, 1])
    aid = cols[0].selectbox("Agreement", active["id"].to_list(), key="owner_agreement", format_func=lambda a: f"#{a}")
    more = cols[1].number_input("Renew for (days)", min_value=1, max_value=MAX_DAYS, value=30, key="renew_days")
    why = cols[2].text_input("Reason to revoke", key="revoke_reason")
    if cols[3].button("Renew", key="renew_button", icon=":material/update:"):
        return "renew", aid, more
    if cols[3].button("Revoke", key="revoke_button", icon=":material/block:"):
        return "revoke", aid, why
    return None


def consumer_controls(open_: pl.DataFrame) -> tuple[str, int, str] | None:
    """The consumer's requested or active agreements: ("cancel", id, reason) for a request nobody decided on,
    ("revoke", id, reason) to end an active one now."""
    cols = st.columns([1, 2, 1])
    status_of = dict(zip(open_["id"].to_list(), open_["status"].to_list()))
    aid = cols[0].selectbox("Agreement", list(status_of), key="my_agreement",
                            format_func=lambda a: f"#{a} ({status_of[a]})")
    why = cols[1].text_input("Reason", key="my_reason")
    if status_of[aid] == "requested" and cols[2].button("Cancel request", key="cancel_button",
                                                        icon=":material/cancel:"):
        return "cancel", aid, why
    if status_of[aid] == "active" and cols[2].button("End it now", key="end_button", icon=":material/block:"):
        return "revoke", aid, why
    return None

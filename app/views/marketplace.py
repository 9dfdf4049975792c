"""Access & alerts: ask for access, decide on requests for your products, your grants, your alerts, trust."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import streamlit as st

from catalog.errors import MeshError
from components import context
from components import identity as app_identity
from components.audit import audit_panel
from components.tabs import tabbed
from components.text import md
from components.viewer import listed, policy
from components.tables import show_table

mesh = context.require_mesh()
who = app_identity.current_principal(mesh)
user = who.user
access, changes, trust = mesh.access, mesh.changes, mesh.trust_desk

st.title("Access & alerts")
st.caption(f"Acting as **{md(user)}** with the role **{md(context.current_role(mesh))}**. Ask owners for access, decide on "
           "requests for the products you own, and hear about changes to the products you depend on.")

for kind, text in st.session_state.pop("marketplace_flash", []):
    getattr(st, kind)(md(text))


def flash(kind: str, text: str) -> None:
    """Show a message after the rerun that an action triggers."""
    st.session_state.setdefault("marketplace_flash", []).append((kind, text))


def attempt(action, success: str) -> None:
    try:
        action()
    except MeshError as exc:
        flash("error", str(exc))
    else:
        flash("success", success)


viewer = policy(mesh)
product_ids = [pid for pid in listed(mesh, viewer) if not mesh.products[pid].broken]  # what this viewer may find
wanted = st.query_params.get("product")
pending = access.pending_for(user)
owned = access.owned_by(user)
inbox = changes.inbox(user)
unread = inbox.filter(~pl.col("read")).height
cols = st.columns(4)
cols[0].metric("Requests to decide", pending.height, help="requests for the products you own, waiting for you")
cols[1].metric("New alerts", unread, help="unread changes to products you subscribe to or read from")
cols[2].metric("My active grants", access.grants(user=user).filter(pl.col("status") == "active").height)
cols[3].metric("Products you own", len(owned))


def show_request() -> None:
    with st.form("request_form", clear_on_submit=True):
        if not product_ids:
            st.info("No product here to ask for.")
            st.form_submit_button("Send request", disabled=True)
            return
        product_id = st.selectbox("Product", product_ids, index=product_ids.index(wanted) if wanted in product_ids else 0,
                                  format_func=lambda pid: f"{pid} · {mesh.products[pid].title}"
                                  + (" · restricted" if mesh.products[pid].descriptor.access.restricted else ""))
        kind = st.radio("What you need", ["access", "pii"], horizontal=True,
                        format_func={"access": "Access to a restricted product",
                                     "pii": "Its personal data unmasked"}.get)
        purpose = st.text_area("Purpose", placeholder="What you will use it for, and for how long",
                               help="the owner decides on the purpose; it is kept in the audit log")
        if st.form_submit_button("Send request", icon=":material/send:"):
            try:
                made = access.request(user, product_id, purpose, kind)
            except MeshError as exc:
                flash("error", str(exc))
            else:
                flash("success", f"Request #{made.id} sent to {', '.join(sorted(access.owners_of(product_id)))}.")
            st.rerun()


def show_decide() -> None:
    if not owned:
        st.info("You own no product in this mesh. Owners (a product's `owner`, or its domain's) decide here.")
    elif pending.is_empty():
        st.success(f"No pending requests for your {len(owned)} product(s).")
    for row in pending.iter_rows(named=True):
        rid = row["id"]
        with st.container(border=True, key=f"request_{rid}"):
            what = "unmasked personal data of" if row["kind"] == "pii" else "access to"
            st.markdown(f"**#{rid} · {md(row['user'])}** asks for {what} **{md(row['product_id'])}**")
            st.caption(f"Purpose: {md(row['purpose'])} · asked {md(row['ts'][:16].replace('T', ' '))} UTC")
            left, right = st.columns(2)
            days = left.number_input("Grant for (days)", min_value=1, max_value=365, value=30, key=f"days_{rid}")
            if left.button("Approve", key=f"approve_{rid}", icon=":material/check:", type="primary"):
                attempt(lambda: access.approve(rid, user, timedelta(days=days)),
                        f"Request #{rid} approved for {days} day(s).")
                st.rerun()
            reason = right.text_input("Reason to reject", key=f"reason_{rid}")
            if right.button("Reject", key=f"reject_{rid}", icon=":material/close:"):
                attempt(lambda: access.reject(rid, user, reason), f"Request #{rid} rejected.")
                st.rerun()
    if owned:
        granted = access.grants().filter(pl.col("product_id").is_in(owned) & (pl.col("status") == "active"))
        if not granted.is_empty():
            st.subheader("Active grants on your products")
            show_table(granted.select("id", "user", "product_id", "kind", "granted_by", "expires_at"), human=False)
            cols = st.columns([1, 2, 1])
            grant_id = cols[0].selectbox("Grant", granted["id"].to_list(), key="revoke_grant",
                                         format_func=lambda g: f"#{g}")
            why = cols[1].text_input("Reason", key="revoke_reason")
            if cols[2].button("Revoke", key="revoke_button", icon=":material/block:"):
                attempt(lambda: access.revoke(grant_id, user, why), f"Grant #{grant_id} revoked.")
                st.rerun()


def show_mine() -> None:
    st.subheader("My grants")
    mine = access.grants(user=user)
    if mine.is_empty():
        st.caption("No grants yet. Ask for one in the first tab.")
    else:
        show_table(mine.select("id", "product_id", "kind", "status", "expires_at", "granted_by"), human=False)
    st.subheader("My requests")
    asked = access.requests(user=user)
    if asked.is_empty():
        st.caption("No requests yet.")
    else:
        show_table(asked.select("id", "product_id", "kind", "status", "purpose", "decided_by", "reason",
                                "expires_at"), human=False)


def show_alerts() -> None:
    st.subheader("Inbox")
    if inbox.is_empty():
        st.caption("No alerts. You hear about changes to products you subscribe to, and to products your own "
                   "derived products read.")
    for row in inbox.head(50).iter_rows(named=True):
        icon = {"breaking": ":material/error:", "warning": ":material/warning:"}.get(row["severity"], ":material/info:")
        with st.container(border=True, key=f"alert_{row['id']}"):
            st.markdown(f"{icon} **{md(row['severity'].upper())}**{'' if row['read'] else ' · new'} · "
                        f"{md(row['ts'][:16].replace('T', ' '))} UTC")
            st.markdown(md(row["summary"]))
            impact = (f"Your products affected: {row['your_products']}" if row["your_products"]
                      else f"You subscribe to {row['product_id']}")
            if row["your_columns"]:
                impact += f" · your columns: {row['your_columns']}"
            st.caption(md(impact + (f" · changed columns: {row['changed_columns']}" if row["changed_columns"] else "")))
    if unread and st.button("Mark all read", icon=":material/done_all:"):
        changes.mark_read(user)
        st.rerun()
    st.subheader("Subscriptions")
    subs = changes.subscriptions(user)
    if not subs.is_empty():
        st.dataframe(subs, hide_index=True, width="stretch")
    cols = st.columns([3, 1, 1])
    target = cols[0].selectbox("Product", product_ids, key="subscribe_product")
    if cols[1].button("Subscribe", icon=":material/notifications:"):
        attempt(lambda: changes.subscribe(user, target), f"Subscribed to {target}.")
        st.rerun()
    if cols[2].button("Unsubscribe", icon=":material/notifications_off:"):
        attempt(lambda: changes.unsubscribe(user, target), f"Unsubscribed from {target}.")
        st.rerun()


def show_trust() -> None:
    if not product_ids:
        st.info("No product here to rate.")
        return
    focus = st.selectbox("Product", product_ids, key="trust_product",
                         index=product_ids.index(wanted) if wanted in product_ids else 0)
    signal = trust.signal(focus)
    cols = st.columns(3)
    cols[0].metric("Certification", "Certified" if signal.certified else "Lapsed" if signal.lapsed else "None")
    cols[1].metric("Rating", f"{signal.rating_avg:.1f} ★" if signal.rating_avg is not None else "–",
                   help=f"{signal.ratings} rating(s)")
    cols[2].metric("Quality score", f"{signal.score:.0f}" if signal.score is not None else "–",
                   help=f"certification lapses below {signal.threshold:.0f}")
    st.caption(md(signal.badge + (f" on {signal.certified_at[:10]}" if signal.certified_at else "")))
    if user in access.owners_of(focus):
        note = st.text_input("Certification note", key="certify_note")
        left, right = st.columns(2)
        if left.button("Certify", icon=":material/verified:", key="certify_button"):
            attempt(lambda: trust.certify(focus, user, note), f"{focus} certified.")
            st.rerun()
        if signal.certified and right.button("Withdraw certification", key="uncertify_button"):
            attempt(lambda: trust.uncertify(focus, user, note), f"Certification of {focus} withdrawn.")
            st.rerun()
    st.caption("Your rating (pick the stars, then save)")
    stars = st.feedback("stars", key="rating_stars")
    if stars is not None and st.button("Save rating", key="rate_button", icon=":material/star:"):
        attempt(lambda: trust.rate(focus, user, int(stars) + 1), f"Rated {focus} {int(stars) + 1} star(s).")
        st.rerun()
    text = st.text_area("Comment", key="comment_text")
    if st.button("Post comment", key="comment_button", icon=":material/comment:"):
        attempt(lambda: trust.comment(focus, user, text), "Comment posted.")
        st.rerun()
    for row in trust.comments(focus).head(20).iter_rows(named=True):
        st.markdown(f"**{md(row['user'])}** · {md(row['ts'][:10])}  \n{md(row['text'])}")


def show_audit() -> None:
    audit_panel(mesh, key="marketplace_audit")


tabbed({"Request access": show_request, "Requests to decide": show_decide, "My requests & grants": show_mine,
        "Subscriptions & alerts": show_alerts, "Trust & ratings": show_trust, "Audit log": show_audit})

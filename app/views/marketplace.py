"""Access & alerts: access agreements (ask for a port, decide, renew, revoke, cancel), your grants, alerts, trust."""

from __future__ import annotations

from typing import Any, Callable

import polars as pl
import streamlit as st

from catalog.errors import MeshError
from catalog.numbers import moment_text
from components import agreement_form, context, page
from components import identity as app_identity
from components.audit import audit_panel
from components.tabs import tabbed
from components.text import md
from components.viewer import listed, policy
from components.tables import show_table

mesh = context.require_mesh()
who = app_identity.current_principal(mesh)
user = who.user
access, agreements, changes, trust = mesh.access, mesh.agreements, mesh.changes, mesh.trust_desk

page.title("Access & alerts")
st.caption(f"Acting as **{md(user)}** with the role **{md(context.current_role(mesh))}**. Ask owners for access, decide on "
           "requests for the products you own, and hear about changes to the products you depend on.")

for kind, text in st.session_state.pop("marketplace_flash", []):
    getattr(st, kind)(md(text))


def flash(kind: str, text: str) -> None:
    """Show a message after the rerun that an action triggers."""
    st.session_state.setdefault("marketplace_flash", []).append((kind, text))


def attempt(action: Callable[[], Any], success: str | Callable[[Any], str]) -> None:
    """Run a person's action, flash its outcome (a refusal's message, or `success`, maybe made from the result)
    and rerun the page to show it."""
    try:
        done = action()
    except MeshError as exc:
        flash("error", str(exc))
    else:
        flash("success", success(done) if callable(success) else success)
    st.rerun()


viewer = policy(mesh)
product_ids = [pid for pid in listed(mesh, viewer) if not mesh.products[pid].broken]  # what this viewer may find
wanted = st.query_params.get("product")
owned = access.owned_by(user)
to_decide = agreements.to_decide(user)
expiring = agreements.expiring(user) if owned else agreements.agreements().clear()
inbox = changes.inbox(user)
unread = inbox.filter(~pl.col("read")).height
cols = st.columns(5)
cols[0].metric("Requests to decide", to_decide.height, help="agreements on the products you own (or, as a steward, "
               "on owner+steward ports) waiting for your approval")
cols[1].metric("Expiring within 7 days", expiring.height, help="active agreements on your products that end soon: "
               "renew them in 'Agreements on my products'")
cols[2].metric("New alerts", unread, help="unread changes to products you subscribe to or read from")
cols[3].metric("My active grants", access.grants(user=user).filter(pl.col("status") == "active").height)
cols[4].metric("Products you own", len(owned))


def show_request() -> None:
    if not product_ids:
        st.info("No product here to ask for.")
        return
    asked = agreement_form.request_form(mesh, user, product_ids, wanted, st.query_params.get("port"))
    if asked is not None:
        attempt(lambda: agreements.request(user, **asked), agreements.request_outcome)


def show_decide() -> None:
    if to_decide.is_empty():
        st.success("No agreement waits for your approval." if owned or agreements.is_steward(user or "") else
                   "You own no product in this mesh. Owners (a product's `owner`, or its domain's) decide here.")
    for row in to_decide.iter_rows(named=True):
        pressed, aid = agreement_form.decision_card(row), row["id"]
        if pressed is None:
            continue
        act, reason = pressed
        if act == "approve":
            attempt(lambda: agreements.approve(aid, user), f"Agreement #{aid} approved.")
        else:
            attempt(lambda: agreements.reject(aid, user, reason), f"Agreement #{aid} rejected.")


def show_on_mine() -> None:
    """The owner's side: the active agreements on their products, the ones ending within 7 days first, to renew
    or revoke."""
    if not owned:
        st.info("You own no product in this mesh.")
        return
    if not expiring.is_empty():
        st.warning(f"{expiring.height} agreement(s) on your products end within 7 days: "
                   + ", ".join(f"#{r['id']} ({r['product_id']}, {r['expires_at'][:10]})"
                               for r in expiring.iter_rows(named=True)) + ".")
    active = agreements.agreements(status="active").filter(pl.col("product_id").is_in(owned))
    if active.is_empty():
        st.caption("No active agreement on your products.")
        return
    pressed = agreement_form.owner_controls(active)
    if pressed is not None:
        act, aid, value = pressed
        if act == "renew":
            attempt(lambda: agreements.renew(aid, user, value), f"Agreement #{aid} renewed for {value} more day(s).")
        else:
            attempt(lambda: agreements.revoke(aid, user, value), f"Agreement #{aid} revoked.")


def show_mine() -> None:
    st.subheader("My agreements")
    mine = agreements.agreements(user=user)
    if mine.is_empty():
        st.caption("No agreements yet. Ask for one in the first tab.")
    else:
        show_table(mine.select("id", "product_id", "port", "kind", "consumer", "status", "purpose", "expires_at",
                               "decided_by", "reason"), human=False)
        open_ = mine.filter(pl.col("status").is_in(["requested", "active"]))
        pressed = None if open_.is_empty() else agreement_form.consumer_controls(open_)
        if pressed is not None:
            act, aid, why = pressed
            end = agreements.cancel if act == "cancel" else agreements.revoke
            attempt(lambda: end(aid, user, why), f"Agreement #{aid} {'cancelled' if act == 'cancel' else 'revoked'}.")
    st.subheader("My grants")
    grants = access.grants(user=user)
    if grants.is_empty():
        st.caption("No grants: an active agreement holds one until it ends.")
    else:
        show_table(grants.select("id", "product_id", "kind", "status", "expires_at", "granted_by"), human=False)


def show_alerts() -> None:
    st.subheader("Inbox")
    if inbox.is_empty():
        st.caption("No alerts. You hear about changes to products you subscribe to, and to products your own "
                   "derived products read.")
    for row in inbox.head(50).iter_rows(named=True):
        icon = {"breaking": ":material/error:", "warning": ":material/warning:"}.get(row["severity"], ":material/info:")
        with st.container(border=True, key=f"alert_{row['id']}"):
            st.markdown(f"{icon} **{md(row['severity'].upper())}**{'' if row['read'] else ' · new'} · "
                        f"{md(moment_text(row['ts']))}")
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
    if cols[2].button("Unsubscribe", icon=":material/notifications_off:"):
        attempt(lambda: changes.unsubscribe(user, target), f"Unsubscribed from {target}.")


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
        if signal.certified and right.button("Withdraw certification", key="uncertify_button"):
            attempt(lambda: trust.uncertify(focus, user, note), f"Certification of {focus} withdrawn.")
    st.caption("Your rating (pick the stars, then save)")
    stars = st.feedback("stars", key="rating_stars")
    if stars is not None and st.button("Save rating", key="rate_button", icon=":material/star:"):
        attempt(lambda: trust.rate(focus, user, int(stars) + 1), f"Rated {focus} {int(stars) + 1} star(s).")
    text = st.text_area("Comment", key="comment_text")
    if st.button("Post comment", key="comment_button", icon=":material/comment:"):
        attempt(lambda: trust.comment(focus, user, text), "Comment posted.")
    for row in trust.comments(focus).head(20).iter_rows(named=True):
        st.markdown(f"**{md(row['user'])}** · {md(row['ts'][:10])}  \n{md(row['text'])}")


def show_audit() -> None:
    audit_panel(mesh, key="marketplace_audit")


tabbed({"Request access": show_request, "Requests to decide": show_decide,
        "Agreements on my products": show_on_mine, "My requests & grants": show_mine,
        "Subscriptions & alerts": show_alerts, "Trust & ratings": show_trust, "Audit log": show_audit})

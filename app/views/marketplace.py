"""Access & alerts: access agreements (ask for a port, decide, renew, revoke, cancel), your grants, alerts, trust."""

from __future__ import annotations

import polars as pl
import streamlit as st

from catalog.access.agreements import MAX_DAYS
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
access, agreements, changes, trust = mesh.access, mesh.agreements, mesh.changes, mesh.trust_desk

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


def port_label(product_id: str):
    ports = {p.name: p for p in mesh.ports(product_id)["output"]}
    return lambda name: f"{name} · {ports[name].kind} · approval: {ports[name].approval}"


def show_request() -> None:
    """Ask for one output port of a product, for a purpose and a duration (or until a date), for yourself or for
    a product you own; the port's approval mode decides who approves."""
    if not product_ids:
        st.info("No product here to ask for.")
        return
    product_id = st.selectbox("Product", product_ids, key="agreement_product",
                              index=product_ids.index(wanted) if wanted in product_ids else 0,
                              format_func=lambda pid: f"{pid} · {mesh.products[pid].title}"
                              + (" · restricted" if mesh.products[pid].descriptor.access.restricted else ""))
    product = mesh.products[product_id]
    names = [p.name for p in mesh.ports(product_id)["output"]]
    asked_port = st.query_params.get("port")
    port = st.selectbox("Port", names, key="agreement_port", format_func=port_label(product_id),
                        index=names.index(asked_port) if asked_port in names else 0)
    kinds = ["access", "pii"] if product.pii_columns else ["access"]
    kind = st.radio("What you need", kinds, horizontal=True, key="agreement_kind",
                    format_func={"access": "Read the port", "pii": "Its personal data unmasked"}.get)
    purpose = st.text_area("Purpose", key="agreement_purpose", placeholder="What you will use it for",
                           help="the owner decides on the purpose; it is kept in the audit log")
    left, right = st.columns(2)
    days = left.number_input("Duration (days)", min_value=1, max_value=MAX_DAYS, value=30, key="agreement_days")
    until = right.date_input("Or until (a date; overrides the duration)", value=None, key="agreement_until")
    consumers = ["me", *(f"product:{pid}" for pid in owned if pid != product_id)]
    consumer = st.selectbox("Consumer", consumers, key="agreement_consumer",
                            format_func=lambda c: f"me ({user})" if c == "me" else c,
                            help="a product you own that will read it: its agreement shows in lineage and in "
                                 "its domain's scorecard")
    if st.button("Send request", key="agreement_send", icon=":material/send:", type="primary"):
        try:
            made = agreements.request(user, product_id, port, purpose, None if until else days,
                                      until=until.isoformat() if until else None, kind=kind,
                                      consumer=None if consumer == "me" else consumer)
        except MeshError as exc:
            flash("error", str(exc))
        else:
            flash("success", f"Agreement #{made.id} is active until {made.expires_at[:16].replace('T', ' ')} UTC "
                  "(approved automatically)." if made.status == "active" else
                  f"Agreement #{made.id} requested from {', '.join(sorted(access.owners_of(product_id)))}"
                  + (" and a steward." if made.approval == "owner+steward" else "."))
        st.rerun()


def describe(row: dict) -> str:
    what = "unmasked personal data of" if row["kind"] == "pii" else "port"
    port = "" if row["kind"] == "pii" else f" **{md(row['port'])}** of"
    consumer = "" if row["consumer_kind"] == "person" else f" for {md(row['consumer_kind'])} **{md(row['consumer'])}**"
    return f"**#{row['id']} · {md(row['requested_by'])}** asks for {what}{port} **{md(row['product_id'])}**{consumer}"


def show_decide() -> None:
    if to_decide.is_empty():
        st.success("No agreement waits for your approval." if owned or agreements.is_steward(user or "") else
                   "You own no product in this mesh. Owners (a product's `owner`, or its domain's) decide here.")
    for row in to_decide.iter_rows(named=True):
        aid = row["id"]
        with st.container(border=True, key=f"agreement_{aid}"):
            st.markdown(describe(row))
            approved = " · owner approved: " + md(row["owner_approved_by"]) if row["owner_approved_by"] else ""
            st.caption(f"Purpose: {md(row['purpose'])} · {row['days']:g} day(s) · approval {md(row['approval'])}"
                       f"{approved} · asked {md(row['ts'][:16].replace('T', ' '))} UTC")
            left, right = st.columns(2)
            if left.button("Approve", key=f"approve_{aid}", icon=":material/check:", type="primary"):
                attempt(lambda: agreements.approve(aid, user), f"Agreement #{aid} approved.")
                st.rerun()
            reason = right.text_input("Reason to reject", key=f"reason_{aid}")
            if right.button("Reject", key=f"reject_{aid}", icon=":material/close:"):
                attempt(lambda: agreements.reject(aid, user, reason), f"Agreement #{aid} rejected.")
                st.rerun()


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
    show_table(active.sort("expires_at").select("id", "requested_by", "consumer", "product_id", "port", "kind",
                                                "purpose", "expires_at"), human=False)
    cols = st.columns([1, 1, 2, 1])
    aid = cols[0].selectbox("Agreement", active.sort("expires_at")["id"].to_list(), key="owner_agreement",
                            format_func=lambda a: f"#{a}")
    more = cols[1].number_input("Renew for (days)", min_value=1, max_value=MAX_DAYS, value=30, key="renew_days")
    why = cols[2].text_input("Reason to revoke", key="revoke_reason")
    if cols[3].button("Renew", key="renew_button", icon=":material/update:"):
        attempt(lambda: agreements.renew(aid, user, more), f"Agreement #{aid} renewed for {more} more day(s).")
        st.rerun()
    if cols[3].button("Revoke", key="revoke_button", icon=":material/block:"):
        attempt(lambda: agreements.revoke(aid, user, why), f"Agreement #{aid} revoked.")
        st.rerun()


def show_mine() -> None:
    st.subheader("My agreements")
    mine = agreements.agreements(user=user)
    if mine.is_empty():
        st.caption("No agreements yet. Ask for one in the first tab.")
    else:
        show_table(mine.select("id", "product_id", "port", "kind", "consumer", "status", "purpose", "expires_at",
                               "decided_by", "reason"), human=False)
        open_ = mine.filter(pl.col("status").is_in(["requested", "active"]))
        if not open_.is_empty():
            cols = st.columns([1, 2, 1])
            aid = cols[0].selectbox("Agreement", open_["id"].to_list(), key="my_agreement",
                                    format_func=lambda a: f"#{a} ({open_.filter(pl.col('id') == a)['status'][0]})")
            why = cols[1].text_input("Reason", key="my_reason")
            status = open_.filter(pl.col("id") == aid)["status"][0]
            if status == "requested" and cols[2].button("Cancel request", key="cancel_button",
                                                        icon=":material/cancel:"):
                attempt(lambda: agreements.cancel(aid, user, why), f"Agreement #{aid} cancelled.")
                st.rerun()
            if status == "active" and cols[2].button("End it now", key="end_button", icon=":material/block:"):
                attempt(lambda: agreements.revoke(aid, user, why), f"Agreement #{aid} revoked.")
                st.rerun()
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


tabbed({"Request access": show_request, "Requests to decide": show_decide,
        "Agreements on my products": show_on_mine, "My requests & grants": show_mine,
        "Subscriptions & alerts": show_alerts, "Trust & ratings": show_trust, "Audit log": show_audit})

"""Incidents: what the monitor found failing, per (product, cause); filter them, and (as the product's owner,
its domain team, the assignee or a steward) acknowledge, assign, annotate or resolve one. The logic and the
authorization are the library's (`mesh.incident_list`, `mesh.incident_action`); this page only shows them."""

from __future__ import annotations

import streamlit as st

from catalog.errors import MeshError
from catalog.incidents import STATES
from components import context, page
from components.text import md
from components.viewer import policy
from components.tables import show_table

ACTIONS = {"Acknowledge": "acknowledge", "Assign": "assign", "Add a note": "annotate", "Resolve": "resolve"}
COLUMNS = ["id", "state", "product_id", "summary", "assignee", "runs", "first_seen", "last_seen", "domain"]

mesh = context.require_mesh()
user = context.current_user(mesh)
viewer = policy(mesh)
page.title("Incidents")
st.caption("One incident per product and cause (a failing error-severity check, a missed freshness SLA, a "
           "volume anomaly), opened by `meshwork monitor`; it resolves itself when the cause passes again.")

if "inc_flash" in st.session_state:
    st.success(st.session_state.pop("inc_flash"))

filters = st.columns([1, 1, 1])
state = filters[0].selectbox("State", ["open", *STATES, "all"], key="inc_state")
domain = filters[1].selectbox("Domain", ["all", *sorted(mesh.domains)], key="inc_domain")
mine = filters[2].toggle("Assigned to me", key="inc_mine")
try:
    frame = mesh.incident_list(None if state == "all" else state, domain=None if domain == "all" else domain,
                               assignee=user if mine else None, role=viewer.role, user=viewer.user)
except MeshError as exc:
    st.error(str(exc))
    page.end()

if frame.is_empty():
    st.info("No incidents match.", icon=":material/check_circle:")
else:
    show_table(frame.select(COLUMNS), key="inc_table")

upstream = mesh.upstream_incidents(user=user, role=viewer.role)
if not upstream.is_empty():
    with st.expander(f"Upstream of your products: {upstream.height} open incident(s)", expanded=True):
        show_table(upstream.select("id", "product_id", "affects", "distance", "summary", "owner"))

if not frame.is_empty():
    st.subheader("Work on an incident")
    labels = {row["id"]: f"#{row['id']} {row['product_id']}: {row['summary']}" for row in frame.iter_rows(named=True)}
    chosen = st.selectbox("Incident", list(labels), format_func=labels.get, key="inc_pick")
    history = mesh.incidents.history(chosen)
    show_table(history.select("ts", "actor", "action", "from_state", "to_state", "assignee", "note"))
    with st.form("inc_act", clear_on_submit=True):
        action = st.radio("Action", list(ACTIONS), horizontal=True, key="inc_action")
        assignee = st.text_input("Assign to (e-mail)", key="inc_assignee")
        note = st.text_area("Note", key="inc_note")
        if st.form_submit_button("Apply", type="primary"):
            try:
                done = mesh.incident_action(ACTIONS[action], chosen, user=user, note=note or None,
                                            assignee=assignee or None)
            except MeshError as exc:
                st.error(md(str(exc)))
            else:
                st.session_state.inc_flash = md(f"#{done.incident_id} {done.action} by {done.actor}: now {done.state}.")
                st.rerun()

"""The audit log as a panel: every access request, decision, grant use and refusal, exportable."""

from __future__ import annotations

import polars as pl
import streamlit as st

import catalog
from components.tables import show_table


def audit_panel(mesh: catalog.Mesh, key: str = "audit") -> None:
    """Filterable table of the append-only audit log, newest first, with a CSV download of all of it."""
    st.subheader("Audit log")
    st.caption("Append-only: requests, decisions, every query that relied on a grant, and every refusal "
               "(who, what, when, why). No one can edit or delete a row.")
    frame = mesh.access.audit()
    if frame.is_empty():
        st.info("Nothing recorded yet: the log fills as people ask for, decide on and use access.")
        return
    cols = st.columns([2, 2, 1])
    actions = cols[0].multiselect("Action", sorted(frame["action"].unique().to_list()), key=f"{key}_actions")
    products = cols[1].multiselect("Product", sorted(frame["product_id"].drop_nulls().unique().to_list()),
                                   key=f"{key}_products")
    refused_only = cols[2].toggle("Refusals only", key=f"{key}_refused")
    shown = frame
    if actions:
        shown = shown.filter(pl.col("action").is_in(actions))
    if products:
        shown = shown.filter(pl.col("product_id").is_in(products))
    if refused_only:
        shown = shown.filter(pl.col("outcome") == "refused")
    show_table(shown.sort("id", descending=True), config={"id": None})
    st.caption(f"{shown.height:,} of {frame.height:,} events · {frame.filter(pl.col('outcome') == 'refused').height:,} "
               "refusals")
    st.download_button("Download the audit log (CSV)", mesh.access.audit_csv(), file_name=f"{mesh.name}-audit.csv",
                       mime="text/csv", icon=":material/download:", key=f"{key}_csv")

"""A product's quality checks on the Scorecards page: run them now with progress, and show the latest results,
failing first, with example failing rows (masked for the role that ran them)."""

from __future__ import annotations

import polars as pl
import streamlit as st

import catalog
from catalog.scorecard import latest_checks


def run_checks(mesh: catalog.Mesh, product_ids: list[str], role: str) -> None:
    """Scan the data of these products now, with progress; keep the live reports for their examples."""
    reports = st.session_state.setdefault("sc_reports", {})
    with st.status(f"Checking {len(product_ids)} product(s)…", expanded=False) as status:
        bar = st.progress(0.0)
        for n, product_id in enumerate(product_ids, 1):
            status.update(label=f"Checking {product_id} ({n} of {len(product_ids)})…")
            reports[product_id] = mesh.check(product_id, role=role)
            bar.progress(n / len(product_ids))
        status.update(label=f"Checked {len(product_ids)} product(s).", state="complete")


def show_checks(mesh: catalog.Mesh, product: str, checked_at: str | None, role: str) -> None:
    """The checks of the live run (if run just now) or the latest stored one, failing first, with example rows."""
    st.markdown("**Checks in the latest run**")
    live = st.session_state.get("sc_reports", {}).get(product)
    checks = [c.to_dict() for c in live.checks] if live is not None else latest_checks(mesh, product, role)
    if not mesh.can_see(role, mesh.products[product]):
        st.caption(f":orange[{product} is restricted: the role {role} sees its check results but no example rows.]")
    if live is not None:
        st.caption(f"Run just now as {role}: example rows are masked for that role.")
    else:
        when = (checked_at or "never")[:16].replace("T", " ")
        st.caption(f"Stored run of {when} UTC: example rows are stored masked; run the checks "
                   "now to see them as your role sees them.")
    if not checks:
        st.info("No checks have run for this product yet." if mesh.products[product].descriptor.quality
                else "This product declares no quality checks.")
    icons = {"pass": ":green[:material/check_circle:]", "fail": ":red[:material/cancel:]",
             "error": ":orange[:material/error:]"}
    for check in checks:
        label = (f"{icons.get(check['status'], '')} {check['name']} · {check['severity']} · "
                 f"{check.get('message') or ''}")
        with st.expander(label, expanded=check["status"] != "pass" and len(checks) <= 12):
            st.caption(f"kind {check['kind']} · status {check['status']}"
                       + (f" · {check['failing']:,} failing of {check['rows']:,} rows"
                          if check.get("failing") is not None and check.get("rows") is not None else ""))
            if check.get("examples"):
                st.dataframe(pl.DataFrame(check["examples"]), hide_index=True, width="stretch")
            elif check["status"] == "fail":
                st.caption("No example rows: this check fails as a whole (row count, freshness) or came from history.")

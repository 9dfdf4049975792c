"""A product's quality checks on the Scorecards page: run them now with progress, and show the latest results,
failing first, with example failing rows (masked for the role that ran them)."""

from __future__ import annotations

import polars as pl
import streamlit as st

import catalog
from catalog.quality.scoring import WHOLE_CHECKS
from catalog.scorecards.scorecard import latest_checks
from catalog.numbers import moment_text, rows_text
from components.text import md
from components.viewer import check_results
from components.tables import show_table


SENSITIVE_RULE = ("A check that reads personal data or a restricted product shows its failing count, message and "
                  "example rows only to viewers who see that data unmasked (others see whether it passes); only a "
                  "steward may add or change such checks. Example rows are computed over your own view.")


def run_checks(mesh: catalog.Mesh, product_ids: list[str], role: str) -> None:
    """Scan the data of these products now, with progress; keep the live reports for their examples."""
    reports = st.session_state.setdefault("sc_reports", {})
    with st.status(f"Checking {len(product_ids)} product(s)…", expanded=False) as status:
        bar = st.progress(0.0)
        for n, product_id in enumerate(product_ids, 1):
            status.update(label=f"Checking {product_id} ({n} of {len(product_ids)})…")
            reports[product_id] = mesh.check(product_id, role=role)
            st.session_state.setdefault("sc_report_roles", {})[product_id] = role
            bar.progress(n / len(product_ids))
        status.update(label=f"Checked {len(product_ids)} product(s).", state="complete")


def show_checks(mesh: catalog.Mesh, product: str, checked_at: str | None, viewer) -> None:
    """The checks of the live run (if run just now) or the latest stored one, failing first, with example rows;
    a check that reads what this viewer may not see (personal data they see masked, a product they may not
    query) shows its status only."""
    role = viewer.role
    st.markdown("**Checks in the latest run**")
    st.caption(SENSITIVE_RULE)
    live = st.session_state.get("sc_reports", {}).get(product)
    if live is not None and live_role(product) != role:
        live = None  # never one role's live report under another role's name
    checks = (check_results(mesh, product, [c.to_dict() for c in live.checks], viewer) if live is not None
              else latest_checks(mesh.evidence(), product, policy=viewer))
    if not viewer.can_query(product):
        st.caption(f":orange[{md(product)} is restricted: the role {md(role)} sees whether its checks pass, "
                   "not their counts or example rows.]")
    if live is not None:
        st.caption(f"Run just now as {md(role)}: example rows are masked for that role.")
    else:
        st.caption(f"Stored run of {moment_text(checked_at)}: example rows are stored masked; run the checks "
                   "now to see them as your role sees them.")
    if not checks:
        st.info("No checks have run for this product yet." if mesh.products[product].descriptor.quality
                else "This product declares no quality checks.")
    icons = {"pass": ":green[:material/check_circle:]", "fail": ":red[:material/cancel:]",
             "error": ":orange[:material/error:]"}
    for check in checks:
        if check.get("hidden"):
            st.markdown(f"{icons.get(check['status'], '')} {md(check['name'])} · {md(check['severity'])} · "
                        f":gray[{md(check.get('message') or 'hidden')}]")
            continue
        label = (f"{icons.get(check['status'], '')} {md(check['name'])} · {md(check['severity'])} · "
                 f"{md(check.get('message') or '')}")
        with st.expander(label, expanded=check["status"] != "pass" and len(checks) <= 12):
            st.caption(f"kind {md(check['kind'])} · status {md(check['status'])}"
                       + (f" · {check['failing']:,} failing of {rows_text(check['rows'])}"
                          if check.get("failing") is not None and check.get("rows") is not None else ""))
            if check.get("examples"):
                show_table(pl.DataFrame(check["examples"]), human=False)
            elif check["status"] == "fail" and check.get("kind") in WHOLE_CHECKS:
                st.caption("No example rows: this check passes or fails as a whole (row count, freshness, "
                           "uniqueness counts).")
            elif check["status"] == "fail":
                st.caption("No example rows were stored with this run; **Run checks now** stores them "
                           "(masked) with the new run.")


def live_role(product_id: str) -> str | None:
    """The role the live report of this product was run as."""
    return st.session_state.get("sc_report_roles", {}).get(product_id)

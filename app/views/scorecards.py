"""Scorecards: quality, freshness, documentation, compliance, usage and lineage health per domain and product.

Drill down from the mesh to a domain (`?domain=<d>`), to a product (`?product=<id>`), to its failing
checks and their example rows (masked for the current role). Everything is read from the state store;
"Run checks now" scans the data and stores a new run.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from catalog.scorecards import charts as scorecard_charts
from catalog.scorecards.scorecard import (DEFINITIONS, domain_overview, domain_scorecard, domain_trend, mesh_summary,
                                          product_scorecard)
from catalog.quality.scoring import CAPPED_GRADE
from catalog.numbers import format_percent, format_score
from components import context, page
from components.badges import grade_badge, score_help
from components.check_results import run_checks, show_checks
from components.scorecard_charts import charts
from components.links import product_hrefs, product_link
from components.tables import show_table
from components.tabs import lazy_tabs
from components.text import code, md
from components.viewer import listed, policy

ALL = "All domains"
WHOLE = "Whole domain"


@st.cache_data(ttl=120, max_entries=16, show_spinner=False)
def scorecards(_mesh, key: tuple, _viewer, viewer_key: tuple) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every product's scorecard and every domain's; the time-based parts (usage windows, source age) may be
    two minutes old."""
    evidence = _mesh.evidence()  # each part read once for both
    products = product_scorecard(evidence, policy=_viewer)  # locked products: name, owner, usage; nothing measured
    return products, domain_scorecard(products, evidence)


@st.cache_data(ttl=120, max_entries=16, show_spinner=False)
def trends(_mesh, key: tuple) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The domains' daily score (90 days) and every stored run's score, for the trend charts."""
    evidence = _mesh.evidence()
    return domain_trend(evidence), evidence.history.select("product_id", "ts", "score")


def score_column(width: int | None = None) -> dict:
    return {"score": st.column_config.ProgressColumn("score", help=score_help(), format="%.1f", min_value=0,
                                                     max_value=100, width=width),
            "score_trend": st.column_config.NumberColumn("trend (30 d)", format="%+.1f")}



PERCENT_COLUMNS = {
    "documentation": st.column_config.NumberColumn("docs", format="%.0f%%", help="documented share of fields"),
    "compliance": st.column_config.NumberColumn("compliance", format="%.0f%%", help="policies passing"),
}


def domain_facts(card: dict) -> str:
    """The domain's figures the mesh-level table leaves out, in one line under its metrics."""
    repair = f" (mean repair {card['mttr_hours']:,.1f} h)" if card["mttr_hours"] is not None else ""
    return (f"Owner {md(card['owner'])} · documentation {format_percent(card['documentation'])} · compliance "
            f"{format_percent(card['compliance'])} · {card['open_incidents']} open incident(s){repair} · "
            f"{card['agreements_held']} agreement(s) held · {card['unused_products']} product(s) unused for 30 days")


mesh = context.require_mesh()
role = context.current_role(mesh)
viewer = policy(mesh)
shown = listed(mesh, viewer)  # scorecards are trust signals: listed (also locked) products have them
page.title("Scorecards")
st.caption("Quality and usage are measured, not declared. Scores come from the latest stored check runs.",
           help=DEFINITIONS)

domains = sorted(mesh.domains)
asked_product = st.query_params.get("product")
asked_domain = st.query_params.get("domain")
if asked_product and asked_product not in shown:  # the same words for unknown and hidden
    st.subheader("Product not found")
    st.info(f"There is no product {code(asked_product[:120])} in {md(mesh.title)} for the role **{md(role)}**.",
            icon=":material/search_off:")
    page.end()
if asked_domain and asked_domain not in mesh.domains:
    st.subheader("Domain not found")
    st.info(f"There is no domain {code(asked_domain[:120])} in {md(mesh.title)}.", icon=":material/search_off:")
    page.end()
if asked_product:
    asked_domain = mesh.products[asked_product].domain
wanted = (asked_domain or ALL, asked_product or WHOLE)
if st.session_state.get("sc_asked") != wanted:
    st.session_state.sc_asked = wanted
    st.session_state.sc_domain, st.session_state.sc_product = wanted

pick = st.columns([1, 1, 1])
domain_choice = pick[0].selectbox("Domain", [ALL, *domains], key="sc_domain")
if domain_choice == ALL:
    st.session_state.sc_product = WHOLE
product_ids = sorted(p for p in shown if domain_choice == ALL or mesh.products[p].domain == domain_choice)
if st.session_state.get("sc_product") not in (WHOLE, *product_ids):
    st.session_state.sc_product = WHOLE
product_choice = pick[1].selectbox("Product", [WHOLE, *product_ids], key="sc_product",
                                   disabled=domain_choice == ALL,
                                   help="pick a domain first" if domain_choice == ALL else None)
domain = None if domain_choice == ALL else domain_choice
product = None if product_choice == WHOLE else product_choice
for name, value in (("domain", domain if not product else None), ("product", product)):
    if value and st.query_params.get(name) != value:
        st.query_params[name] = value
    elif not value and name in st.query_params:
        del st.query_params[name]  # ?tab= is the tabs' own: it stays across a drill-down
st.session_state.sc_asked = (domain_choice, product_choice)

with pick[2]:
    st.write("")
    scope = [p for p in ([product] if product else product_ids) if viewer.can_query(p)]
    if st.button(f"Run checks now ({len(scope)} product{'s' if len(scope) != 1 else ''})", icon=":material/play_arrow:",
                 disabled=not scope,
                 help="scans the data: one query per product for all its checks; unchanged data reuses its counts"):
        run_checks(mesh, scope, role)

key = context.stored_state(mesh, "quality_runs", "usage_events")
every_product, frame = scorecards(mesh, key, viewer, (viewer.role, viewer.user, tuple(sorted(viewer.grants))))
products = every_product if domain is None else every_product.filter(pl.col("domain") == domain)
if products.is_empty():
    st.info("This mesh has no data products yet.")
    page.end()


# ------------------------------------------------------------------ mesh level: every domain
if domain is None:
    summary = mesh_summary(frame)
    top = st.columns(4)
    top[0].metric("Domains", summary["domains"])
    top[1].metric("Mean domain score", format_score(summary["mean_score"]), help=score_help())
    top[2].metric("Checks passing", f"{summary['checks_passing']} / {summary['checks']}")
    top[3].metric("Unused products (30 days)", summary["unused_products"])
    st.subheader("Domains")
    show_table(domain_overview(frame), config={**score_column(width=120), **PERCENT_COLUMNS})
    for capped in frame.filter(pl.col("grade_capped").is_not_null()).iter_rows(named=True):
        st.caption(f":orange[:material/warning:] **{md(capped['domain'])}**: {md(capped['grade_capped'])}.")
    st.caption("Pick a domain above to drill down to its products, their failing checks and example rows.")
    charts(products, trends(mesh, key)[0], color="domain", title="Domain score, last 90 days")
    page.end()

# ------------------------------------------------------------------ domain level
card = frame.filter(pl.col("domain") == domain).row(0, named=True)
if product is None:
    st.subheader(md(mesh.domains[domain].title))
    top = st.columns(5)
    top[0].metric("Domain score", format_score(card["score"]), delta=card["score_trend"], help=score_help())
    top[0].markdown(grade_badge(card["grade"]))
    if card["grade_capped"]:
        st.caption(f":orange[:material/warning:] {md(card['grade_capped'])}.")
    top[1].metric("Checks passing", f"{card['checks_passing']} / {card['checks']}")
    top[2].metric("Fresh / late", f"{card['fresh']} / {card['late']}")
    top[3].metric("Queries (30 days)", card["queries"], help=f"{card['users']} distinct users")
    top[4].metric("Upstream issues", card["lineage_issues"], help="products of this domain whose upstream is broken, failing or late")
    st.caption(domain_facts(card))
    if card["incomplete"]:
        st.caption(f":orange[Incomplete: {md(card['incomplete'])}]")
    st.markdown("**Products** (pick one above, or open one, to see its failing checks)")
    table = products.select(
        product_hrefs("product_id"), "grade", "score", "score_trend", "checks_passing", "checks_failed",
        "freshness", "documentation", "queries", "lineage")
    show_table(table, config={**score_column(),
                              "product_id": st.column_config.LinkColumn("product", display_text=r"product=(.*)$"),
                              "documentation": st.column_config.NumberColumn("documentation", format="%.0f%%")})
    history = trends(mesh, key)[1]
    charts(products, history.filter(pl.col("product_id").is_in(product_ids)))
    page.end()

# ------------------------------------------------------------------ product level
FRESHNESS_BASIS = {"file time": "by file time: the SLA names no timestamp column, so the source's change time is "
                                "all there is (declare sla.timestamp_column to measure the data)",
                   "": "no freshness SLA", "data": "measured on the data"}

row = products.filter(pl.col("product_id") == product).row(0, named=True)
st.subheader(f"{md(row['title'])} · {code(product)}")
product_link(product, "Open the product page")
top = st.columns(5)
top[0].metric("Quality score", format_score(row["score"]), delta=row["score_trend"], help=score_help())
top[0].markdown(grade_badge(row["grade"]))
if row["failing_error_checks"] and row["grade"] == CAPPED_GRADE and row["score"] is not None and row["score"] >= 90:
    st.caption(f":orange[:material/warning:] Graded {CAPPED_GRADE}, not A: the error-severity check "
               f"{md(row['failing_error_checks'])} fails.")
top[1].metric("Checks passing", f"{row['checks_passing']} / {row['checks']}")
top[2].metric("Freshness", row["freshness"], help=FRESHNESS_BASIS.get(row["freshness_basis"] or "", "")
              or f"measured on the data: the newest {row['freshness_basis'].removeprefix('data: ')}")
if row["freshness_basis"] == "file time":
    top[2].caption("by file time")
top[3].metric("Documentation", format_percent(row["documentation"]))
top[4].metric("Compliance", format_percent(row["compliance"]))
st.caption(f"Usage: {row['queries']} queries by {row['users']} users from {row['consuming_domains']} domain(s) in "
           f"30 days ({row['usage_trend']})" + (" · :red[unused for 30 days]" if row["unused_30d"] else "")
           + f" · lineage: {md(row['lineage'])}" + (f" · :orange[incomplete: {md(row['incomplete'])}]" if row["incomplete"] else ""))
checks_tab, trend_tab = lazy_tabs(["Checks", "Quality trend"])
if checks_tab.open:
    with checks_tab:
        show_checks(mesh, product, row["checked_at"], viewer)
if trend_tab.open:
    with trend_tab:
        history = trends(mesh, key)[1].filter(pl.col("product_id") == product)
        if history.height:
            st.altair_chart(scorecard_charts.score_trend(history, title="Quality score of this product"),
                            width="stretch")
        else:
            st.caption("No stored check runs yet.")

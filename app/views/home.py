"""Home: the mesh at a glance: a search box, the most used and the certified products, domains, products per
domain, owners, broken products."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from catalog.charts import PALETTE
from components import context, page
from components.links import page_link, product_hrefs, product_link
from components.text import code, md
from components.viewer import listed, policy
from components.tables import show_table

mesh = context.require_mesh()
shown = listed(mesh)  # counts, tables and problems cover only what this viewer may find

page.title(md(mesh.title))
if mesh.descriptor.description:
    st.markdown(md(mesh.descriptor.description))

viewer = policy(mesh)
summary = mesh.summary(role=viewer.role, user=viewer.user)
problems_shown = [p for p in mesh.problems if p.product_id is None or p.product_id in shown]
errors = [p for p in problems_shown if p.severity == "error"]
broken = [p.id for p in mesh.broken_products if p.id in shown]
cols = st.columns(4)
cols[0].metric("Domains", len(mesh.domains))
cols[1].metric("Data products", summary.height)
cols[2].metric("Owners", summary["owner"].n_unique())
cols[3].metric("Broken products", len(broken))

with st.form("home_search", border=False, enter_to_submit=True):
    with st.container(horizontal=True, vertical_alignment="bottom"):
        asked = st.text_input("Search data products", key="home_q", placeholder="customers, churn, shipments…")
        searched = st.form_submit_button("Search", icon=":material/search:")
if searched and asked.strip():
    st.switch_page("views/discover.py", query_params={**context.state_params(), "q": asked.strip()})

used = mesh.usage_metrics(role=viewer.role, user=viewer.user)
used = (used.filter(pl.col("product_id").is_in(list(viewer.allowed)) & (pl.col("queries") > 0))
        .sort("queries", descending=True).head(5) if used.height else used)
certified = [pid for pid in sorted(shown) if viewer.can_see(pid) and mesh.trust(pid, viewer.role, viewer.user).certified]
popular, trusted = st.columns(2)
with popular.container(border=True):
    st.markdown("**Most used** (queries in 30 days)")
    for row in used.iter_rows(named=True):
        with st.container(horizontal=True, vertical_alignment="center"):
            product_link(row["product_id"])
            st.caption(f"{row['queries']:,} queries · {row['users']:,} users")
    if not used.height:
        st.caption("Nobody has queried a product yet.")
with trusted.container(border=True):
    st.markdown("**Certified products**")
    for pid in certified[:5]:
        product_link(pid)
    if len(certified) > 5:
        st.caption(f"and {len(certified) - 5} more: filter Discover by “Certified by its owner”.")
    if not certified:
        st.caption("No product is certified yet.")

st.subheader("Domains")
per_domain = (summary.group_by("domain").agg(products=pl.len(), pii_products=(pl.col("pii_columns") > 0).sum(),
                                             broken=pl.col("broken").sum()))
domain_rows = pl.DataFrame([
    {"domain": name, "title": d.title, "owner": d.owner, "description": d.description}
    for name, d in mesh.domains.items()
], schema={"domain": pl.String, "title": pl.String, "owner": pl.String, "description": pl.String})
domain_table = domain_rows.join(per_domain, on="domain", how="left").fill_null(0)
cards = st.columns(min(4, max(1, len(mesh.domains))))
for i, row in enumerate(domain_table.iter_rows(named=True)):
    with cards[i % len(cards)].container(border=True):
        st.markdown(f"**{md(row['title'])}**  \n{code(row['domain'])}")
        st.caption(md(row["description"]) or "No description yet.")
        st.markdown(f"{row['products']} products · {row['pii_products']} with PII"
                    + (f" · :red[{row['broken']} broken]" if row["broken"] else ""))
        st.caption(f"Owner: {md(row['owner']) or 'none declared'}")
        page_link("views/scorecards.py", "Domain scorecard", {"domain": row["domain"]}, ":material/scoreboard:")
if not summary.is_empty():
    kinds = summary.with_columns(pl.col("kind").fill_null("restricted (locked)"))  # a locked card has no source
    chart = (alt.Chart(kinds.group_by("domain", "kind").agg(products=pl.len()))
             .mark_bar()
             .encode(y=alt.Y("domain:N", title=None, sort="-x"),
                     x=alt.X("products:Q", title="products", axis=alt.Axis(tickMinStep=1, format="d")),
                     color=alt.Color("kind:N", title="source kind", scale=alt.Scale(range=list(PALETTE))),
                     tooltip=["domain", "kind", "products"])
             .properties(title="Products per domain, by source kind"))
    st.altair_chart(chart, width="stretch", height=max(160, 44 * len(mesh.domains)))

st.subheader("Owners")
owners = (summary.group_by("owner").agg(products=pl.len(), domains=pl.col("domain").unique().sort().str.join(", "))
          .sort("products", descending=True))
show_table(owners)

st.subheader("Problems")
if not problems_shown:
    st.success("Every descriptor is valid.")
else:
    if broken:
        st.error(f"{len(broken)} broken product(s): listed in the catalog but not queryable "
                 "until their descriptors are fixed.")
    problems = pl.DataFrame([
        {"severity": p.severity, "product": p.product_id or "", "file": p.path, "line": p.line,
         "field": p.field, "message": p.message}
        for p in problems_shown
    ], schema={"severity": pl.String, "product": pl.String, "file": pl.String, "line": pl.Int64,
               "field": pl.String, "message": pl.String})
    problems = problems.with_columns(pl.when(pl.col("product") != "").then(
        product_hrefs("product")).otherwise(None).alias("product"))
    show_table(problems, config={"product": st.column_config.LinkColumn(display_text=r"product=(.*)$")})
    st.caption(f"{len(errors)} error(s). Run {code(f'meshwork validate {mesh.root}')} to print them like a compiler.")

"""Lineage: where a product's data comes from, what a change to it breaks, and which upstream is to blame.

Deep link: `/lineage?product=<id>`. Reads the mesh, asks `catalog` for the graphs, lays them out.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from catalog.lineage.neighbourhood import COLLAPSE_OVER, collapse_by_domain, mesh_overview, neighbourhood
from components import context, page
from components.graph import legend, lineage_chart
from components.links import product_link
from components.node_panel import node_panel
from components.text import code, md
from components.viewer import listed, policy
from components.tables import show_table

MAX_LISTED = 25
STATUS_ICON = {"broken": ":red[:material/error: broken]", "fail": ":red[:material/cancel: checks failing]",
               "stale": ":orange[:material/schedule: past SLA]"}


mesh = context.require_mesh()
viewer = policy(mesh)
page.title("Lineage")

ids = listed(mesh, viewer)
if not ids:
    st.info("This mesh has no data products yet, so there is no lineage to show.")
    page.end()

asked = st.query_params.get("product")
if asked and asked not in ids:  # the same words for an unknown id and one hidden from this viewer
    st.subheader("Product not found")
    st.info(f"There is no product {code(asked[:120])} in {md(mesh.title)} for the role **{md(viewer.role)}**.",
            icon=":material/search_off:")
    page.end()
if st.session_state.get("lineage_product") not in ids or (
        asked in ids and asked != st.session_state.get("lineage_asked")):
    st.session_state.lineage_product = asked if asked in ids else ids[0]

view = st.segmented_control("View", ["One product", "Whole mesh"], default="One product", key="lineage_view",
                            required=True)

if view == "Whole mesh":
    st.caption("Domains, and the products that flow from one domain into another. Purple edges cross a domain.")
    overview = mesh_overview(mesh.lineage_index, policy=viewer)
    if overview.number_of_edges() == 0:
        st.info("No product reads another domain's products: every domain's lineage stays inside it.")
    if overview.graph.get("hidden_flows"):
        st.caption(f"Showing the {overview.number_of_edges()} heaviest domain-to-domain flows; "
                   f"{overview.graph['hidden_flows']} lighter ones are listed in the table below only"
                   + (f", and {overview.graph['hidden_domains']} domains with none of the drawn flows are left out."
                      if overview.graph.get("hidden_domains") else "."))
    lineage_chart(overview, link_nodes=overview.graph.get("level") == "product")
    flows = mesh.lineage(level="domain", role=viewer.role, user=viewer.user)
    rows = [{"from domain": d_up.removeprefix("domain:"), "to domain": d_down.removeprefix("domain:"),
             "products": data["count"], "flows": ", ".join(f"{a} → {b}" for a, b in data["flows"])}
            for d_up, d_down, data in flows.edges(data=True)]
    if rows:
        show_table(pl.DataFrame(rows).sort("products", descending=True))
    legend(overview)
    page.end()

product_id = st.selectbox("Product", ids, key="lineage_product",
                          format_func=lambda pid: f"{pid} — {mesh.products[pid].title}"
                          + (" (restricted)" if viewer.is_locked(pid) else ""))
st.query_params["product"] = product_id
st.session_state.lineage_asked = product_id
product = mesh.products[product_id]

controls = st.columns([1, 1, 1.4, 1.2])
up = controls[0].number_input("Depth upstream", min_value=0, max_value=20, value=2, key="lineage_up")
down = controls[1].number_input("Depth downstream", min_value=0, max_value=20, value=2, key="lineage_down")
level = controls[2].segmented_control("Level", ["Products", "Columns"], default="Products", key="lineage_level",
                                      required=True)
with controls[3]:
    show_sources = st.checkbox("Show sources", value=True, key="lineage_sources",
                               disabled=level == "Columns")
    expand_all = st.checkbox(f"Never collapse (> {COLLAPSE_OVER} nodes)", value=False, key="lineage_expand",
                             disabled=level == "Columns")

if product.broken:
    st.error(f"{code(product_id)} is broken: {md(mesh.problem_summary(product_id))}. "
             "Its node is drawn in red; the rest of its lineage is still shown.")

graph_col, side_col = st.columns([5, 2], gap="medium")
with graph_col:
    with st.spinner("Tracing lineage…"):
        graph = neighbourhood(mesh.lineage_index, product_id, up=int(up), down=int(down), columns=level == "Columns",
                              sources=show_sources, policy=viewer)
    shown = graph if level == "Columns" or expand_all else collapse_by_domain(graph)
    if shown.graph.get("collapsed"):
        st.caption(f"{graph.number_of_nodes()} nodes: domains {', '.join(shown.graph['collapsed'])} are collapsed "
                   "to one node each to keep the graph readable. Tick *Never collapse* to see every product.")
    lineage_chart(shown)
    for pid, note in graph.graph.get("notes", {}).items():
        st.caption(f":material/info: {code(pid)}: {md(note)}")
    legend(shown)

# side-panel links: one line each, cut with an ellipsis (the full text stays in the link's title)
st.html("<style>.st-key-lineage_side [data-testid='stPageLink'] p, .st-key-lineage_side a p "
        "{white-space: nowrap; overflow: hidden; text-overflow: ellipsis; max-width: 100%}"
        ".st-key-lineage_side [data-testid='stPageLink'] a {max-width: 100%; overflow: hidden}</style>")
with side_col.container(key="lineage_side"):
    node_panel(mesh, product_id, viewer)  # the clicked node's product: a click on a node centres the page on it
    impact = mesh.impact(product_id, role=viewer.role, user=viewer.user)
    impact_items = [item for item in impact.products if item.id in ids]
    st.subheader("Impact", help="Everything downstream of this product, nearest first: what a change breaks.")
    if not impact_items:
        st.caption("Nothing reads this product: a change affects no other product.")
    else:
        named = ", ".join(code(d) for d in impact.domains[:8])
        more = f" and {len(impact.domains) - 8} more" if len(impact.domains) > 8 else ""
        st.markdown(f"**{len(impact_items)}** product(s) and **{len(impact.columns)}** column(s) downstream, "
                    f"in {len(impact.domains)} domain(s): {named}{more}")
        for item in impact_items[:MAX_LISTED]:
            product_link(item.id, label=f"{item.id} · {item.distance} hop{'s' if item.distance > 1 else ''}"
                                        f"{' · broken' if item.broken else ''}")
        if len(impact_items) > MAX_LISTED:
            st.caption(f"…and {len(impact_items) - MAX_LISTED} more (see "
                       f"{code(f'meshwork lineage {mesh.root} {product_id} --impact')}).")
        if len(impact_items) < len(impact.products):
            st.caption(f"and {len(impact.products) - len(impact_items)} restricted product(s) you may not see")
        st.markdown("**Owners to notify:** " + (md(", ".join(impact.owners)) or "none declared"))

    cause = mesh.root_cause(product_id, role=viewer.role, user=viewer.user)
    st.subheader("Root cause", help="Upstream products that are broken, fail their latest quality checks, "
                                    "or whose data is older than their freshness SLA.")
    if not cause.upstream_products:
        st.caption("This product reads no other product.")
    elif not cause.causes:
        st.success(f"None of the {cause.upstream_products} upstream product(s) is broken, failing or past its SLA.")
    for item in [c for c in cause.causes if c.product_id in ids][:MAX_LISTED]:
        with st.container(border=True):
            product_link(item.product_id, label=f"{item.product_id} · {item.distance} hop"
                                                f"{'s' if item.distance > 1 else ''} up")
            st.markdown(f"{STATUS_ICON[item.status]} · owner {md(item.owner) or 'none declared'}")
            for reason in item.reasons[:4]:
                st.caption(md(reason))

"""The lineage page's side panel for the product a click on a node opened: who owns it, its domain, its quality,
its ports and where to go next. Long names are cut with an ellipsis, never clipped (the full text stays in a
tooltip), so a 30-character product id does not push the panel wider than its column."""

from __future__ import annotations

from html import escape

import streamlit as st

import catalog
from catalog.access.policy import Policy
from catalog.discover.search import product_hit
from catalog.numbers import format_score
from components.badges import grade_badge
from components.links import LINEAGE_PAGE, page_link, product_link, workbench_link
from components.text import code, md

KEY = "lineage_node"
CSS = (f"<style>.st-key-{KEY} h3, .st-key-{KEY} [data-testid='stMarkdownContainer'] p, "
       f".st-key-{KEY} [data-testid='stPageLink'] p {{white-space: nowrap; overflow: hidden; "
       "text-overflow: ellipsis; max-width: 100%}</style>")
PORTS_SHOWN = 4


def _ellipsis_line(label: str, text: str) -> str:
    """One line, cut with an ellipsis; the whole text in its tooltip."""
    return (f"<div style='white-space:nowrap;overflow:hidden;text-overflow:ellipsis' title='{escape(text)}'>"
            f"<b>{escape(label)}</b> {escape(text)}</div>")


def node_panel(mesh: catalog.Mesh, product_id: str, viewer: Policy) -> None:
    """The product of the clicked (centred) node: owner, domain, quality grade and score, ports, links."""
    product = mesh.products[product_id]
    st.html(CSS)
    with st.container(border=True, key=KEY):
        st.markdown(f"### {md(product.title or product_id)}")
        locked = viewer.is_locked(product_id)
        hit = None if locked else product_hit(mesh.search_index, product_id, policy=viewer)
        grade = None if hit is None or hit.grade == "not checked" else hit.grade
        st.markdown(f"{code(product_id)} " + (":orange-badge[:material/lock: Restricted]" if locked
                                               else grade_badge(grade)))
        domain = mesh.domains.get(product.domain)
        lines = [("Owner", product.owner or "none declared"),
                 ("Domain", f"{domain.title if domain else product.domain} ({product.domain})")]
        if hit is not None and hit.quality is not None:
            lines.append(("Quality", f"score {format_score(hit.quality)} · grade {hit.grade}"))
        if not locked:
            ports = mesh.ports(product_id)
            outputs = [f"{p.name} ({p.kind})" for p in ports["output"]]
            lines.append(("Output ports", ", ".join(outputs[:PORTS_SHOWN])
                          + (f" and {len(outputs) - PORTS_SHOWN} more" if len(outputs) > PORTS_SHOWN else "")
                          if outputs else "none declared"))
            lines.append(("Input ports", f"{len(ports['input'])} upstream" if ports["input"] else "none"))
        st.html("".join(_ellipsis_line(label, text) for label, text in lines))
        product_link(product_id, "Open the product page")
        if not locked and not product.broken:
            workbench_link(f"SELECT *\nFROM {product_id}\nLIMIT 100", "Query it in the workbench")
        page_link("views/scorecards.py", "Its scorecard", {"product": product_id}, ":material/scoreboard:")
        if st.query_params.get("product") != product_id:
            page_link(LINEAGE_PAGE, "Centre the graph on it", {"product": product_id}, ":material/account_tree:")

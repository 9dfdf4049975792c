"""Drawing a lineage graph in the app.

`st.graphviz_chart` renders DOT in the browser (Graphviz compiled to WebAssembly), so the
app gets a real layered left-to-right layout with no system Graphviz, and the same DOT the
CLI prints (`meshwork lineage ... --format dot`) is what the page shows.
"""

from __future__ import annotations

from html import escape

import networkx as nx
import streamlit as st

from catalog.lineage_dot import CROSS_DOMAIN, QUALITY_PEN, domain_colour, to_dot


def lineage_href(node: str) -> str:
    """Clicking a product node re-centres the lineage page on it."""
    return f"./lineage?product={node}"


def lineage_chart(graph: nx.DiGraph, link_nodes: bool = True) -> None:
    """The graph, full width; product nodes link to their own lineage."""
    st.graphviz_chart(to_dot(graph, href=lineage_href if link_nodes else None), width="stretch")


def legend(graph: nx.DiGraph) -> None:
    """What the colours and marks mean, for the domains present in this graph."""
    domains = sorted({d.get("domain") for _, d in graph.nodes(data=True) if d.get("domain")})
    chips = " ".join(
        f"<span style='background:{domain_colour(graph, d)};padding:1px 8px;border-radius:6px;"
        f"border:1px solid #d1d5db'>{escape(d)}</span>" for d in domains)
    marks = " · ".join([
        f"<span style='color:{QUALITY_PEN['pass'][0]}'>✓ checks pass</span>",
        f"<span style='color:{QUALITY_PEN['fail'][0]}'>✗ checks failing</span>",
        f"<span style='color:{QUALITY_PEN['stale'][0]}'>⏱ past SLA (dashed)</span>",
        "<span style='color:#b91c1c'>⚠ broken (red fill)</span>",
        f"<span style='color:{CROSS_DOMAIN}'>━ crosses a domain</span>",
        "grey border: not checked yet",
    ])
    st.html(f"<div style='font-size:0.85rem;line-height:1.9'>Domains: {chips}<br>{marks}</div>")

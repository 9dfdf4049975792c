"""Drawing a lineage graph in the app.

`st.graphviz_chart` renders DOT in the browser (Graphviz compiled to WebAssembly), so the
app gets a real layered left-to-right layout with no system Graphviz, and the same DOT the
CLI prints (`meshwork lineage ... --format dot`) is what the page shows.
"""

from __future__ import annotations

from html import escape

import networkx as nx
import streamlit as st

from catalog.lineage.dot import CROSS_DOMAIN, QUALITY_PEN, domain_colour, to_dot


def lineage_href(node: str) -> str:
    """Clicking a product node re-centres the lineage page on it."""
    return f"./lineage?product={node}"


def _estimated_width_px(graph: nx.DiGraph) -> int:
    """Rough natural width of the left-to-right layout: layers times the widest label."""
    if not graph.number_of_nodes():
        return 0
    # Graphviz breaks cycles (broken products, domains feeding each other) before layering.
    layers = nx.dag_longest_path_length(nx.condensation(graph)) + 1
    widest = max((len(str(d.get("label", n))) for n, d in graph.nodes(data=True)), default=10)
    return int(layers * (widest * 6 + 40))


def lineage_chart(graph: nx.DiGraph, link_nodes: bool = True, key: str = "lineage_graph") -> None:
    """The graph fitted to the column, but kept near its natural size (75% to 110%).

    Streamlit scales the SVG to the column width, which makes the labels of a deep lineage
    unreadably small (and a three-node graph huge); past the floor the chart scrolls sideways.
    """
    natural = _estimated_width_px(graph)
    st.html(f"<style>.st-key-{key} {{overflow-x: auto; padding-bottom: 0.4rem}} "
            f".st-key-{key} svg {{min-width: {int(natural * 0.75)}px; max-width: {int(natural * 1.1)}px; "
            "height: auto}</style>")
    with st.container(key=key):
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
        f"<span style='color:{QUALITY_PEN['stale'][0]}'>◷ past SLA (dashed)</span>",
        "<span style='color:#b91c1c'>⚠ broken (red fill)</span>",
        f"<span style='color:{CROSS_DOMAIN}'>━ crosses a domain</span>",
        "grey border: not checked yet",
    ])
    st.html(f"<div style='font-size:0.85rem;line-height:1.9'>Domains: {chips}<br>{marks}</div>")

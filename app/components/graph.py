"""Drawing a lineage graph in the app.

`st.graphviz_chart` renders DOT in the browser (Graphviz compiled to WebAssembly), so the
app gets a real layered left-to-right layout with no system Graphviz, and the same DOT the
CLI prints (`meshwork lineage ... --format dot`) is what the page shows.
"""

from __future__ import annotations

from html import escape

import networkx as nx
import streamlit as st

from catalog.lineage.dot import (CROSS_DOMAIN, DRAWN_EDGE_KINDS, EXTERNAL_PEN, JOB_FILL, JOB_PEN, QUALITY_PEN,
                                 UNKNOWN_EDGE, domain_colour, to_dot)
from components.links import LINEAGE_PAGE, href


def lineage_href(node: str) -> str:
    """Clicking a product node re-centres the page on it: the graph, and the side panel (impact, root cause)
    beside it, are then that product's; the mesh and role stay in the link."""
    return href(LINEAGE_PAGE, product=node)


def _estimated_width_px(graph: nx.DiGraph) -> int:
    """Rough natural width of the left-to-right layout: layers times the widest label."""
    if not graph.number_of_nodes():
        return 0
    # Graphviz breaks cycles (broken products, domains feeding each other) before layering.
    layers = nx.dag_longest_path_length(nx.condensation(graph)) + 1
    widest = max((len(str(d.get("label", n))) for n, d in graph.nodes(data=True)), default=10)
    return int(layers * (widest * 6 + 40))


ZOOMS = {"Fit": None, "100%": 1.0, "150%": 1.5, "200%": 2.0}
READABLE = 0.8  # a graph is fitted to the column only down to this share of its natural size (labels stay legible)
COLUMN_PX = 980  # about the graph column's width at 1440 px


def graph_css(key: str, natural: int, zoom: float | None) -> str:
    """CSS for the graph's box: `Fit` scales the drawing to the column unless that would shrink its labels
    below READABLE of their size (then it keeps that size and the box scrolls); a zoom draws it at that
    multiple of its natural size, and the box scrolls both ways (pan by scrolling or dragging the bars)."""
    box = (f".st-key-{key} {{overflow: auto; max-height: 78vh; padding-bottom: 0.4rem; "
           "border: 1px solid rgba(49,51,63,0.12); border-radius: 0.5rem} ")
    if zoom is None:
        floor = int(natural * READABLE) if natural * READABLE > COLUMN_PX else 0
        return box + (f".st-key-{key} svg:has(g.node) {{width: 100% !important; min-width: {floor}px; "
                      f"max-width: {max(natural, COLUMN_PX)}px !important; height: auto !important}}")
    return box + (f".st-key-{key} svg:has(g.node) {{width: {int(natural * zoom)}px !important; "
                  "max-width: none !important; height: auto !important}")


def lineage_chart(graph: nx.DiGraph, link_nodes: bool = True, key: str = "lineage_graph") -> None:
    """The graph in a box that fits the column, with a zoom control; node links re-centre the page."""
    natural = max(_estimated_width_px(graph), 1)
    zoom = st.segmented_control("Zoom", list(ZOOMS), default="Fit", key=f"{key}_zoom", required=True,
                                help="Fit draws the graph across the column (never with labels too small to "
                                     "read); a zoom draws it larger, and the box scrolls to pan.") or "Fit"
    st.html(f"<style>{graph_css(key, natural, ZOOMS[zoom])}</style>")
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
    kinds = {d.get("kind") for _, d in graph.nodes(data=True)}
    extra = []
    if "job" in kinds:
        extra.append(f"<span style='background:{JOB_FILL};border:1px solid {JOB_PEN};padding:1px 8px'>⚙ job</span>"
                     " reported by OpenLineage")
    if "external" in kinds:
        extra.append(f"<span style='border:1px dashed {EXTERNAL_PEN};padding:1px 8px'>↗ dataset</span> outside "
                     "the mesh")
    for kind in sorted({str(d.get("kind")) for _, _, d in graph.edges(data=True)
                        if d.get("kind") not in DRAWN_EDGE_KINDS}):
        extra.append(f"<span style='color:{UNKNOWN_EDGE}'>┈ {escape(kind.replace('_', ' '))}</span>")
    if extra:
        marks += " · " + " · ".join(extra)
    st.html(f"<div style='font-size:0.85rem;line-height:1.9'>Domains: {chips}<br>{marks}</div>")

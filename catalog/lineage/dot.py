"""Lineage graphs as Graphviz DOT: the format the CLI prints and the app renders.

A small builder rather than string pasting: every id and attribute value goes through
`quote`, so a title with quotes or backslashes cannot break (or inject into) the DOT.
Layout is left to Graphviz: `rankdir=LR` layers upstream on the left, downstream on the right.
"""

from __future__ import annotations

from typing import Callable

import networkx as nx

PALETTE = ("#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#e0e7ff", "#ccfbf1", "#ffedd5", "#ede9fe",
           "#f3e8ff", "#ecfccb", "#e0f2fe", "#fae8ff")
QUALITY_PEN = {"pass": ("#15803d", "1.6", ""), "fail": ("#b91c1c", "3", ""), "stale": ("#c2410c", "3", "dashed"),
               "unchecked": ("#6b7280", "1", "")}
QUALITY_MARK = {"pass": "✓ checks pass", "fail": "✗ checks failing", "stale": "◷ past SLA", "unchecked": ""}
CROSS_DOMAIN = "#7c3aed"
SAME_DOMAIN = "#9ca3af"
JOB_FILL, JOB_PEN = "#e2e8f0", "#475569"  # OpenLineage jobs outside the mesh
EXTERNAL_PEN = "#64748b"  # datasets outside the mesh
UNKNOWN_EDGE = "#94a3b8"
DRAWN_EDGE_KINDS = frozenset({None, "reads", "flow"})
"""Edge kinds with a style of their own; any other kind (a feature that adds edges, such as agreements) is drawn
dotted and grey with its kind as its label, never refused."""

Href = Callable[[str], str]


def quote(value: object) -> str:
    """A DOT double-quoted string; backslashes and quotes escaped, newlines kept as line breaks."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r", "").replace("\n", "\\n") + '"'


def _attrs(attrs: dict[str, object]) -> str:
    return ", ".join(f"{key}={quote(value)}" for key, value in attrs.items() if value not in (None, ""))


class DotWriter:
    """Collects statements of one digraph; `str()` gives the DOT text."""

    def __init__(self, name: str = "lineage", **graph_attrs: object):
        self.lines = [f"digraph {quote(name)} {{"]
        self.lines.append(f"  graph [{_attrs(graph_attrs)}];")
        self.depth = 1

    def defaults(self, kind: str, **attrs: object) -> None:
        self.lines.append("  " * self.depth + f"{kind} [{_attrs(attrs)}];")

    def node(self, node_id: str, **attrs: object) -> None:
        self.lines.append("  " * self.depth + f"{quote(node_id)} [{_attrs(attrs)}];")

    def edge(self, up: str, down: str, **attrs: object) -> None:
        self.lines.append("  " * self.depth + f"{quote(up)} -> {quote(down)} [{_attrs(attrs)}];")

    def open_cluster(self, key: str, **attrs: object) -> None:
        self.lines.append("  " * self.depth + f"subgraph {quote('cluster_' + key)} {{")
        self.depth += 1
        self.lines.append("  " * self.depth + f"graph [{_attrs(attrs)}];")

    def close_cluster(self) -> None:
        self.depth -= 1
        self.lines.append("  " * self.depth + "}")

    def __str__(self) -> str:
        return "\n".join([*self.lines, "}"]) + "\n"


def domain_colour(graph: nx.DiGraph, domain: str) -> str:
    domains = graph.graph.get("domains") or sorted({d.get("domain", "") for _, d in graph.nodes(data=True)})
    return PALETTE[domains.index(domain) % len(PALETTE)] if domain in domains else "#f3f4f6"


def _wrap(text: str, width: int = 34) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line][:3])


def _tooltip(node: str, data: dict) -> str:
    parts = [data.get("title") or node]
    if data.get("owner"):
        parts.append(f"owner: {data['owner']}")
    parts += data.get("problems") or []
    parts += data.get("quality_reasons") or []
    return "\n".join(parts)


def _product_attrs(graph: nx.DiGraph, node: str, data: dict, href: Href | None) -> dict[str, object]:
    quality = data.get("quality", "unchecked")
    pen, width, dash = QUALITY_PEN.get(quality, QUALITY_PEN["unchecked"])
    label = [data.get("label", node)]
    style = ["rounded", "filled"]
    fill = domain_colour(graph, data.get("domain", ""))
    if data.get("locked"):
        label.append("🔒 locked")
    elif data.get("broken"):
        pen, width, fill = "#b91c1c", "3", "#fee2e2"
        label.append("⚠ broken")
        if data.get("problem_messages"):
            label.append(_wrap(data["problem_messages"][0]))
    elif QUALITY_MARK.get(quality):
        label.append(QUALITY_MARK[quality])
    if dash:
        style.append(dash)
    focus = node == graph.graph.get("focus")
    if focus:
        style.append("bold")
    return {"shape": "box", "style": ",".join(style), "fillcolor": fill, "color": pen,
            "penwidth": "4" if focus else width, "peripheries": "2" if focus else None,
            "label": "\n".join(label), "tooltip": _tooltip(node, data), "URL": href(node) if href else None,
            "target": "_self" if href else None, "id": f"node-{node}"}


def _node_attrs(graph: nx.DiGraph, node: str, data: dict, href: Href | None) -> dict[str, object]:
    kind = data.get("kind")
    if kind == "product":
        return _product_attrs(graph, node, data, href)
    if kind == "source":
        return {"shape": "cylinder", "style": "filled", "fillcolor": "#f9fafb", "color": "#9ca3af",
                "label": data.get("label", node), "tooltip": node, "fontsize": "9", "fontcolor": "#4b5563",
                "id": f"node-{node}"}
    if kind == "restricted":
        return {"shape": "box", "style": "rounded,dashed", "color": "#6b7280", "fontcolor": "#4b5563",
                "label": "🔒 restricted product", "tooltip": "a product you may not see", "id": f"node-{node}"}
    if kind == "missing":
        return {"shape": "box", "style": "dashed", "color": "#b91c1c", "fontcolor": "#b91c1c",
                "label": f"? {data.get('label', node)}\nnot a product of this mesh", "id": f"node-{node}"}
    if kind == "job":  # an OpenLineage job outside the mesh (`job:<namespace>/<name>`): a process, not data
        return {"shape": "cds", "style": "filled", "fillcolor": JOB_FILL, "color": JOB_PEN, "fontcolor": "#1e293b",
                "label": f"⚙ {data.get('label', node)}", "tooltip": _tooltip(node, {**data, "title": (
                    data.get("title") or node) + " (job, reported by OpenLineage)"}), "id": f"node-{node}"}
    if kind == "external":  # a dataset outside the mesh that an OpenLineage job read or wrote
        namespace = data.get("namespace")
        return {"shape": "note", "style": "filled,dashed", "fillcolor": "white", "color": EXTERNAL_PEN,
                "fontcolor": "#334155", "label": f"↗ {data.get('label', node)}" + (f"\n{namespace}" if namespace
                                                                                    else ""),
                "tooltip": f"{node}: a dataset outside this mesh (OpenLineage)", "id": f"node-{node}"}
    if kind == "domain":
        quality = data.get("quality", "unchecked")
        pen, width, dash = QUALITY_PEN.get(quality, QUALITY_PEN["unchecked"])
        count = data.get("products", 0)
        label = [data.get("label", node), f"{count} product{'s' if count != 1 else ''}"]
        if data.get("broken"):
            label.append(f"⚠ {data['broken']} broken")
        elif QUALITY_MARK.get(quality):
            label.append(QUALITY_MARK[quality])
        return {"shape": "folder", "style": ",".join(filter(None, ["filled", dash])),
                "fillcolor": domain_colour(graph, data.get("domain", "")), "color": pen, "penwidth": width,
                "label": "\n".join(label), "tooltip": f"domain {data.get('domain')} (collapsed)",
                "id": f"node-{node}"}
    return {"label": data.get("label", node)}


def _edge_attrs(data: dict, up_kind: str | None) -> dict[str, object]:
    count = data.get("count", 1)
    attrs: dict[str, object] = {"label": f"{count} products" if count > 1 else None}
    kind = data.get("kind")
    if kind not in DRAWN_EDGE_KINDS:  # an edge kind this drawing does not know yet (e.g. agreements): neutral
        attrs.update(color=UNKNOWN_EDGE, style="dotted", label=str(kind).replace("_", " "), fontcolor=UNKNOWN_EDGE,
                     tooltip=f"{kind} (drawn plainly: this view has no style for it yet)")
    elif data.get("cross_domain"):
        attrs.update(color=CROSS_DOMAIN, penwidth="2.2", style="bold", tooltip="crosses a domain boundary")
    elif up_kind in ("source", "missing"):
        attrs.update(color=SAME_DOMAIN, style="dashed", arrowsize="0.6")
    else:
        attrs.update(color=SAME_DOMAIN)
    return attrs


def to_dot(graph: nx.DiGraph, href: Href | None = None, name: str = "lineage") -> str:
    """DOT text of any lineage graph: product, collapsed, whole-mesh overview, domain or column level."""
    dot = DotWriter(name, rankdir="LR", nodesep="0.18", ranksep="0.45", fontname="Helvetica", bgcolor="transparent",
                    fontsize="10", tooltip=" ")
    dot.defaults("node", fontname="Helvetica", fontsize="10", margin="0.1,0.04", height="0.3")
    dot.defaults("edge", fontname="Helvetica", fontsize="9", arrowsize="0.8")
    if graph.graph.get("level") == "column":
        _column_body(dot, graph)
    elif graph.graph.get("clusters"):
        for domain in sorted({d["domain"] for _, d in graph.nodes(data=True)}):
            dot.open_cluster(domain, label=domain, style="rounded,filled", fillcolor="#f9fafb", color="#d1d5db",
                             fontname="Helvetica-Bold")
            for node, data in graph.nodes(data=True):
                if data["domain"] == domain:
                    dot.node(node, **_node_attrs(graph, node, data, href))
            dot.close_cluster()
    else:
        for node, data in graph.nodes(data=True):
            dot.node(node, **_node_attrs(graph, node, data, href))
    for up, down, data in graph.edges(data=True):
        dot.edge(up, down, **_edge_attrs(data, graph.nodes[up].get("kind")))
    return str(dot)


def _column_body(dot: DotWriter, graph: nx.DiGraph) -> None:
    products: dict[str, list[str]] = {}
    for node, data in graph.nodes(data=True):
        products.setdefault(data["product_id"], []).append(node)
    for product_id, nodes in sorted(products.items()):
        first = graph.nodes[nodes[0]]
        if first.get("kind") in ("locked", "restricted"):  # one node stands for a product the viewer may not read
            dot.node(nodes[0], **_node_attrs(graph, nodes[0], {**first, "kind": first["kind"].replace(
                "locked", "product")}, None))
            continue
        quality = first.get("quality", "unchecked")
        pen, width, _ = QUALITY_PEN.get(quality, QUALITY_PEN["unchecked"])
        label = product_id + ("  ⚠ broken" if first.get("broken") else
                              f"  {QUALITY_MARK[quality]}" if QUALITY_MARK.get(quality) else "")
        focus = product_id == graph.graph.get("focus")
        dot.open_cluster(product_id, label=label, style="rounded,filled",
                         fillcolor=domain_colour(graph, first["domain"]),
                         color="#b91c1c" if first.get("broken") else pen, penwidth="3.5" if focus else width,
                         fontname="Helvetica-Bold" if focus else "Helvetica", id=f"cluster-{product_id}")
        for node in nodes:
            data = graph.nodes[node]
            dot.node(node, label=data["column"], shape="box", style="rounded,filled", fillcolor="white",
                     color="#9ca3af", tooltip=f"{node} {data.get('type') or ''}".strip(), id=f"node-{node}")
        dot.close_cluster()

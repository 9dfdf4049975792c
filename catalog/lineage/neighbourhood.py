"""The lineage a person looks at: the whole graph, a product's neighbourhood (collapsed when large) or
the mesh overview, annotated with quality status and as the viewer may see it.

Shared by the facade, the app page and the CLI so all draw the same graph. Every neighbourhood node keeps
its `distance` from the focus product (negative upstream, positive downstream).
"""

from __future__ import annotations

import networkx as nx

from catalog.access.policy import Policy
from catalog.errors import MeshError, UnknownProduct
from catalog.lineage.graph import (Level, LineageIndex, domain_graph, domain_node, downstream_distances,
                                   upstream_distances)
from catalog.lineage.health import annotate
from catalog.lineage.visibility import for_viewer

COLLAPSE_OVER = 40
_SEVERITY = {"fail": 3, "stale": 2, "pass": 1, "unchecked": 0}


def lineage_graph(index: LineageIndex, columns: bool = False, level: Level = "product",
                  policy: Policy | None = None) -> nx.DiGraph:
    """A fresh copy of the requested lineage graph, annotated with the latest quality status, as `policy`'s
    viewer may see it (locked products without columns or quality, hidden ones anonymous)."""
    if level not in ("product", "domain"):
        raise MeshError(f"unknown lineage level {level!r}; use 'product' or 'domain'")
    if columns and level != "product":
        raise MeshError("column lineage exists at product level only; drop level='domain' or columns=True")
    if level == "domain" and policy is not None and not policy.unfiltered:
        return annotate(index, domain_graph(index.mesh, for_viewer(index.products, policy)), policy)
    graph = index.columns if columns else index.products if level == "product" else index.domains
    graph = annotate(index, graph.copy(), policy)
    return for_viewer(graph, policy) if policy is not None else graph


def neighbourhood(index: LineageIndex, product_id: str, up: int | None = 2, down: int | None = 2,
                  columns: bool = False, sources: bool = True, policy: Policy | None = None) -> nx.DiGraph:
    """Products (and sources) within `up` hops upstream and `down` hops downstream of a product.

    With `columns`, the column lineage of those same products instead. `None` means no limit. With a
    `policy`, as its viewer may see it; a product hidden from them is unknown, like an id that does not exist.
    """
    if policy is not None and policy.is_hidden(product_id):
        raise UnknownProduct(f"no product {str(product_id)[:200]!r} in mesh {index.mesh.name!r}")
    distances = {product_id: 0}
    distances.update({n: -d for n, d in upstream_distances(index, product_id, up).items()})
    distances.update(downstream_distances(index, product_id, down))
    if columns:
        products = [n for n in distances if index.products.nodes[n]["kind"] == "product"]
        graph = index.column_subgraph(products)
        for node, data in graph.nodes(data=True):
            data["distance"] = distances[data["product_id"]]
    else:
        keep = [n for n in distances if sources or index.products.nodes[n]["kind"] != "source"]
        graph = nx.DiGraph(index.products.subgraph(keep))
        for node, data in graph.nodes(data=True):
            data["distance"] = distances[node]
    graph.graph.update(focus=product_id, up=up, down=down)
    graph = annotate(index, graph, policy)
    return for_viewer(graph, policy) if policy is not None else graph


def collapse_by_domain(graph: nx.DiGraph, limit: int = COLLAPSE_OVER) -> nx.DiGraph:
    """When a product-level graph has more than `limit` nodes, fold whole domains into one node each.

    The focus product and its direct neighbours stay visible; the domains with the most
    folded nodes are collapsed first, until the graph fits. Edges between folded nodes
    merge and carry a `count`; a folded domain shows its worst quality status.
    """
    if graph.number_of_nodes() <= limit:
        return graph
    focus = graph.graph.get("focus")
    pinned = {focus, *graph.predecessors(focus), *graph.successors(focus)} if focus in graph else set()
    by_domain: dict[str, list[str]] = {}
    for node, data in graph.nodes(data=True):
        if node not in pinned and data.get("domain"):
            by_domain.setdefault(data["domain"], []).append(node)
    mapping: dict[str, str] = {}
    size = graph.number_of_nodes()
    for domain, members in sorted(by_domain.items(), key=lambda kv: -len(kv[1])):
        if size <= limit:
            break
        for node in members:
            mapping[node] = domain_node(domain)
        size -= len(members) - 1
    out = nx.DiGraph(**graph.graph, collapsed=sorted({d.removeprefix("domain:") for d in mapping.values()}))
    for node, data in graph.nodes(data=True):
        target = mapping.get(node, node)
        if target == node:
            out.add_node(node, **data)
            continue
        if target not in out:
            out.add_node(target, kind="domain", domain=data["domain"], label=data["domain"], products=0,
                         sources=0, broken=0, quality="unchecked", distance=data.get("distance", 0))
        folded = out.nodes[target]
        if data.get("kind") == "product":
            folded["products"] += 1
            folded["broken"] += bool(data.get("broken"))
            if _SEVERITY.get(data.get("quality", ""), 0) > _SEVERITY[folded["quality"]]:
                folded["quality"] = data["quality"]
        else:
            folded["sources"] += 1
    for up, down, data in graph.edges(data=True):
        a, b = mapping.get(up, up), mapping.get(down, down)
        if a == b:
            continue
        if out.has_edge(a, b):
            out.edges[a, b]["count"] += 1
            out.edges[a, b]["cross_domain"] |= data.get("cross_domain", False)
        else:
            out.add_edge(a, b, **{**data, "count": 1})
    return out


def mesh_overview(index: LineageIndex, limit: int = COLLAPSE_OVER, max_flows: int = 60,
                  policy: Policy | None = None) -> nx.DiGraph:
    """The whole mesh: domains, and the products that flow from one domain into another.

    Each domain is a cluster holding the products at either end of a cross-domain edge; when
    there are more than `limit` of them, the domain-level graph (one node per domain, edges
    labelled with how many products flow) is returned instead, keeping its `max_flows`
    heaviest edges (`graph.graph["hidden_flows"]` says how many were left out, and
    `hidden_domains` how many domains were then left without a drawn flow and dropped). With a `policy`,
    as its viewer may see it.
    """
    products = index.products if policy is None else for_viewer(index.products, policy)
    domains = index.domains if products is index.products else domain_graph(index.mesh, products)
    flowing = {node for _, _, data in domains.edges(data=True) for pair in data["flows"] for node in pair}
    if len(flowing) > limit or not flowing:
        graph = domains.copy()
        ranked = sorted(graph.edges(data=True), key=lambda e: (-e[2]["count"], e[0], e[1]))
        graph.remove_edges_from([(u, v) for u, v, _ in ranked[max_flows:]])
        graph.graph["hidden_flows"] = max(0, len(ranked) - max_flows)
        if graph.graph["hidden_flows"]:
            lonely = [n for n in graph if graph.degree(n) == 0]
            graph.remove_nodes_from(lonely)
            graph.graph["hidden_domains"] = len(lonely)
        return graph
    graph = nx.DiGraph(products.subgraph(flowing))
    graph.remove_edges_from([(u, v) for u, v, d in graph.edges(data=True) if not d["cross_domain"]])
    graph.graph.update(level="product", clusters=True)
    return annotate(index, graph, policy)

"""Lineage as one viewer may see it: the policy applied to any lineage graph.

A product the viewer may read keeps everything. A locked product keeps its name, title,
domain and owner but none of its columns, problems, sources or quality. A hidden product
becomes an anonymous `restricted:N` node (kind "restricted") so the graph stays honest
about there being something there, without saying what. Sources and missing names are kept
only when they feed a product the viewer may read.
"""

from __future__ import annotations

import re

import networkx as nx

from catalog.access.policy import HIDDEN_LABEL, Policy

LOCKED_QUALITY = "locked"
_LOCKED_KEEP = ("kind", "label", "domain", "owner", "title", "broken", "distance", "ports")  # ports: to ask for one


def locked_node(node: str, data: dict) -> dict:
    """The attributes a locked product's node keeps (what a locked card shows, nothing measured)."""
    kept = {k: data[k] for k in _LOCKED_KEEP if k in data}
    kept.update(kind="product", label=node, locked=True, quality=LOCKED_QUALITY, quality_reasons=[],
                score=None, grade=None, problems=[], problem_messages=[])
    return kept


def hidden_node(alias: str, data: dict) -> dict:
    """An anonymous node: no id, domain, owner or title; only where it sits in the graph."""
    kept = {"kind": "restricted", "label": HIDDEN_LABEL, "domain": "", "owner": "", "title": HIDDEN_LABEL,
            "hidden": True, "broken": False, "quality": LOCKED_QUALITY, "quality_reasons": [], "product_id": alias}
    if "distance" in data:
        kept["distance"] = data["distance"]
    return kept


_TEXTS = ("quality_reasons", "problems", "problem_messages")


def _scrubbed(data: dict, policy: Policy) -> dict:
    """A readable product's node, with any hidden product its texts name (a check referencing it, a problem)
    replaced by its anonymous alias."""
    if not policy.hidden:
        return data
    pattern = re.compile(r"(?<![\w.])(" + "|".join(re.escape(pid) for pid in sorted(policy.hidden, key=len,
                                                                                     reverse=True)) + r")(?![\w])")
    out = dict(data)
    for key in _TEXTS:
        if isinstance(out.get(key), list):
            out[key] = [pattern.sub(lambda m: policy.alias(m.group(1)), str(t)) for t in out[key]]
    return out


def for_viewer(graph: nx.DiGraph, policy: Policy) -> nx.DiGraph:
    """A copy of a product- or column-level lineage graph with `policy` applied (the graph itself when
    the policy is the unfiltered one)."""
    if policy.unfiltered:
        return graph
    if graph.graph.get("level") == "column":
        return _columns(graph, policy)
    out = nx.DiGraph(**graph.graph)
    mapping: dict[str, str] = {}
    for node, data in graph.nodes(data=True):
        kind = data.get("kind")
        if kind == "product":
            if policy.can_see(node):
                mapping[node] = node
                out.add_node(node, **_scrubbed(data, policy))
            elif policy.is_locked(node):
                mapping[node] = node
                out.add_node(node, **locked_node(node, data))
            else:
                alias = policy.alias(node)
                mapping[node] = alias
                out.add_node(alias, **hidden_node(alias, data))
        elif kind in ("source", "missing"):
            if any(policy.can_see(s) for s in graph.successors(node)):
                mapping[node] = node
                out.add_node(node, **data)
        else:
            mapping[node] = node
            out.add_node(node, **data)
    for up, down, data in graph.edges(data=True):
        if up in mapping and down in mapping and not out.has_edge(mapping[up], mapping[down]):
            out.add_edge(mapping[up], mapping[down], **data)
    return out


def _columns(graph: nx.DiGraph, policy: Policy) -> nx.DiGraph:
    """Column level: a product the viewer may not read is one node (its id when locked, an alias when
    hidden) instead of its columns, so no column name of it is shown."""
    out = nx.DiGraph(**{**graph.graph, "notes": {k: v for k, v in graph.graph.get("notes", {}).items()
                                                 if policy.can_see(k)}})
    mapping: dict[str, str] = {}
    for node, data in graph.nodes(data=True):
        pid = data.get("product_id", "")
        if policy.can_see(pid):
            mapping[node] = node
            out.add_node(node, **_scrubbed(data, policy))
            continue
        if policy.is_locked(pid):
            target, attrs = pid, {**locked_node(pid, data), "kind": "locked", "product_id": pid, "column": ""}
        else:
            target = policy.alias(pid)
            attrs = {**hidden_node(target, data), "column": ""}
        mapping[node] = target
        if target not in out:
            out.add_node(target, **attrs)
    for up, down, data in graph.edges(data=True):
        a, b = mapping[up], mapping[down]
        if a != b and not out.has_edge(a, b):
            out.add_edge(a, b, **data)
    return out

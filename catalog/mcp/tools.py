"""What each MCP tool answers, for one caller, from the facade's viewer-aware calls and the governed `Session`.

Every function takes the mesh, the `Caller` and the tool's arguments and returns plain JSON-ready data. None
decides visibility: the caller's `Policy` (`mesh.policy(role, user)`) and the session do, exactly as for a
workbench user, so masking, restrictions, live grants and usage events are the same whatever asks.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Literal

import networkx as nx
import polars as pl

from catalog.access.policy import LockedProduct, Policy
from catalog.errors import AccessDenied, MeshError
from catalog.lineage.neighbourhood import neighbourhood
from catalog.mcp.caller import Caller
from catalog.mesh import Mesh

SEARCH_LIMIT = 50
FILTERS = ("domain", "tag", "owner", "grade", "kind")
NODE_FIELDS = ("kind", "domain", "owner", "title", "broken", "quality", "distance", "product_id", "column",
               "source_kind", "locked", "hidden")


def rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as JSON values (dates and times as ISO text, decimals as numbers)."""
    return json.loads(frame.write_json()) if frame.height else []


def viewer(mesh: Mesh, caller: Caller) -> Policy:
    return mesh.policy(caller.role, caller.user)


def locked_note(card: LockedProduct, role: str) -> str:
    return (f"{card.id} is restricted and the role {role!r} may not read it: its columns, sample rows and "
            f"checks are shown once its owner ({card.owner or 'see its domain'}) grants access "
            f"(`meshwork request {card.id}` or the Marketplace page).")


# ---------------------------------------------------------------------- search

def search_products(mesh: Mesh, caller: Caller, text: str = "", filters: dict[str, list[str]] | None = None,
                    pii: bool | None = None, sort: str = "relevance", limit: int = 20) -> dict[str, Any]:
    """Ranked hits with their facets, as the caller may see them (locked products marked, hidden ones absent)."""
    options: dict[str, Any] = {k: v for k, v in (filters or {}).items() if v and k in FILTERS}
    if pii is not None:
        options["pii"] = pii
    results = mesh.search(text, limit=max(1, min(limit, SEARCH_LIMIT)), sort=sort, policy=viewer(mesh, caller),
                          **options)
    hits = [{**row, "locked": hit.locked} for row, hit in zip(rows(results.frame()), results.hits)]
    return {"query": results.query, "total": results.total, "hits": hits, "corrections": results.corrections,
            "facets": {name: dict(values) for name, values in results.facets.items()}}


# ---------------------------------------------------------------------- describe

def describe_product(mesh: Mesh, caller: Caller, product_id: str, sample_rows: int) -> dict[str, Any]:
    """Everything a product page shows the caller: schema (with what is masked for them), owner, SLA, terms,
    latest quality, trust, and a few sample rows read through their governed session (masked as they see it).
    A locked product is its card only."""
    policy = viewer(mesh, caller)
    product = mesh.product_for(product_id, policy)
    if isinstance(product, LockedProduct):
        return {**product.as_dict(), "locked": True,
                "note": locked_note(product, caller.role)}
    d = product.descriptor
    unmasked = policy.sees_pii(product.id)
    quality = mesh.latest_quality(caller.role, caller.user).filter(pl.col("product_id") == product.id)
    out: dict[str, Any] = {
        "id": product.id, "title": product.title, "domain": product.domain, "owner": product.owner,
        "description": d.description, "status": d.status, "version": d.version, "tags": d.tags,
        "kind": product.kind, "broken": product.broken, "locked": False, "restricted": d.access.restricted,
        "sla": d.sla.model_dump(exclude_none=True),
        "schema": [{"name": c.name, "type": c.type, "description": c.description, "key": c.key, "pii": c.pii,
                    "pii_category": c.pii_category if c.pii else None, "masked": c.pii and not unmasked}
                   for c in product.columns],
        "quality": rows(quality)[0] if quality.height else None,
        "trust": asdict(mesh.trust(product.id, caller.role, caller.user)),
        "upstreams": sorted(p for p in mesh.upstreams(product.id) if policy.is_listed(p)),
        "downstreams": sorted(p for p in mesh.downstreams(product.id) if policy.is_listed(p)),
    }
    terms = getattr(d, "terms", None)  # glossary terms, on meshes whose descriptors carry them
    if terms:
        out["terms"] = [t.model_dump(exclude_none=True) if hasattr(t, "model_dump") else t for t in terms]
    if product.broken:
        out["problems"] = [str(p) for p in mesh.problems_of(product.id)]
    elif sample_rows > 0 and policy.can_query(product.id):
        try:
            result = mesh.session(caller.role, caller.user).run(f"SELECT * FROM {product.id} LIMIT {sample_rows}",
                                                                max_rows=sample_rows)
            out["sample"] = {"rows": rows(result.frame), "masked": not unmasked and bool(product.pii_columns)}
        except MeshError as exc:
            out["sample"] = {"error": str(exc)}
    return out


# ---------------------------------------------------------------------- lineage

def _graph(graph: nx.DiGraph) -> dict[str, Any]:
    nodes = sorted(graph.nodes(data=True), key=lambda nd: (nd[1].get("distance", 0), nd[0]))
    return {"focus": graph.graph.get("focus"),
            "nodes": [{"id": n, **{k: d[k] for k in NODE_FIELDS if k in d}} for n, d in nodes],
            "edges": [{"from": u, "to": v, "cross_domain": d.get("cross_domain", False)}
                      for u, v, d in sorted(graph.edges(data=True))]}


def lineage(mesh: Mesh, caller: Caller, product_id: str, direction: Literal["both", "upstream", "downstream"],
            depth: int) -> dict[str, Any]:
    """A product's upstream and downstream products and sources, as the caller may see them (locked products
    without columns or quality, hidden ones as anonymous `restricted:N` nodes)."""
    policy = viewer(mesh, caller)
    mesh.product_for(product_id, policy)
    limit = depth or None
    graph = neighbourhood(mesh.lineage_index, product_id, up=0 if direction == "downstream" else limit,
                          down=0 if direction == "upstream" else limit, policy=policy)
    return _graph(graph)


def impact(mesh: Mesh, caller: Caller, target: str) -> dict[str, Any]:
    """Every product and column downstream of a product or `<product>.<column>`, nearest first, and the owners
    to tell before changing it."""
    result = mesh.impact(target, columns=True, role=caller.role, user=caller.user)
    return {"target": result.target, "owners": list(result.owners), "domains": list(result.domains),
            "impacted": rows(result.frame())}


# ---------------------------------------------------------------------- governed SQL

def run_sql(mesh: Mesh, caller: Caller, sql: str, max_rows: int, cap: int) -> dict[str, Any]:
    """One governed query in the caller's session: vetted by the gate, masked for them, counted as their usage;
    at most `cap` rows come back (the count is exact). A refusal raises with the gate's reason."""
    if not isinstance(sql, str) or not sql.strip():
        raise MeshError("give one SELECT over the products, e.g. SELECT * FROM <domain>.<product> LIMIT 10")
    result = mesh.session(caller.role, caller.user).run(sql, max_rows=max(1, min(max_rows, cap)))
    frame = result.frame
    return {"columns": [{"name": name, "type": str(dtype)} for name, dtype in frame.schema.items()],
            "rows": rows(frame), "row_count": frame.height, "total_rows": result.total_rows,
            "truncated": result.truncated, "products": result.products, "duration_ms": round(result.duration_ms, 1),
            "note": result.note()}


# ---------------------------------------------------------------------- scorecards

def scorecard(mesh: Mesh, caller: Caller, domain: str | None) -> dict[str, Any]:
    """One row per domain (or per product of `domain`): quality, checks, freshness, docs, compliance, usage and
    lineage health, as the caller may see them (locked products unmeasured, hidden ones left out)."""
    if domain is not None and domain not in mesh.domains:
        raise MeshError(f"no domain {domain[:100]!r} in mesh {mesh.name!r}; domains: {', '.join(sorted(mesh.domains))}")
    return {"domain": domain, "rows": rows(mesh.scorecard(domain, role=caller.role, user=caller.user))}


def open_incidents(mesh: Mesh, caller: Caller, product_id: str | None, domain: str | None) -> dict[str, Any]:
    """Open incidents (failing checks, missed SLAs, volume anomalies), newest first, of the products the caller
    sees in full; with `product_id`, also those of its upstream products (the likely root cause)."""
    if domain is not None and domain not in mesh.domains:
        raise MeshError(f"no domain {domain[:100]!r} in mesh {mesh.name!r}; domains: {', '.join(sorted(mesh.domains))}")
    own = mesh.incident_list("open", product_id=product_id, domain=domain, role=caller.role, user=caller.user)
    out: dict[str, Any] = {"incidents": rows(own)}
    if product_id is not None:
        out["upstream"] = rows(mesh.upstream_incidents(product_id, role=caller.role, user=caller.user))
    return out


def refuse_locked(product: Any, caller: Caller) -> None:
    """AccessDenied for a locked card: what a resource answers instead of a descriptor's or contract's body."""
    if isinstance(product, LockedProduct):
        raise AccessDenied(locked_note(product, caller.role))

"""Quality status of each product as lineage shows it, and root cause: which upstream is failing.

Status comes from the latest quality run of each product (the index's `reports`, which the facade
reads from `catalog.quality`) plus one cheap signal computed here: a file source whose newest file is
older than its `sla.freshness_hours` is stale even if no check has run. Once a run has measured freshness
(on the data's timestamps), that measure is the one shown: a file copied today does not make old data fresh.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import polars as pl

from catalog.access.policy import Policy
from catalog.errors import UnknownProduct
from catalog.lineage.graph import LineageIndex, upstream_distances
from catalog.sources import modified_at
from catalog.numbers import source_changed_text

Status = Literal["pass", "fail", "stale", "unchecked"]
FAILING = ("fail", "error")


@dataclass(frozen=True)
class Health:
    """What lineage shows about one product: status, why, and the latest score if any."""

    status: Status
    reasons: tuple[str, ...] = ()
    score: float | None = None
    grade: str | None = None
    checked_at: str | None = None


def _field(obj: Any, name: str, default: Any = None) -> Any:
    return obj.get(name, default) if isinstance(obj, dict) else getattr(obj, name, default)


def _from_report(report: Any) -> Health:
    failing, stale = [], []
    for check in _field(report, "checks", None) or []:
        status = _field(check, "status")
        if status not in FAILING:
            continue
        kind = _field(check, "kind") or _field(check, "check")
        name = _field(check, "name") or _field(check, "label") or kind or "check"
        message = _field(check, "message") or _field(check, "detail") or ""
        text = f"{name}: {status}" + (f" ({message})" if message else "")
        (stale if kind == "freshness" else failing).append(text)
    status: Status = "fail" if failing else "stale" if stale else "pass"
    ts = _field(report, "ts")
    return Health(status, tuple(failing + stale), _field(report, "score"), _field(report, "grade"),
                  str(ts) if ts is not None else None)


def product_health(index: LineageIndex, product_ids: list[str] | None = None,
                   policy: Policy | None = None) -> dict[str, Health]:
    """Health of the given products (all by default): latest checks plus file age against the SLA; the reasons
    as `policy`'s viewer may read them."""
    mesh = index.mesh
    reports = {pid: run for pid, run in index.reports(policy).items() if pid in mesh.products}
    now = time.time()
    out: dict[str, Health] = {}
    for product_id in product_ids if product_ids is not None else list(mesh.products):
        product = mesh.products[product_id]
        health = _from_report(reports[product_id]) if product_id in reports else Health("unchecked")
        hours = product.descriptor.sla.freshness_hours
        measured = product_id in reports and any(
            (_field(c, "kind") or _field(c, "check")) == "freshness" for c in _field(reports[product_id], "checks", None) or [])
        mtime = modified_at(product) if hours and not measured else None
        if mtime is not None and (now - mtime) / 3600 > hours:
            reason = source_changed_text((now - mtime) / 3600, hours)
            status: Status = "fail" if health.status == "fail" else "stale"
            health = Health(status, (*health.reasons, reason), health.score, health.grade, health.checked_at)
        out[product_id] = health
    return out


def annotate(index: LineageIndex, graph: nx.DiGraph, policy: Policy | None = None) -> nx.DiGraph:
    """Set `quality`, `quality_reasons`, `score`, `grade` on product and column nodes, in place (the reasons
    redacted for `policy`'s viewer)."""
    products = index.mesh.products
    wanted = sorted({data.get("product_id", node) for node, data in graph.nodes(data=True)
                     if data.get("kind") in ("product", "column") and data.get("product_id", node) in products})
    health = product_health(index, wanted, policy)
    for node, data in graph.nodes(data=True):
        if data.get("kind") in ("product", "column") and data.get("product_id", node) in health:
            h = health[data.get("product_id", node)]
            data.update(quality=h.status, quality_reasons=list(h.reasons), score=h.score, grade=h.grade)
    return graph


# ------------------------------------------------------------------ root cause

@dataclass(frozen=True)
class Cause:
    """An upstream product that can explain trouble downstream."""

    product_id: str
    distance: int
    status: str  # "fail", "stale" or "broken"
    reasons: tuple[str, ...]
    domain: str
    owner: str


@dataclass(frozen=True)
class RootCause:
    """Upstream products of `product_id` that are broken, failing their checks, or past their SLA."""

    product_id: str
    causes: tuple[Cause, ...]  # nearest first
    upstream_products: int  # how many upstream products were examined

    def frame(self) -> pl.DataFrame:
        rows = [{"product_id": c.product_id, "distance": c.distance, "status": c.status,
                 "reasons": "; ".join(c.reasons), "domain": c.domain, "owner": c.owner} for c in self.causes]
        return pl.DataFrame(rows, schema={"product_id": pl.String, "distance": pl.Int64, "status": pl.String,
                                          "reasons": pl.String, "domain": pl.String, "owner": pl.String})


def root_cause(index: LineageIndex, product_id: str, policy: Policy | None = None) -> RootCause:
    """Walk upstream of a product and list the upstream products that are broken, failing or stale; with a
    `policy`, only products its viewer may see in full are named (a hidden target is an unknown product)."""
    graph = index.products
    if policy is not None and policy.is_hidden(product_id):
        raise UnknownProduct(f"no product {str(product_id)[:200]!r} in mesh {index.mesh.name!r}")
    upstream = {n: d for n, d in upstream_distances(index, product_id).items() if graph.nodes[n]["kind"] == "product"}
    shown = {n: d for n, d in upstream.items() if policy is None or policy.can_see(n)}
    health = product_health(index, sorted(shown), policy)
    causes = []
    for node, distance in sorted(shown.items(), key=lambda kv: (kv[1], kv[0])):
        data, h = graph.nodes[node], health[node]
        if data["broken"]:
            causes.append(Cause(node, distance, "broken", tuple(data["problems"]), data["domain"], data["owner"]))
        elif h.status in ("fail", "stale"):
            causes.append(Cause(node, distance, h.status, h.reasons, data["domain"], data["owner"]))
    return RootCause(product_id, tuple(causes), len(upstream))

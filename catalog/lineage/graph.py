"""Lineage of a mesh as networkx graphs (edges upstream -> downstream), and impact analysis.

Three graphs, each a pure function of the descriptors and so built once per `LineageIndex` (the facade
holds one per mesh):

* product level (`mesh.lineage()`): nodes are products (`retail.customers`, kind
  "product"), the sources they read in place (`source:parquet:retail/data/c.parquet`,
  kind "source") and names a derived product's SQL reads that are not products
  (`missing:retail.nope`, kind "missing"); edges carry `cross_domain`.
* domain level (`mesh.lineage(level="domain")`): one node per domain (`domain:retail`)
  and an edge where products flow from one domain into another (`flows`, `count`).
* column level (`mesh.lineage(columns=True)`): nodes `<product_id>.<column>`; each output
  column of a derived product is linked to the upstream columns it is computed from.

Ingested OpenLineage events (catalog.lineage.events) add what other tools ran: a job that reads and writes
only products of this mesh (a dbt model) links them directly (the edge names the job, its columnLineage
links their columns); any other job appears as an external node (`job:<namespace>/<name>`, kind "job"),
and datasets outside the mesh as `external:<namespace>/<name>` (kind "external").

Quality status is not part of the cached structure: `mesh.lineage()` returns a copy
annotated with the latest status (see `catalog.lineage.health`), read through the index's `reports`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Literal

import networkx as nx
import polars as pl

from catalog import sqlutil
from catalog.access.policy import Policy
from catalog.descriptors.column_lineage import ColumnLineage, trace_columns
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import Column, DataProduct
from catalog.descriptors.ports import output_ports
from catalog.errors import UnknownProduct
from catalog.lineage.events import Dataset, Flow, mesh_namespace
from catalog.sources import place

# Product id -> its latest stored quality run (with "score", "grade", "ts" and its check results under
# "checks"), the results as `policy`'s viewer may read them: where lineage's quality status comes from.
Reports = Callable[[Policy | None], Mapping[str, Mapping[str, Any]]]

SOURCE = "source:"
MISSING = "missing:"
DOMAIN = "domain:"
JOB = "job:"
EXTERNAL = "external:"
Level = Literal["product", "domain"]


# ------------------------------------------------------------------ node ids

def domain_node(domain: str) -> str:
    return f"{DOMAIN}{domain}"


def column_node(product_id: str, column: str) -> str:
    return f"{product_id}.{column}"


def source_node(mesh_root: Path, product: DataProduct) -> tuple[str, str]:
    """(node id, short label) of the place a source-backed product reads (catalog.sources.place); secrets
    never appear."""
    where, label = place(product, mesh_root)
    return f"{SOURCE}{where}", label


# ------------------------------------------------------------------ the cached index

def _unchecked(policy: Policy | None) -> Mapping[str, Mapping[str, Any]]:
    return {}


def _no_agreements() -> list[tuple[str, str, int, str]]:
    return []


def _no_flows() -> list[Flow]:
    return []


class LineageIndex:
    """The structural graphs of one mesh, built once and on demand (thread-safe), and `reports`, where the
    quality status lineage shows comes from (none: every product unchecked)."""

    def __init__(self, mesh: DeclaredMesh, reports: Reports = _unchecked, flows: Callable[[], list[Flow]] = _no_flows,
                 agreements: Callable[[], list[tuple[str, str, int, str]]] = _no_agreements):
        self.mesh = mesh
        self.reports = reports
        self.flows = flows  # ingested OpenLineage flows, read when the product graph is built
        # active access agreements of consuming products: (provider, consumer product, agreement id, port)
        self.agreements = agreements
        self.namespace = mesh_namespace(mesh.name)
        self._ingested_columns: dict[str, list[tuple[str, str, str]]] = {}
        self._lock = threading.RLock()
        self._products: nx.DiGraph | None = None
        self._domains: nx.DiGraph | None = None
        self._columns: nx.DiGraph | None = None
        self._traced: dict[str, ColumnLineage] = {}
        self._tracing: set[str] = set()
        self._readers: dict[str, dict[tuple[str, str], list[str]]] = {}

    # ---------------------------------------------------------------- product level

    @property
    def products(self) -> nx.DiGraph:
        with self._lock:
            if self._products is None:
                self._products = self._build_products()
            return self._products

    def _build_products(self) -> nx.DiGraph:
        mesh = self.mesh
        graph = nx.DiGraph(level="product", domains=sorted(set(mesh.domains) | {p.domain for p in mesh.products.values()}))
        problems: dict[str, list[str]] = {}
        errors: dict[str, list[str]] = {}
        for problem in mesh.problems:
            if problem.product_id:
                problems.setdefault(problem.product_id, []).append(str(problem))
                if problem.severity == "error":
                    where = f"line {problem.line}: " if problem.line else ""
                    errors.setdefault(problem.product_id, []).append(f"{where}{problem.message}")
        for product in mesh.products.values():
            graph.add_node(product.id, kind="product", label=product.id, domain=product.domain,
                           owner=product.owner or mesh.domains.get(product.domain, _NO_DOMAIN).owner,
                           title=product.title, source_kind=product.kind, broken=product.broken,
                           problems=problems.get(product.id, []), problem_messages=errors.get(product.id, []),
                           ports=[{"name": p.name, "kind": p.kind, "approval": p.approval}
                                  for p in output_ports(product)])
        for product in mesh.products.values():
            if product.kind == "sql":
                for upstream in sorted(mesh.upstreams(product.id)):
                    graph.add_edge(upstream, product.id,
                                   cross_domain=mesh.products[upstream].domain != product.domain)
                if product.broken:
                    self._add_missing(graph, product)
            else:
                node, label = source_node(mesh.root, product)
                if node not in graph:
                    graph.add_node(node, kind="source", label=label, source_kind=product.kind, domain=product.domain)
                graph.add_edge(node, product.id, cross_domain=False)
        self._add_flows(graph)
        self._add_agreements(graph)
        return graph

    def _add_agreements(self, graph: nx.DiGraph) -> None:
        """A consuming product's active agreement: an edge provider -> consumer of kind `agreement` (across
        domains, usually); where the consumer's SQL already reads the provider, that edge names the agreement."""
        for provider, consumer, agreement_id, port in self.agreements():
            if provider not in self.mesh.products or consumer not in self.mesh.products or provider == consumer:
                continue
            if graph.has_edge(provider, consumer):
                graph.edges[provider, consumer].setdefault("agreements", []).append(agreement_id)
                continue
            graph.add_edge(provider, consumer, kind="agreement", agreement=agreement_id, port=port,
                           agreements=[agreement_id],
                           cross_domain=self.mesh.products[provider].domain != self.mesh.products[consumer].domain)

    def _product_of(self, dataset: Dataset) -> str | None:
        return dataset.name if dataset.namespace == self.namespace and dataset.name in self.mesh.products else None

    def _add_flows(self, graph: nx.DiGraph) -> None:
        """Ingested jobs: between products of this mesh, direct edges (and column links); else external nodes."""
        self._ingested_columns = {}
        for flow in self.flows():
            inputs = [(d, self._product_of(d)) for d in flow.inputs]
            outputs = [(d, self._product_of(d)) for d in flow.outputs]
            job = f"{flow.job_namespace}/{flow.job_name}"
            if outputs and all(pid for _, pid in inputs + outputs):
                for _, up in inputs:
                    for _, down in outputs:
                        if up != down and not graph.has_edge(up, down):
                            crossing = self.mesh.products[up].domain != self.mesh.products[down].domain
                            graph.add_edge(up, down, job=job, ingested=True, cross_domain=crossing)
                for (target, out), links in flow.columns.items():
                    down = self._product_of(target)
                    for source, col in links:
                        up = self._product_of(source)
                        if down and up:
                            self._ingested_columns.setdefault(down, []).append((up, col, out))
                continue
            node = f"{JOB}{job}"
            graph.add_node(node, kind="job", label=job, domain="", owner=flow.owner, title=flow.description or job,
                           broken=False, external=True, problems=[], problem_messages=[])
            for dataset, pid in inputs:
                graph.add_edge(pid or self._external(graph, dataset), node, cross_domain=False, ingested=True)
            for dataset, pid in outputs:
                graph.add_edge(node, pid or self._external(graph, dataset), cross_domain=False, ingested=True)

    @staticmethod
    def _external(graph: nx.DiGraph, dataset: Dataset) -> str:
        node = f"{EXTERNAL}{dataset.namespace}/{dataset.name}"
        if node not in graph:
            graph.add_node(node, kind="external", label=dataset.name, namespace=dataset.namespace, domain="",
                           owner="", broken=False, external=True, problems=[], problem_messages=[])
        return node

    def reload_flows(self) -> None:
        """Forget the graphs built with the ingested flows and agreements, so the next read shows newly ingested
        events and agreements that began or ended."""
        with self._lock:
            self._products = self._domains = self._columns = None
            self._readers = {}

    def ingested_columns(self, product_id: str) -> list[tuple[str, str, str]]:
        """(upstream product, its column, output column) links ingested events state for `product_id`."""
        self.products  # noqa: B018 - building the product graph reads the flows
        return self._ingested_columns.get(product_id, [])

    def _add_missing(self, graph: nx.DiGraph, product: DataProduct) -> None:
        """Names a broken product's SQL reads that are not products, so its node shows what is wrong."""
        try:
            names = sqlutil.referenced_tables(sqlutil.parse_one_select(product.source.sql))
        except sqlutil.SqlParseError:
            return
        for name in sorted(names - set(self.mesh.products)):
            node = f"{MISSING}{name}"
            graph.add_node(node, kind="missing", label=name, domain=name.split(".", 1)[0] if "." in name else "")
            graph.add_edge(node, product.id, cross_domain=False)

    # ---------------------------------------------------------------- domain level

    @property
    def domains(self) -> nx.DiGraph:
        with self._lock:
            if self._domains is None:
                self._domains = self._build_domains()
            return self._domains

    def _build_domains(self) -> nx.DiGraph:
        return domain_graph(self.mesh, self.products)

    # ---------------------------------------------------------------- column level

    def traced(self, product_id: str) -> ColumnLineage:
        """Column lineage of one product, traced on first use and kept."""
        with self._lock:
            if product_id not in self._traced:
                self._tracing.add(product_id)
                try:
                    product = self.mesh.products[product_id]
                    self._traced[product_id] = trace_columns(product, self.mesh.upstreams(product_id),
                                                             self._columns_of)
                finally:
                    self._tracing.discard(product_id)
            return self._traced[product_id]

    def _columns_of(self, product_id: str) -> list[Column] | None:
        product = self.mesh.products.get(product_id)
        if product is None:
            return None
        if product.columns:
            return product.columns
        if product.kind == "sql" and product_id not in self._tracing:
            # An undeclared derived upstream: its traced outputs still let `SELECT *` expand.
            return [Column.model_construct(name=n, type="UNKNOWN") for n in self.traced(product_id).outputs]
        return None

    def outputs(self, product_id: str) -> list[str]:
        return self.traced(product_id).outputs

    def readers(self, product_id: str) -> dict[tuple[str, str], list[str]]:
        """(upstream product, column) -> the output columns of `product_id` computed from it."""
        with self._lock:
            if product_id not in self._readers:
                reverse: dict[tuple[str, str], list[str]] = {}
                if product_id not in self.mesh.products:  # an external job or dataset: no columns of ours
                    return reverse
                for up, col, _, out in self.traced(product_id).edges():
                    reverse.setdefault((up, col), []).append(out)
                for up, col, out in self.ingested_columns(product_id):
                    if out not in reverse.setdefault((up, col), []):
                        reverse[(up, col)].append(out)
                self._readers[product_id] = reverse
            return self._readers[product_id]

    @property
    def columns(self) -> nx.DiGraph:
        with self._lock:
            if self._columns is None:
                self._columns = self.column_subgraph(self.mesh.products)
            return self._columns

    def column_subgraph(self, product_ids: Iterable[str]) -> nx.DiGraph:
        """Column nodes of these products and the links between them (links from outside are dropped)."""
        mesh, wanted = self.mesh, set(product_ids)
        graph = nx.DiGraph(level="column", domains=self.products.graph["domains"], notes={})
        for product_id in sorted(wanted):
            product = mesh.products[product_id]
            traced = self.traced(product_id)
            if traced.note:
                graph.graph["notes"][product_id] = traced.note
            declared = {c.name: c for c in product.columns}
            for name in traced.outputs or list(declared):
                column = declared.get(name)
                graph.add_node(column_node(product_id, name), kind="column", product_id=product_id, column=name,
                               label=name, domain=product.domain, type=column.type if column else "",
                               declared=column is not None, broken=product.broken)
        for product_id in sorted(wanted):
            for up, col, out in self.ingested_columns(product_id):
                if up in wanted:
                    ends = ((column_node(up, col), up, col), (column_node(product_id, out), product_id, out))
                    for node, pid, name in ends:
                        if node not in graph:
                            graph.add_node(node, kind="column", product_id=pid, column=name, label=name,
                                           domain=mesh.products[pid].domain, type="", declared=False,
                                           broken=mesh.products[pid].broken)
                    graph.add_edge(column_node(up, col), column_node(product_id, out), ingested=True,
                                   cross_domain=mesh.products[up].domain != mesh.products[product_id].domain)
            for up, col, _, out in self.traced(product_id).edges():
                if up in wanted and column_node(up, col) in graph:
                    graph.add_edge(column_node(up, col), column_node(product_id, out),
                                   cross_domain=mesh.products[up].domain != mesh.products[product_id].domain)
        return graph


class _NoDomain:
    owner = ""
    title = ""


_NO_DOMAIN = _NoDomain()


def domain_graph(mesh: DeclaredMesh, products: nx.DiGraph) -> nx.DiGraph:
    """One node per domain (`domain:<name>`) counting the product nodes of `products` in it, and an edge
    where products flow from one domain into another (`flows`, `count`)."""
    graph = nx.DiGraph(level="domain", domains=products.graph["domains"])
    members: dict[str, list[dict]] = {}
    for _, data in products.nodes(data=True):
        if data.get("kind") == "product":
            members.setdefault(data["domain"], []).append(data)
    for name in products.graph["domains"]:
        domain = mesh.domains.get(name, _NO_DOMAIN)
        graph.add_node(domain_node(name), kind="domain", label=name, domain=name, title=domain.title or name,
                       owner=domain.owner, products=len(members.get(name, [])),
                       broken=sum(bool(d.get("broken")) for d in members.get(name, [])))
    for up, down, data in products.edges(data=True):
        if data["cross_domain"] and products.nodes[up].get("kind") == products.nodes[down].get("kind") == "product":
            key = (domain_node(products.nodes[up]["domain"]), domain_node(products.nodes[down]["domain"]))
            if not graph.has_edge(*key):
                graph.add_edge(*key, flows=[], count=0, cross_domain=True)
            graph.edges[key]["flows"].append((up, down))
            graph.edges[key]["count"] += 1
    return graph


# ------------------------------------------------------------------ impact

def node_kind(node_id: str) -> str:
    """"product" for a product of this mesh; "job" or "external" for a node an ingested OpenLineage event named."""
    return "job" if node_id.startswith(JOB) else "external" if node_id.startswith(EXTERNAL) else "product"


@dataclass(frozen=True)
class ImpactedProduct:
    id: str
    distance: int
    domain: str
    owner: str
    broken: bool


@dataclass(frozen=True)
class ImpactedColumn:
    id: str
    product_id: str
    column: str
    distance: int


@dataclass(frozen=True)
class Impact:
    """Everything downstream of a product or column, nearest first, and who to tell."""

    target: str
    products: tuple[ImpactedProduct, ...]
    columns: tuple[ImpactedColumn, ...]
    owners: tuple[str, ...]  # product owners (or their domain's owner), nearest first
    domains: tuple[str, ...]  # domains of the impacted products, nearest first

    def frame(self) -> pl.DataFrame:
        """One row per impacted product and column: kind, id, product_id, column, distance, domain, owner."""
        info = {p.id: p for p in self.products}
        rows = [{"kind": node_kind(p.id), "id": p.id, "product_id": p.id, "column": None, "distance": p.distance,
                 "domain": p.domain, "owner": p.owner} for p in self.products]
        rows += [{"kind": "column", "id": c.id, "product_id": c.product_id, "column": c.column,
                  "distance": c.distance, "domain": info[c.product_id].domain if c.product_id in info else None,
                  "owner": info[c.product_id].owner if c.product_id in info else None} for c in self.columns]
        schema = {"kind": pl.String, "id": pl.String, "product_id": pl.String, "column": pl.String,
                  "distance": pl.Int64, "domain": pl.String, "owner": pl.String}
        return pl.DataFrame(rows, schema=schema).sort("distance", "kind", "id", descending=[False, True, False])


def _bfs(start: Iterable[str], successors: Callable[[str], Iterable[str]], depth: int | None = None) -> dict[str, int]:
    """Shortest hop count from any start node to every node reached (start nodes at 0)."""
    seen = {node: 0 for node in start}
    queue = deque(seen)
    while queue:
        node = queue.popleft()
        if depth is not None and seen[node] >= depth:
            continue
        for nxt in successors(node):
            if nxt not in seen:
                seen[nxt] = seen[node] + 1
                queue.append(nxt)
    return seen


def split_target(index: LineageIndex, target: str, policy: Policy | None = None) -> tuple[str, str | None]:
    """(product id, column or None) named by `target`; UnknownProduct with a hint otherwise. A product the
    viewer may not see is unknown (hidden) or names no column (locked), with the message an unknown id gets."""
    mesh = index.mesh
    unknown = UnknownProduct(f"no product or column {str(target)[:200]!r} in mesh {mesh.name!r}; name a product "
                             "as <domain>.<name> or a column as <domain>.<name>.<column>")
    if policy is not None and not policy.unfiltered:
        if target in mesh.products and not policy.is_hidden(target):
            return target, None
        product_id = str(target).rpartition(".")[0]
        if target in mesh.products or product_id not in mesh.products or not policy.can_see(product_id):
            raise unknown
    if target in mesh.products:
        return target, None
    product_id, _, column = target.rpartition(".")
    if product_id in mesh.products:
        names = {c.lower(): c for c in index.outputs(product_id)}
        names.update({c.name.lower(): c.name for c in mesh.products[product_id].columns})
        if column.lower() in names:
            return product_id, names[column.lower()]
        raise UnknownProduct(f"product {product_id!r} has no column {column!r}; its columns are "
                             f"{', '.join(sorted(names.values())) or 'not declared'}")
    raise unknown


def impact(index: LineageIndex, target: str, columns: bool = True, policy: Policy | None = None) -> Impact:
    """Downstream products and (with `columns`) columns of a product or a column, nearest first, as `policy`'s
    viewer may see them: locked products without their columns, hidden ones as anonymous `restricted:N`."""
    mesh = index.mesh
    products = index.products
    product_id, column = split_target(index, target, policy)
    if column is None:
        reached = _bfs([product_id], products.successors)
    else:
        columns = True
    impacted_columns: dict[str, int] = {}
    if columns:
        start = [column] if column is not None else index.outputs(product_id) or \
            [c.name for c in mesh.products[product_id].columns]

        def column_successors(node: str) -> list[str]:
            pid, col = node.split("\x00")
            return [f"{down}\x00{out}" for down in products.successors(pid)
                    for out in index.readers(down).get((pid, col), [])]

        reached_columns = _bfs([f"{product_id}\x00{c}" for c in start], column_successors)
        impacted_columns = {k: d for k, d in reached_columns.items() if d > 0}
        if column is not None:
            reached = {product_id: 0}
            for key, distance in impacted_columns.items():
                pid = key.split("\x00")[0]
                reached[pid] = min(distance, reached.get(pid, distance))
    impacted = sorted(((d, pid) for pid, d in reached.items() if d > 0))
    product_rows = tuple(ImpactedProduct(pid, d, products.nodes[pid]["domain"], products.nodes[pid]["owner"],
                                         products.nodes[pid]["broken"]) for d, pid in impacted)
    column_rows = tuple(sorted((ImpactedColumn(column_node(*k.split("\x00")), *k.split("\x00"), d)
                                for k, d in impacted_columns.items()), key=lambda c: (c.distance, c.id)))
    if policy is not None and not policy.unfiltered:
        product_rows = tuple(p if policy.is_listed(p.id) or products.nodes[p.id].get("external") else
                             ImpactedProduct(policy.alias(p.id), p.distance, "", "", False) for p in product_rows)
        column_rows = tuple(c for c in column_rows if policy.can_see(c.product_id))
    return Impact(target=target, products=product_rows, columns=column_rows,
                  owners=tuple(dict.fromkeys(p.owner for p in product_rows if p.owner)),
                  domains=tuple(dict.fromkeys(p.domain for p in product_rows if p.domain)))


def upstream_distances(index: LineageIndex, product_id: str, depth: int | None = None) -> dict[str, int]:
    """Every node upstream of a product (sources and missing names included) with its hop count."""
    index.mesh.product(product_id)
    return {n: d for n, d in _bfs([product_id], index.products.predecessors, depth).items() if d > 0}


def downstream_distances(index: LineageIndex, product_id: str, depth: int | None = None) -> dict[str, int]:
    index.mesh.product(product_id)
    return {n: d for n, d in _bfs([product_id], index.products.successors, depth).items() if d > 0}

"""Lineage on the synthetic 10,000-product catalog: building the graphs, impact and root cause latency.

Writes bench/results/lineage.md. The catalog is generated into bench/data/ (git-ignored).
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

import catalog
from catalog.lineage.graph import LineageIndex, impact
from catalog.lineage.dot import to_dot
from catalog.lineage.health import root_cause
from catalog.lineage.neighbourhood import collapse_by_domain, neighbourhood

PRODUCTS = 10_000
SAMPLE = 300
DATA = Path(__file__).parent / "data" / "lineage_synthetic"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return (statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))], ordered[-1])


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(results: Path) -> Path:
    from catalog.samples.synthetic import build_synthetic_catalog

    generate = _timed(lambda: build_synthetic_catalog(DATA, products=PRODUCTS))
    started = time.perf_counter()
    mesh = catalog.open_mesh(DATA, state_dir=DATA.parent / "lineage_state")
    load = time.perf_counter() - started
    derived = [p.id for p in mesh.products.values() if p.kind == "sql"]

    builds = [_timed(lambda: LineageIndex(mesh.declared).products) for _ in range(3)]
    index = mesh.lineage_index
    graph = index.products
    fresh = LineageIndex(mesh.declared)
    fresh.products
    domain_build = _timed(lambda: fresh.domains)
    column_build = _timed(lambda: index.columns)
    columns = index.columns
    depth = max(len(p) for p in [_longest(graph)])
    annotated = _timed(lambda: mesh.lineage())

    rng = random.Random(7)
    targets = rng.sample(sorted(mesh.products), SAMPLE)
    product_only = [_timed(lambda t=t: impact(mesh.lineage_index, t, columns=False)) for t in targets]
    with_columns = [_timed(lambda t=t: impact(mesh.lineage_index, t, columns=True)) for t in targets]
    cold_mesh = catalog.open_mesh(DATA, state_dir=DATA.parent / "lineage_state")
    cold = [_timed(lambda t=t: impact(cold_mesh.lineage_index, t, columns=True)) for t in targets]
    column_targets = rng.sample(sorted(columns.nodes), SAMPLE)
    by_column = [_timed(lambda t=t: impact(mesh.lineage_index, t)) for t in column_targets]
    derived_targets = rng.sample(derived, min(SAMPLE, len(derived)))
    causes = [_timed(lambda t=t: root_cause(mesh.lineage_index, t)) for t in derived_targets]
    reach = {t: len(impact(mesh.lineage_index, t, columns=False).products) for t in targets}
    everything = {p: len(impact(mesh.lineage_index, p, columns=False).products) for p in mesh.products}
    hubs = sorted(everything, key=everything.get, reverse=True)[:50]
    hub_times = [_timed(lambda t=t: impact(mesh.lineage_index, t, columns=True)) for t in hubs]

    hub = max(targets, key=reach.get)
    view_time = _timed(lambda: to_dot(collapse_by_domain(neighbourhood(mesh.lineage_index, hub, up=2, down=2))))
    view = collapse_by_domain(neighbourhood(mesh.lineage_index, hub, up=2, down=2))

    rows = [
        ("generate the catalog (YAML + shared files)", _ms(generate), ""),
        ("open_mesh (parse descriptors, SQL, cycles)", _ms(load), ""),
        ("product graph: build (median of 3)", _ms(statistics.median(builds)),
         f"{graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges, longest path {depth} hops"),
        ("domain graph: build", _ms(domain_build), f"{index.domains.number_of_edges():,} domain-to-domain edges"),
        ("column graph: build (every derived product traced)", _ms(column_build),
         f"{columns.number_of_nodes():,} columns, {columns.number_of_edges():,} links, {len(derived):,} derived "
         f"products ({column_build / max(1, len(derived)) * 1000:.2f} ms each)"),
        ("`mesh.lineage()` copy + quality annotation", _ms(annotated), "per call"),
    ]
    latency = [
        ("impact, products only", product_only),
        ("impact, products + columns (column lineage warm)", with_columns),
        ("impact, products + columns, cold mesh (traces on demand)", cold),
        ("impact of a column", by_column),
        ("root cause of a derived product", causes),
        (f"impact, products + columns, the 50 most-read products ({everything[hubs[-1]]}-"
         f"{everything[hubs[0]]} downstream)", hub_times),
    ]
    lines = [
        "# Lineage benchmark",
        "",
        f"Synthetic catalog: {len(mesh.products):,} products ({len(derived):,} derived SQL, up to 6 levels deep) "
        f"in {len(mesh.domains)} domains; one run on this machine (2 cores).",
        "",
        "| step | ms | notes |",
        "|---|---:|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        f"Latency over {SAMPLE} random targets unless said otherwise (target: impact p95 < 20 ms):",
        "",
        "| query | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {_ms(p50)} | {_ms(p95)} | {_ms(top)} |" for name, (p50, p95, top) in
          ((n, _percentiles(s)) for n, s in latency)],
        "",
        f"Impact reach over the sample: median {statistics.median(reach.values()):.0f} downstream products, "
        f"max {max(reach.values())} (`{hub}`).",
        f"Drawing that product (depth 2 each way, collapsed by domain, to DOT): {_ms(view_time)} ms, "
        f"{view.number_of_nodes()} nodes drawn.",
        "",
    ]
    out = results / "lineage.md"
    out.write_text("\n".join(lines))
    return out


def _longest(graph) -> list[str]:
    import networkx as nx

    products = graph.subgraph(n for n, d in graph.nodes(data=True) if d["kind"] == "product")
    return nx.dag_longest_path(products) if nx.is_directed_acyclic_graph(products) else []

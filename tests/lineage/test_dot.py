"""Lineage as DOT: OpenLineage jobs and datasets outside the mesh get their own shapes, and an edge kind the
drawing does not know yet (a feature adding edges, such as agreements) is drawn plainly instead of failing."""

from __future__ import annotations

import networkx as nx

from catalog.lineage.dot import EXTERNAL_PEN, JOB_PEN, UNKNOWN_EDGE, to_dot


def line_of(dot: str, needle: str) -> str:
    return next(line for line in dot.splitlines() if needle in line)


def test_jobs_and_external_datasets_are_drawn_apart_from_products():
    graph = nx.DiGraph(level="product")
    graph.add_node("sales.orders", kind="product", label="sales.orders", domain="sales", quality="pass")
    graph.add_node("job:airflow://prod/revenue", kind="job", label="airflow://prod/revenue", domain="",
                   owner="finance", title="weekly revenue")
    graph.add_node("external:s3://reports/weekly.csv", kind="external", label="weekly.csv", namespace="s3://reports",
                   domain="")
    graph.add_edge("sales.orders", "job:airflow://prod/revenue", cross_domain=False, ingested=True)
    graph.add_edge("job:airflow://prod/revenue", "external:s3://reports/weekly.csv", cross_domain=False, ingested=True)
    dot = to_dot(graph)
    job = line_of(dot, '"job:airflow://prod/revenue" [')
    assert 'shape="cds"' in job and JOB_PEN in job and "⚙ airflow://prod/revenue" in job and "finance" in job
    external = line_of(dot, '"external:s3://reports/weekly.csv" [')
    assert 'shape="note"' in external and "dashed" in external and EXTERNAL_PEN in external
    assert "↗ weekly.csv\\ns3://reports" in external
    assert 'shape="box"' in line_of(dot, '"sales.orders" [')


def test_an_edge_kind_the_drawing_does_not_know_is_drawn_neutral_with_its_kind():
    graph = nx.DiGraph(level="product")
    for node in ("risk.scores", "marketing.campaigns"):
        graph.add_node(node, kind="product", label=node, domain=node.split(".")[0])
    graph.add_edge("risk.scores", "marketing.campaigns", kind="agreement", cross_domain=True)
    edge = line_of(to_dot(graph), '"risk.scores" -> "marketing.campaigns"')
    assert UNKNOWN_EDGE in edge and 'style="dotted"' in edge and 'label="agreement"' in edge

"""The Lineage page through Streamlit's AppTest: deep link, graph, impact, root cause, views."""

from __future__ import annotations

from pathlib import Path

import catalog
from streamlit.testing.v1 import AppTest

from apptest import open_app, plain

from minimesh import write
from tests.lineage.test_graph import add_profile_products, big_mesh, seed_run



def open_lineage(mesh: Path, product: str | None = None, **state) -> AppTest:
    return open_app(mesh, "views/lineage.py", {"product": product or None}, timeout=60, **state)


def dot_of(at: AppTest) -> str:
    charts = at.get("graphviz_chart")
    assert len(charts) == 1
    return charts[0].proto.spec


def link_labels(at: AppTest) -> list[str]:
    """Labels of product links (page links, or plain links while the app has no product page)."""
    return [plain(p.proto.label) for p in at.get("page_link")] + [plain(m.value) for m in at.markdown
                                                                  if "](./product?" in m.value]


def test_deep_link_draws_the_product_its_upstreams_and_lists_impact(minimesh):
    add_profile_products(minimesh)
    at = open_lineage(minimesh, "risk.customer_profile")
    assert not at.exception
    assert at.selectbox(key="lineage_product").value == "risk.customer_profile"
    dot = dot_of(at)
    assert '"retail.customers" -> "risk.customer_profile"' in dot and '"risk.scores" -> "risk.customer_profile"' in dot
    assert '"risk.customer_profile" -> "marketing.age_bands"' in dot
    cross = next(line for line in dot.splitlines() if '"retail.customers" -> "risk.customer_profile"' in line)
    assert "#7c3aed" in cross  # the cross-domain edge is styled apart
    summary = next(m.value for m in at.markdown if "downstream" in m.value)
    assert "**2** product(s)" in summary and "`marketing`" in summary
    labels = link_labels(at)
    assert any("marketing.age_bands · 1 hop" in label for label in labels)
    assert any("marketing.age_report · 2 hops" in label for label in labels)
    assert any("mia.lund@bank.example" in m.value for m in at.markdown if "Owners to notify" in m.value)
    assert at.query_params["product"] == "risk.customer_profile"


def test_root_cause_lists_the_failing_upstream_with_its_reason(minimesh, tmp_path):
    add_profile_products(minimesh)
    seed_run(catalog.open_mesh(minimesh), "risk.scores", "fail")
    at = open_lineage(minimesh, "marketing.age_bands")
    assert not at.exception
    assert any("risk.scores · 2 hops up" in label for label in link_labels(at))
    assert any("checks failing" in m.value for m in at.markdown)
    assert any("not_null check: fail" in plain(c.value) for c in at.caption)
    assert "✗ checks failing" in dot_of(at)


def test_the_side_panel_shows_the_clicked_products_owner_domain_quality_ports_and_links(minimesh):
    add_profile_products(minimesh)
    catalog.open_mesh(minimesh).quality_runs.record(
        "risk.scores", "1.0.0", None, 100.0, True, 3.0,
        [{"name": "not_null check", "kind": "not_null", "status": "pass", "message": ""}])
    at = open_lineage(minimesh, "risk.scores")  # a click on a node opens this link
    assert not at.exception
    panel = "\n".join(h.proto.body for h in at.get("html") if "Output ports" in h.proto.body)
    assert "<b>Owner</b>" in panel and "<b>Domain</b>" in panel and "(risk)" in panel
    assert "<b>Quality</b> score 100 · grade A" in panel
    assert "text-overflow:ellipsis" in panel and "title=" in panel  # cut with an ellipsis, whole in the tooltip
    assert any(m.value.startswith("### ") for m in at.markdown)
    labels = link_labels(at)
    assert "Open the product page" in labels and "Query it in the workbench" in labels and "Its scorecard" in labels


def test_column_level_toggle_draws_columns_grouped_by_product(minimesh):
    add_profile_products(minimesh)
    at = open_lineage(minimesh, "risk.customer_profile", lineage_level="Columns")
    assert not at.exception
    dot = dot_of(at)
    assert 'subgraph "cluster_risk.customer_profile"' in dot
    assert '"risk.scores.score" -> "risk.customer_profile.best_score"' in dot
    assert '"risk.customer_profile.best_score" -> "marketing.age_bands.avg_best"' in dot


def test_a_broken_product_shows_its_problem_and_its_lineage(minimesh):
    write(minimesh / "risk/products/typo.yaml",
          "name: typo\nsource: {kind: sql, sql: SELECT customer_id FROM retail.customerz JOIN retail.customers USING (customer_id)}\n")
    at = open_lineage(minimesh, "risk.typo")
    assert not at.exception
    assert "retail.customerz" in at.error[0].value and "is broken" in at.error[0].value
    dot = dot_of(at)
    assert "⚠ broken" in dot and '"retail.customers" -> "risk.typo"' in dot and "? retail.customerz" in dot


def test_large_lineage_collapses_domains_and_can_be_expanded(minimesh):
    big_mesh(minimesh)
    at = open_lineage(minimesh, "beta.p7", lineage_up=20, lineage_down=20)
    assert not at.exception
    assert any("collapsed to one node each" in c.value for c in at.caption)
    assert '"domain:alpha"' in dot_of(at)
    at.checkbox(key="lineage_expand").check().run()
    assert '"domain:alpha"' not in dot_of(at) and '"alpha.p5"' in dot_of(at)


def test_whole_mesh_view_shows_domains_and_the_flows_between_them(minimesh):
    add_profile_products(minimesh)
    at = open_lineage(minimesh, lineage_view="Whole mesh")
    assert not at.exception
    dot = dot_of(at)
    assert 'subgraph "cluster_retail"' in dot and '"risk.customer_profile" -> "marketing.age_bands"' in dot
    flows = at.dataframe[0].value
    assert set(zip(flows["from domain"], flows["to domain"])) == {("retail", "risk"), ("risk", "marketing")}


def test_unknown_product_in_the_link_says_not_found_and_draws_no_other(minimesh):
    at = open_lineage(minimesh, "retail.nope")
    assert not at.exception
    assert "There is no product `retail.nope`" in at.info[0].value
    assert not at.get("graphviz_chart") and not at.selectbox.filtered if hasattr(at.selectbox, "filtered") \
        else not [s for s in at.selectbox if s.key == "lineage_product"]

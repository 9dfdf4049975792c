"""Lineage: product, domain and column graphs, impact, root cause, DOT and the CLI."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import catalog
from catalog.cli import app as cli
from catalog.lineage.dot import to_dot
from catalog.lineage.neighbourhood import collapse_by_domain, mesh_overview, neighbourhood
from conftest import SAMPLES
from minimesh import write

# ------------------------------------------------------------------ meshes


def add_profile_products(root: Path) -> Path:
    """Two levels of derived products over the minimesh: a CTE, a join, an aggregate, `SELECT *`."""
    write(root / "risk/products/customer_profile.yaml", """
        name: customer_profile
        description: Adult customers with their best score.
        owner: rui.costa@bank.example
        source:
          kind: sql
          sql: |
            WITH adults AS (SELECT * FROM retail.customers WHERE age >= 18),
                 best AS (SELECT customer_id, max(score) AS best_score, count(*) AS n_scores
                          FROM risk.scores GROUP BY customer_id)
            SELECT a.*, b.best_score, b.n_scores, a.age * 12 AS age_months
            FROM adults a JOIN best b USING (customer_id)
        columns:
          - {name: customer_id, type: VARCHAR, pii: identifier}
          - {name: full_name, type: VARCHAR, pii: name}
          - {name: email, type: VARCHAR, pii: email}
          - {name: ssn, type: VARCHAR, pii: ssn}
          - {name: age, type: INTEGER}
          - {name: best_score, type: INTEGER}
          - {name: n_scores, type: BIGINT}
          - {name: age_months, type: INTEGER}
    """)
    write(root / "marketing/domain.yaml", "name: marketing\nowner: marketing-team@bank.example\n")
    write(root / "marketing/products/age_bands.yaml", """
        name: age_bands
        description: Best score per age (no columns declared on purpose).
        owner: mia.lund@bank.example
        source:
          kind: sql
          sql: SELECT age, avg(best_score) AS avg_best FROM risk.customer_profile GROUP BY age
    """)
    write(root / "marketing/products/age_report.yaml", """
        name: age_report
        description: Reads an upstream that declares no columns, with SELECT *.
        source: {kind: sql, sql: "SELECT * FROM marketing.age_bands"}
    """)
    return root


def mesh_of(root: Path, tmp_path: Path) -> catalog.Mesh:
    return catalog.open_mesh(root, state_dir=tmp_path / "state")


def duckdb_reads(sql: str) -> set[str]:
    """The tables DuckDB's own parser says a query reads (CTE names removed)."""
    tree = json.loads(duckdb.connect().execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    assert not tree["error"], tree
    tables, ctes = set(), set()

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE":
                tables.add(".".join(p for p in (node["schema_name"], node["table_name"]) if p).lower())
            for entry in node.get("cte_map", {}).get("map", []) if isinstance(node.get("cte_map"), dict) else []:
                ctes.add(entry["key"].lower())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return tables - ctes


def check_against_duckdb(mesh: catalog.Mesh) -> int:
    graph = mesh.lineage()
    derived = [p for p in mesh.products.values() if p.kind == "sql" and not p.broken]
    for product in derived:
        drawn = {n for n in graph.predecessors(product.id) if graph.nodes[n]["kind"] == "product"}
        assert drawn == duckdb_reads(product.source.sql), product.id
    return len(derived)


# ------------------------------------------------------------------ product level


@pytest.mark.parametrize("sample", ["banking", "life_sciences", "supply_chain"])
def test_every_derived_sample_product_is_drawn_reading_what_duckdb_parses(sample, tmp_path):
    mesh = mesh_of(SAMPLES / sample, tmp_path)
    assert check_against_duckdb(mesh) > 0


@pytest.mark.parametrize("sample", ["banking", "life_sciences", "supply_chain"])
def test_traced_columns_of_sample_products_are_the_columns_duckdb_returns(sample, tmp_path):
    mesh = mesh_of(SAMPLES / sample, tmp_path)
    steward = mesh.session(role="steward")
    graph = mesh.lineage(columns=True)
    for product in (p for p in mesh.products.values() if p.kind == "sql" and not p.broken):
        real = steward.sql(f"SELECT * FROM {product.id} LIMIT 0").columns
        traced = [d["column"] for n, d in graph.nodes(data=True) if d["product_id"] == product.id]
        assert traced == real, product.id
        for up, _ in graph.in_edges([f"{product.id}.{c}" for c in real]):
            upstream = graph.nodes[up]
            assert upstream["product_id"] in mesh.upstreams(product.id)
            assert upstream["column"] in [c.name for c in mesh.products[upstream["product_id"]].columns] or \
                not mesh.products[upstream["product_id"]].columns


def test_product_graph_has_typed_source_product_nodes_and_cross_domain_edges(minimesh, tmp_path):
    add_profile_products(minimesh)
    mesh = mesh_of(minimesh, tmp_path)
    graph = mesh.lineage()
    assert check_against_duckdb(mesh) == 4
    source = "source:parquet:retail/data/customers.parquet"
    assert graph.nodes[source]["kind"] == "source" and graph.has_edge(source, "retail.customers")
    assert graph.nodes["source:sqlite:risk/data/scores.sqlite/scores"]["kind"] == "source"
    node = graph.nodes["risk.customer_profile"]
    assert (node["kind"], node["domain"], node["owner"], node["broken"]) == \
        ("product", "risk", "rui.costa@bank.example", False)
    assert graph.nodes["marketing.age_report"]["owner"] == "marketing-team@bank.example"  # domain owner fallback
    assert graph.edges["retail.customers", "risk.customer_profile"]["cross_domain"] is True
    assert graph.edges["risk.scores", "risk.customer_profile"]["cross_domain"] is False
    domains = mesh.lineage(level="domain")
    assert set(domains.edges) == {("domain:retail", "domain:risk"), ("domain:risk", "domain:marketing")}
    assert ("retail.customers", "risk.customer_risk") in domains.edges["domain:retail", "domain:risk"]["flows"]


def test_postgres_source_node_never_shows_the_password(minimesh, tmp_path):
    write(minimesh / "risk/products/ledger.yaml", """
        name: ledger
        owner: rui.costa@bank.example
        source: {kind: postgres, dsn: "postgresql://app:s3cret@db.example:5432/bank", schema: core, table: ledger}
    """)
    graph = mesh_of(minimesh, tmp_path).lineage()
    sources = [n for n, d in graph.nodes(data=True) if d["kind"] == "source" and d["source_kind"] == "postgres"]
    assert sources == ["source:postgres:postgresql://app:***@db.example:5432/bank/core.ledger"]


def test_graphs_are_cached_but_each_call_returns_a_copy(minimesh, tmp_path):
    mesh = mesh_of(minimesh, tmp_path)
    first = mesh.lineage()
    first.remove_node("retail.customers")
    assert "retail.customers" in mesh.lineage()
    assert mesh.lineage_index.products is mesh.lineage_index.products


# ------------------------------------------------------------------ column level


def test_column_lineage_through_cte_join_aggregate_and_select_star(minimesh, tmp_path):
    mesh = mesh_of(add_profile_products(minimesh), tmp_path)
    graph = mesh.lineage(columns=True)

    def inputs(column: str) -> set[str]:
        return set(graph.predecessors(column))

    profile = "risk.customer_profile"
    for name in ("full_name", "email", "ssn", "age"):  # a.* of a CTE that is itself SELECT *
        assert inputs(f"{profile}.{name}") == {f"retail.customers.{name}"}
    assert inputs(f"{profile}.best_score") == {"risk.scores.score"}  # aggregate in a CTE, through the join
    assert inputs(f"{profile}.age_months") == {"retail.customers.age"}  # an expression
    assert inputs(f"{profile}.n_scores") == set()  # count(*) reads no column
    assert inputs("marketing.age_bands.avg_best") == {f"{profile}.best_score"}
    assert inputs("marketing.age_bands.age") == {f"{profile}.age"}
    # `SELECT *` over an upstream that declares no columns expands through its traced outputs
    assert inputs("marketing.age_report.avg_best") == {"marketing.age_bands.avg_best"}
    assert graph.nodes[f"{profile}.best_score"]["kind"] == "column"
    assert graph.edges["retail.customers.age", f"{profile}.age"]["cross_domain"] is True


def test_column_lineage_says_what_it_could_not_trace(minimesh, tmp_path):
    write(minimesh / "risk/products/odd.yaml", """
        name: odd
        owner: rui.costa@bank.example
        source: {kind: sql, sql: "SELECT c.customer_id, c.shoe_size FROM retail.customers c"}
    """)
    graph = mesh_of(minimesh, tmp_path).lineage(columns=True)
    assert "shoe_size" in graph.graph["notes"]["risk.odd"]
    assert set(graph.predecessors("risk.odd.customer_id")) == {"retail.customers.customer_id"}


# ------------------------------------------------------------------ impact


def test_impact_of_a_product_lists_downstream_products_columns_owners_domains_by_distance(minimesh, tmp_path):
    mesh = mesh_of(add_profile_products(minimesh), tmp_path)
    result = mesh.impact("risk.scores")
    assert [(p.id, p.distance) for p in result.products] == [
        ("risk.customer_profile", 1), ("risk.customer_risk", 1), ("marketing.age_bands", 2),
        ("marketing.age_report", 3)]
    columns = {c.id: c.distance for c in result.columns}
    assert columns == {"risk.customer_profile.best_score": 1,
                       "risk.customer_risk.score": 1, "marketing.age_bands.avg_best": 2,
                       "marketing.age_report.avg_best": 3}
    assert result.owners == ("rui.costa@bank.example", "mia.lund@bank.example", "marketing-team@bank.example")
    assert result.domains == ("risk", "marketing")
    frame = result.frame()
    assert frame["distance"].to_list() == sorted(frame["distance"].to_list())


def test_impact_of_a_column_follows_only_what_is_computed_from_it(minimesh, tmp_path):
    mesh = mesh_of(add_profile_products(minimesh), tmp_path)
    result = mesh.impact("retail.customers.age")
    assert {c.id for c in result.columns} == {
        "risk.customer_risk.age", "risk.customer_profile.age", "risk.customer_profile.age_months",
        "marketing.age_bands.age", "marketing.age_report.age"}
    assert "marketing.age_bands.avg_best" not in {c.id for c in result.columns}
    email = mesh.impact("retail.customers.email")
    assert [p.id for p in email.products] == ["risk.customer_profile"]  # customer_risk does not read email
    with pytest.raises(catalog.UnknownProduct, match="no column 'shoe_size'"):
        mesh.impact("retail.customers.shoe_size")
    with pytest.raises(catalog.UnknownProduct, match="no product or column"):
        mesh.impact("nowhere.nothing")


# ------------------------------------------------------------------ root cause


def seed_run(mesh: catalog.Mesh, product_id: str, status: str, kind: str = "not_null") -> None:
    """The latest quality run of a product, as the quality module stores it."""
    mesh.quality_runs.record(product_id, "1.0.0", None, 0.5 if status == "fail" else 1.0, True, 3.0,
                          [{"name": f"{kind} check", "kind": kind, "status": status, "message": "1 of 3 rows"}])


def test_root_cause_names_the_upstream_whose_latest_checks_fail(minimesh, tmp_path):
    mesh = mesh_of(add_profile_products(minimesh), tmp_path)
    seed_run(mesh, "retail.customers", "pass")
    seed_run(mesh, "retail.customers", "fail")  # the latest run fails
    seed_run(mesh, "risk.scores", "fail")
    seed_run(mesh, "risk.scores", "pass")  # ... this one recovered
    result = mesh.root_cause("marketing.age_bands")
    assert [(c.product_id, c.distance, c.status) for c in result.causes] == [("retail.customers", 2, "fail")]
    assert "not_null check: fail" in result.causes[0].reasons[0]
    assert result.upstream_products == 3
    assert mesh.lineage().nodes["retail.customers"]["quality"] == "fail"
    assert mesh.lineage().nodes["risk.scores"]["quality"] == "pass"
    assert mesh.root_cause("retail.customers").causes == ()


def test_root_cause_flags_a_file_source_older_than_its_freshness_sla(minimesh, tmp_path):
    scores = minimesh / "risk/products/scores.yaml"
    scores.write_text(scores.read_text() + "sla: {freshness_hours: 2}\n")
    old = time.time() - 5 * 3600
    os.utime(minimesh / "risk/data/scores.sqlite", (old, old))
    mesh = mesh_of(minimesh, tmp_path)
    [cause] = mesh.root_cause("risk.customer_risk").causes
    assert (cause.product_id, cause.status) == ("risk.scores", "stale")
    assert "5 hours ago; the SLA is 2 hours" in cause.reasons[0]
    seed_run(mesh, "retail.customers", "fail", kind="freshness")
    statuses = {c.product_id: c.status for c in mesh.root_cause("risk.customer_risk").causes}
    assert statuses == {"retail.customers": "stale", "risk.scores": "stale"}


# ------------------------------------------------------------------ bad input


def test_broken_derived_products_show_their_problem_and_the_rest_is_still_drawn(minimesh, tmp_path):
    write(minimesh / "risk/products/typo.yaml", """
        name: typo
        owner: rui.costa@bank.example
        source:
          kind: sql
          sql: SELECT customer_id FROM retail.customerz
    """)
    write(minimesh / "risk/products/garbled.yaml", """
        name: garbled
        source: {kind: sql, sql: "SELECT FROM WHERE ((("}
    """)
    write(minimesh / "risk/products/loop_a.yaml", "name: loop_a\nsource: {kind: sql, sql: SELECT * FROM risk.loop_b}\n")
    write(minimesh / "risk/products/loop_b.yaml", "name: loop_b\nsource: {kind: sql, sql: SELECT * FROM risk.loop_a}\n")
    mesh = mesh_of(minimesh, tmp_path)
    graph = mesh.lineage()
    typo = graph.nodes["risk.typo"]
    assert typo["broken"] and any("typo.yaml:5" in p and "retail.customerz" in p for p in typo["problems"])
    assert graph.has_edge("missing:retail.customerz", "risk.typo")
    assert graph.nodes["risk.garbled"]["broken"] and "does not parse" in graph.nodes["risk.garbled"]["problems"][0]
    assert graph.has_edge("risk.loop_a", "risk.loop_b") and graph.has_edge("risk.loop_b", "risk.loop_a")
    assert all("cycle" in " ".join(graph.nodes[n]["problems"]) for n in ("risk.loop_a", "risk.loop_b"))
    assert graph.has_edge("retail.customers", "risk.customer_risk")  # the healthy part is intact
    dot = to_dot(neighbourhood(mesh.lineage_index, "risk.typo"))
    assert "⚠ broken" in dot and "line 5: SQL reads" in dot and "? retail.customerz" in dot
    assert mesh.impact("risk.loop_a").products[0].id == "risk.loop_b"  # cycles do not hang the walk
    assert [c.product_id for c in mesh.root_cause("risk.loop_a").causes] == ["risk.loop_b"]


# ------------------------------------------------------------------ views and DOT


def big_mesh(root: Path, per_domain: int = 15) -> Path:
    """A chain of derived products through three domains, each reading the previous one."""
    previous = "retail.customers"
    for domain in ("alpha", "beta", "gamma"):
        write(root / domain / "domain.yaml", f"name: {domain}\nowner: {domain}@bank.example\n")
        for i in range(per_domain):
            write(root / domain / "products" / f"p{i}.yaml",
                  f"name: p{i}\nsource: {{kind: sql, sql: 'SELECT customer_id, age FROM {previous}'}}\n")
            previous = f"{domain}.p{i}"
    return root


def test_a_large_neighbourhood_collapses_into_domains_around_the_focus(minimesh, tmp_path):
    mesh = mesh_of(big_mesh(minimesh), tmp_path)
    graph = neighbourhood(mesh.lineage_index, "beta.p7", up=None, down=None)
    assert graph.number_of_nodes() == 47
    shown = collapse_by_domain(graph, limit=40)
    assert shown.number_of_nodes() <= 40
    assert {"beta.p6", "beta.p7", "beta.p8"} <= set(shown)  # the focus and its neighbours stay
    assert shown.nodes["domain:alpha"]["products"] == 15 and "alpha" in shown.graph["collapsed"]
    assert shown.edges["domain:alpha", "beta.p0"]["cross_domain"] is True
    assert collapse_by_domain(neighbourhood(mesh.lineage_index, "beta.p7", up=1, down=1)).graph.get("collapsed") is None


def test_whole_mesh_overview_shows_domains_and_the_products_flowing_between_them(minimesh, tmp_path):
    mesh = mesh_of(big_mesh(minimesh), tmp_path)
    overview = mesh_overview(mesh.lineage_index)
    assert set(overview.edges) == {("retail.customers", "alpha.p0"), ("alpha.p14", "beta.p0"),
                                   ("beta.p14", "gamma.p0"), ("retail.customers", "risk.customer_risk")}
    dot = to_dot(overview)
    assert 'subgraph "cluster_alpha"' in dot and '"alpha.p14" -> "beta.p0"' in dot
    small = mesh_overview(mesh.lineage_index, limit=3)
    assert small.graph["level"] == "domain" and small.edges["domain:alpha", "domain:beta"]["count"] == 1
    assert mesh_overview(mesh.lineage_index, limit=3, max_flows=2).graph["hidden_flows"] == 2
    assert "domain:retail" not in mesh_overview(mesh.lineage_index, limit=3, max_flows=2)  # no drawn flow left: dropped


def test_dot_escapes_quotes_and_backslashes_in_titles(minimesh, tmp_path):
    path = minimesh / "retail/products/customers.yaml"
    path.write_text(path.read_text().replace("title: Retail customers", 'title: \'Say "hi" \\ bye\''))
    dot = to_dot(neighbourhood(mesh_of(minimesh, tmp_path).lineage_index, "retail.customers"))
    assert 'tooltip="Say \\"hi\\" \\\\ bye' in dot
    for line in dot.splitlines():
        assert line.replace('\\\\', '').replace('\\"', '').count('"') % 2 == 0, line


# ------------------------------------------------------------------ CLI


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["lineage", *args])
    return result.exit_code, result.output


def test_cli_prints_upstream_downstream_impact_as_text_json_and_dot(minimesh):
    add_profile_products(minimesh)
    code, out = run_cli(str(minimesh), "risk.customer_profile", "--upstream")
    assert code == 0 and "upstream:" in out and "retail.customers" in out and "downstream:" not in out
    code, out = run_cli(str(minimesh), "risk.customer_profile", "--downstream", "--depth", "1")
    assert code == 0 and "marketing.age_bands" in out and "marketing.age_report" not in out
    code, out = run_cli(str(minimesh), "retail.customers.age", "--impact", "--format", "json")
    data = json.loads(out)
    assert data["owners"] == ["rui.costa@bank.example", "mia.lund@bank.example", "marketing-team@bank.example"]
    assert {"kind": "column", "id": "marketing.age_report.age"}.items() <= \
        next(r for r in data["impacted"] if r["id"] == "marketing.age_report.age").items()
    code, out = run_cli(str(minimesh), "risk.customer_profile", "--format", "dot", "--columns")
    assert code == 0 and out.startswith('digraph "lineage"') and '"retail.customers.age" -> "risk.customer_profile.age"' in out
    code, out = run_cli(str(minimesh), "retail.customers", "--impact")
    assert "owners to notify: rui.costa@bank.example, mia.lund@bank.example" in out


def test_cli_unknown_product_is_a_message_and_exit_2(minimesh):
    code, out = run_cli(str(minimesh), "retail.nope")
    assert code == 2 and "no product 'retail.nope'" in out
    code, out = run_cli(str(minimesh), "retail.customers", "--upstream", "--downstream")
    assert code == 2 and "choose one of" in out


# ------------------------------------------------------------------ as a viewer sees it

def _banking(sample_copy, discovery: str = "listed"):
    root = sample_copy("banking")
    if discovery == "hidden":
        (root / "mesh.yaml").write_text((root / "mesh.yaml").read_text() + "discovery: hidden\n")
    return catalog.open_mesh(root)


def test_locked_product_in_lineage_shows_its_card_but_no_columns_quality_or_source(sample_copy):
    mesh = _banking(sample_copy)
    graph = mesh.lineage(role="analyst")
    node = graph.nodes["risk.customer_exposure"]
    assert node["locked"] and node["owner"] and node["quality"] == "locked" and node["score"] is None
    assert not node["problems"] and "source_kind" not in node
    columns = mesh.lineage(columns=True, role="analyst")
    assert not [n for n in columns if n.startswith("risk.customer_exposure.")]
    assert columns.nodes["risk.customer_exposure"]["kind"] == "locked"
    dot = to_dot(columns)
    assert "expected_loss" not in dot and "🔒" in dot
    assert "expected_loss" in to_dot(mesh.lineage(columns=True, role="steward"))


def test_hidden_product_is_an_anonymous_node_in_every_drawing(sample_copy):
    mesh = _banking(sample_copy, "hidden")
    for graph in (mesh.lineage(role="analyst"), mesh.lineage(columns=True, role="analyst"),
                  neighbourhood(mesh.lineage_index, "retail.accounts", policy=mesh.policy("analyst")),
                  collapse_by_domain(mesh.lineage(role="analyst"), limit=5),
                  mesh_overview(mesh.lineage_index, policy=mesh.policy("analyst"))):
        text = to_dot(graph) + json.dumps([[n, d] for n, d in graph.nodes(data=True)], default=str)
        assert "customer_exposure" not in text and "data_subject_requests" not in text
    graph = mesh.lineage(role="analyst")
    assert sum(d["kind"] == "restricted" for _, d in graph.nodes(data=True)) == 2
    domains = mesh.lineage(level="domain", role="analyst")
    assert domains.nodes["domain:risk"]["products"] == mesh.lineage(level="domain").nodes["domain:risk"]["products"] - 1


def test_cli_lineage_of_a_hidden_product_reads_as_an_unknown_one(sample_copy):
    mesh = _banking(sample_copy, "hidden")
    hidden = CliRunner().invoke(cli, ["lineage", str(mesh.root), "risk.customer_exposure", "--role", "analyst"])
    unknown = CliRunner().invoke(cli, ["lineage", str(mesh.root), "risk.no_such", "--role", "analyst"])
    assert hidden.exit_code == unknown.exit_code == 2
    assert hidden.output.replace("customer_exposure", "X") == unknown.output.replace("no_such", "X")
    shown = CliRunner().invoke(cli, ["lineage", str(mesh.root), "retail.accounts", "--role", "analyst"])
    assert shown.exit_code == 0 and "(restricted product)" in shown.output and "exposure" not in shown.output

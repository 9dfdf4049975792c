"""`meshwork import dbt` on a real manifest: dbt-core + dbt-duckdb build the jaffle-shop-like project of
fixtures/jaffle (seeds, a CSV source read in place, views and tables, tests, an exposure) once per module."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import catalog
from catalog.cli import app
from catalog.interop.dbt import ManifestError
from catalog.publish.publish import init_mesh

# One worker per module (`make test` runs --dist loadgroup): dbt builds the manifest once per module.
pytestmark = pytest.mark.xdist_group("dbt")

REPO = Path(__file__).resolve().parents[2]
DBT = REPO / ".venv-tools" / "dbt" / "bin" / "dbt"
FIXTURE = Path(__file__).parent / "fixtures" / "jaffle"
STEWARD = "steward@jaffle.example"
runner = CliRunner()


def run_dbt(project: Path, *args: str) -> None:
    if not DBT.exists():
        pytest.fail(f"{DBT} is missing: `make tools` (part of `make test`) installs dbt-core and dbt-duckdb into their own venv")
    env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DBT_PROFILES_DIR": str(project)}
    done = subprocess.run([str(DBT), *args, "--project-dir", str(project)], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The dbt project built by dbt itself, and a mesh whose data roots hold it, with the project imported."""
    base = tmp_path_factory.mktemp("dbt")
    project = base / "jaffle"
    shutil.copytree(FIXTURE, project)
    duckdb.sql(f"COPY (SELECT range AS event_id, 1 + range % 5 AS customer_id, 'page' AS kind FROM range(40)) "
               f"TO '{project / 'data' / 'raw_events.parquet'}' (FORMAT parquet)")
    run_dbt(project, "build")
    mesh_root = init_mesh(base / "mesh", steward=STEWARD)
    with open(mesh_root / "mesh.yaml", "a") as handle:
        handle.write(f"data_roots: [{json.dumps(str(project))}]\n")
    return {"project": project, "mesh": mesh_root, "manifest": project / "target" / "manifest.json"}


@pytest.fixture(scope="module")
def imported(built: dict[str, Path]):
    mesh = catalog.open_mesh(built["mesh"])
    result = catalog.import_dbt(mesh, built["manifest"], owner="data@jaffle.example", user=STEWARD)
    mesh.close()
    return result


@pytest.fixture
def mesh(built, imported):
    opened = catalog.open_mesh(built["mesh"])
    yield opened
    opened.close()


def test_models_seeds_and_sources_become_products_of_the_project_domain(imported, mesh, built):
    assert imported.domain == "jaffle"
    assert sorted(imported.published) == [f"jaffle.{n}" for n in (
        "customers", "orders", "raw_customers", "raw_events", "raw_orders", "raw_payments", "stg_customers",
        "stg_orders", "stg_payments")]
    assert not mesh.problems
    kinds = {pid: p.kind for pid, p in mesh.products.items()}
    assert kinds["jaffle.orders"] == kinds["jaffle.customers"] == kinds["jaffle.raw_orders"] == "duckdb"
    assert kinds["jaffle.stg_orders"] == "sql"  # a dbt view is a derived product over the products it reads
    payments = mesh.product("jaffle.raw_payments")
    assert payments.kind == "csv" and Path(payments.source.path) == built["project"] / "data" / "raw_payments.csv"
    events = mesh.product("jaffle.raw_events")
    assert events.kind == "parquet" and Path(events.source.path) == built["project"] / "data" / "raw_events.parquet"
    assert [c.type for c in events.columns] == ["BIGINT", "BIGINT", "VARCHAR"]
    assert not (built["mesh"] / "jaffle" / "data").exists()  # read in place: nothing copied


def test_products_answer_what_dbt_built(mesh, built):
    with duckdb.connect(str(built["project"] / "jaffle.duckdb"), read_only=True) as con:
        expected = con.sql("SELECT order_id, amount FROM main.orders ORDER BY order_id").fetchall()
    got = mesh.session("steward", STEWARD).sql("SELECT order_id, amount FROM jaffle.orders ORDER BY order_id")
    assert [tuple(r) for r in got.iter_rows()] == expected
    staged = mesh.session("steward", STEWARD).sql("SELECT sum(amount) AS total FROM jaffle.stg_payments")
    assert staged["total"][0] == pytest.approx(93.0)
    events = mesh.session("steward", STEWARD).sql("SELECT count(*) AS n FROM jaffle.raw_events")
    assert events["n"][0] == 40


def test_tests_become_checks_and_run(mesh):
    orders = {q.label: q for q in mesh.product("jaffle.orders").descriptor.quality}
    kinds = sorted((q.check, q.severity) for q in orders.values())
    assert kinds == [("accepted_values", "warning"), ("not_null", "error"), ("references", "error"),
                     ("unique", "error")]
    reference = next(q for q in orders.values() if q.check == "references")
    assert (reference.column, reference.product, reference.to_column) == ("customer_id", "jaffle.customers",
                                                                          "customer_id")
    accepted = next(q for q in orders.values() if q.check == "accepted_values")
    assert accepted.values == ["placed", "shipped", "completed", "returned"]
    source_checks = {q.check for q in mesh.product("jaffle.raw_payments").descriptor.quality}
    assert source_checks == {"unique", "not_null"}
    report = mesh.check("jaffle.orders")
    # the 4 dbt tests, then the schema checks every run makes: the columns dbt built are the declared ones
    assert [c.status for c in report.checks] == ["pass"] * 6
    assert [c.name for c in report.checks[4:]] == ["schema: declared columns present", "schema: declared types"]


def test_descriptions_and_meta_are_its_documentation(mesh):
    customers = mesh.product("jaffle.customers")
    assert customers.owner == "ana@jaffle.example"  # meta.owner
    assert customers.description.startswith("One row per customer")
    assert "tier: gold" in customers.description
    assert "marts" in customers.tags and "dbt" in customers.tags
    assert customers.column("number_of_orders").description == "Orders the customer placed."
    assert mesh.product("jaffle.stg_orders").owner == "data@jaffle.example"  # --owner where meta names none


def test_lineage_from_the_manifest_is_column_exact(mesh):
    graph = mesh.lineage()
    for up, down in [("jaffle.stg_orders", "jaffle.orders"), ("jaffle.stg_payments", "jaffle.orders"),
                     ("jaffle.stg_customers", "jaffle.customers"), ("jaffle.raw_payments", "jaffle.stg_payments")]:
        assert graph.has_edge(up, down), (up, down)
    columns = mesh.lineage(columns=True)
    into = {down: sorted(u for u, d in columns.in_edges(down)) for down in (
        "jaffle.orders.amount", "jaffle.orders.status", "jaffle.customers.first_order",
        "jaffle.customers.number_of_orders", "jaffle.stg_payments.amount", "jaffle.stg_orders.customer_id")}
    assert into == {
        "jaffle.orders.amount": ["jaffle.stg_payments.amount"],
        "jaffle.orders.status": ["jaffle.stg_orders.status"],
        "jaffle.customers.first_order": ["jaffle.stg_orders.order_date"],
        "jaffle.customers.number_of_orders": ["jaffle.stg_orders.order_id"],
        "jaffle.stg_payments.amount": ["jaffle.raw_payments.amount"],
        "jaffle.stg_orders.customer_id": ["jaffle.raw_orders.user_id"],
    }
    impact = mesh.impact("jaffle.raw_payments.amount")
    assert {c.id for c in impact.columns} >= {"jaffle.stg_payments.amount", "jaffle.orders.amount"}


def test_exposures_are_consumers_downstream(imported, mesh):
    assert imported.consumers == ["dashboard weekly_revenue (reads jaffle.orders, jaffle.customers)"]
    node = "job:dbt://jaffle/exposure.weekly_revenue"
    graph = mesh.lineage()
    assert graph.nodes[node]["kind"] == "job" and graph.nodes[node]["external"]
    assert sorted(graph.predecessors(node)) == ["jaffle.customers", "jaffle.orders"]
    impact = mesh.impact("jaffle.stg_orders", columns=False)
    assert node in {p.id for p in impact.products}
    assert "finance@jaffle.example" in impact.owners  # who to tell: the exposure's owner


def test_partly_supported_parts_are_listed(imported):
    assert any("dbt_utils_like_positive" in n and "dropped" in n for n in imported.notes)
    assert any(n.startswith("source.jaffle.crm.leads: lives in database 'crm'") and "--postgres crm=DSN" in n
               for n in imported.notes)


@pytest.mark.postgres
def test_a_source_in_postgresql_is_read_in_place(built, pg_database, tmp_path):
    import psycopg2

    con = psycopg2.connect(pg_database)
    con.autocommit = True
    con.cursor().execute("CREATE TABLE public.leads (lead_id integer, email text, score integer);"
                         "INSERT INTO public.leads VALUES (1, 'a@lead.example', 5), (2, 'b@lead.example', 7)")
    con.close()
    root = init_mesh(tmp_path / "pgmesh", steward=STEWARD)
    with open(root / "mesh.yaml", "a") as handle:
        handle.write(f"data_roots: [{json.dumps(str(built['project']))}]\n")
    result = catalog.import_dbt(root, built["manifest"], owner="data@jaffle.example", user=STEWARD,
                                postgres={"crm": pg_database})
    assert "jaffle.leads" in result.published
    mesh = catalog.open_mesh(root)
    try:
        leads = mesh.product("jaffle.leads")
        assert (leads.kind, leads.source.table, leads.source.db_schema) == ("postgres", "leads", "public")
        assert leads.column("email").pii_category == "email"
        assert leads.column("email").description == "Where the lead is reached."
        total = mesh.session("steward", STEWARD).sql("SELECT sum(score) AS total FROM jaffle.leads")
        assert total["total"][0] == 12
    finally:
        mesh.close()


def test_a_second_import_changes_nothing(built, imported):
    again = catalog.import_dbt(built["mesh"], built["manifest"], owner="data@jaffle.example", user=STEWARD)
    assert again.published == [] and len(again.unchanged) == 9


def test_the_cli_imports_and_reports(built, imported):
    result = runner.invoke(app, ["import", "dbt", str(built["mesh"]), str(built["manifest"]),
                                 "--owner", "data@jaffle.example", "--user", STEWARD])
    assert result.exit_code == 0, result.output
    assert "dbt project jaffle -> domain jaffle: 0 product(s) written, 9 unchanged" in result.output
    assert "consumer: dashboard weekly_revenue" in result.output


def test_a_manifest_that_is_not_one_is_refused_with_its_json_path(built, tmp_path):
    bad = tmp_path / "manifest.json"
    manifest = json.loads(built["manifest"].read_text())
    manifest["nodes"]["model.jaffle.orders"]["name"] = 42
    del manifest["sources"]
    bad.write_text(json.dumps(manifest))
    with pytest.raises(ManifestError) as caught:
        catalog.import_dbt(built["mesh"], bad, user=STEWARD)
    message = str(caught.value)
    assert f"{bad}: $: 'sources' is a required property" in message
    assert f'{bad}: $.nodes["model.jaffle.orders"].name: 42 is not of type \'string\'' in message
    bad.write_text('{"metadata": ')
    result = runner.invoke(app, ["import", "dbt", str(built["mesh"]), str(bad)])
    assert result.exit_code == 2 and f"{bad}: not JSON (line 1, column 14" in result.output
    assert "Traceback" not in result.output

"""Every source kind is read in place through DuckDB, per role, without copying."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest

import catalog
from minimesh import write


def test_parquet_csv_sqlite_duckdb_and_sql_sources_are_queryable(minimesh):
    session = catalog.open_mesh(minimesh).session("steward")
    assert session.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3
    assert session.sql("SELECT city FROM retail.branches ORDER BY branch_id")["city"].to_list() == ["Lisbon", "Porto"]
    assert session.sql("SELECT score FROM risk.scores WHERE customer_id = 'C1'")["score"][0] == 700
    assert session.sql("SELECT credit_limit FROM risk.limits WHERE customer_id = 'C2'")["credit_limit"][0] == 2000
    derived = session.sql("SELECT full_name, score FROM risk.customer_risk ORDER BY score DESC")
    assert derived.row(0) == ("Ana Silva", 700)


def test_sources_are_read_in_place_so_changes_show_at_once(minimesh):
    mesh = catalog.open_mesh(minimesh)
    session = mesh.session("steward")
    assert session.sql("SELECT count(*) AS n FROM risk.scores")["n"][0] == 3
    lite = sqlite3.connect(minimesh / "risk/data/scores.sqlite")
    lite.execute("INSERT INTO scores VALUES ('C4', 610)")
    lite.commit()
    lite.close()
    assert session.sql("SELECT count(*) AS n FROM risk.scores")["n"][0] == 4
    assert not list((minimesh / ".meshwork").glob("*.parquet")), "nothing is copied into the state folder"


def test_opening_a_mesh_reads_no_data(minimesh):
    (minimesh / "retail/data/customers.parquet").write_bytes(b"not parquet at all")
    mesh = catalog.open_mesh(minimesh)  # descriptors only: the corrupt file is not touched
    assert not mesh.products["retail.customers"].broken
    with pytest.raises(catalog.QueryFailed, match="retail.customers"):
        mesh.session("steward").sql("SELECT * FROM retail.customers")
    assert mesh.session("steward").sql("SELECT count(*) AS n FROM retail.branches")["n"][0] == 2


def test_each_domain_is_a_schema_and_each_product_a_view(minimesh):
    mesh = catalog.open_mesh(minimesh)
    database = mesh.engine.database("analyst")
    database.ensure({"retail.customers", "risk.scores"})
    views = database.con.execute(
        "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE database_name = 'memory' "
        "AND NOT internal").fetchall()
    assert {"retail.customers", "risk.scores"} <= {v[0] for v in views}


@pytest.mark.postgres
def test_postgres_table_is_read_in_place(minimesh, pg_database):
    import psycopg2

    pg = psycopg2.connect(pg_database)
    pg.autocommit = True
    cur = pg.cursor()
    cur.execute("CREATE SCHEMA crm")
    cur.execute("CREATE TABLE crm.contacts (customer_id text PRIMARY KEY, email text, opted_in boolean)")
    cur.execute("INSERT INTO crm.contacts VALUES ('C1', 'ana@bank.example', true), ('C2', 'bo@mail.example', false)")
    write(minimesh / "retail/products/contacts.yaml", f"""
        name: contacts
        description: CRM contacts living in PostgreSQL.
        owner: ana.silva@bank.example
        source: {{kind: postgres, dsn: "{pg_database}", schema: crm, table: contacts}}
        columns:
          - {{name: customer_id, type: VARCHAR, pii: identifier, key: true}}
          - {{name: email, type: VARCHAR, pii: email}}
          - {{name: opted_in, type: BOOLEAN}}
    """)
    mesh = catalog.open_mesh(minimesh)
    steward = mesh.session("steward").sql("SELECT * FROM retail.contacts ORDER BY customer_id")
    assert steward["email"].to_list() == ["ana@bank.example", "bo@mail.example"]
    # Masked keys are salted tokens, so order by a column the analyst sees raw.
    analyst = mesh.session("analyst").sql("SELECT email FROM retail.contacts ORDER BY opted_in DESC")
    assert analyst["email"].to_list() == ["***@bank.example", "***@mail.example"]
    cur.execute("INSERT INTO crm.contacts VALUES ('C3', 'cy@x.example', true)")
    assert mesh.session("steward").sql("SELECT count(*) AS n FROM retail.contacts")["n"][0] == 3
    joined = mesh.session("analyst").sql(
        "SELECT c.opted_in, s.score FROM retail.contacts c JOIN risk.scores s USING (customer_id) ORDER BY s.score")
    assert joined.height == 3
    pg.close()


@pytest.mark.postgres
def test_unreachable_postgres_is_a_clear_error_and_the_rest_still_works(minimesh):
    write(minimesh / "retail/products/contacts.yaml", """
        name: contacts
        owner: ana.silva@bank.example
        source: {kind: postgres, dsn: "postgresql://nobody:secret@127.0.0.1:1/none", table: contacts}
    """)
    mesh = catalog.open_mesh(minimesh)
    with pytest.raises(catalog.QueryFailed) as info:
        mesh.session("analyst").sql("SELECT * FROM retail.contacts")
    assert "retail.contacts" in str(info.value) and "secret" not in str(info.value)
    assert mesh.session("analyst").sql("SELECT count(*) AS n FROM retail.branches")["n"][0] == 2


def test_file_outside_the_mesh_cannot_be_a_source(minimesh, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("a\n1\n")
    write(minimesh / "retail/products/leak.yaml", textwrap.dedent(f"""
        name: leak
        source: {{kind: csv, path: {outside}}}
    """))
    mesh = catalog.open_mesh(minimesh)
    assert mesh.products["retail.leak"].broken
    assert any("outside the mesh" in p.message for p in mesh.problems_of("retail.leak"))


def test_query_results_have_a_readable_repr(minimesh):
    mesh = catalog.open_mesh(minimesh)
    assert "retail.customers" in repr(mesh.products["retail.customers"])
    assert "<table>" in mesh.products["retail.customers"]._repr_html_()
    result = mesh.session("analyst").run("SELECT * FROM retail.customers", max_rows=2)
    assert result.note() == "showing first 2 of 3 rows"
    assert "showing first 2 of 3 rows" in result._repr_html_()
    assert "2 domains, 5 products" in repr(mesh)


def test_fingerprint_changes_when_the_file_changes(minimesh):
    mesh = catalog.open_mesh(minimesh)
    before = mesh.fingerprint("risk.customer_risk")
    lite = sqlite3.connect(minimesh / "risk/data/scores.sqlite")
    lite.execute("INSERT INTO scores VALUES ('C9', 1)")
    lite.commit()
    lite.close()
    assert before is not None and mesh.fingerprint("risk.customer_risk") != before

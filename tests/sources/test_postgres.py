"""A PostgreSQL source that does not answer breaks only the products that read it, within the time limit."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

import catalog
from catalog.errors import QueryFailed
from minimesh import build_minimesh, write
from muteserver import MuteServer


@pytest.fixture
def silent_listener():
    """A database that accepts connections and never answers (see muteserver)."""
    server = MuteServer()
    yield server
    server.close()


def _hanging_mesh(root: Path, port: int) -> Path:
    build_minimesh(root)
    write(root / "retail/products/crm.yaml", f"""
        name: crm
        description: CRM contacts on a database that hangs.
        owner: ana.silva@bank.example
        source: {{kind: postgres, dsn: "host=127.0.0.1 port={port} dbname=crm user=meshwork password=hunter2",
                  schema: public, table: contacts}}
        columns:
          - {{name: customer_id, type: VARCHAR, pii: identifier, key: true}}
          - {{name: email, type: VARCHAR, pii: email}}
    """)
    write(root / "retail/products/crm_summary.yaml", """
        name: crm_summary
        description: Built on the hanging CRM.
        owner: ana.silva@bank.example
        source: {kind: sql, sql: "SELECT count(*) AS n FROM retail.crm"}
        columns:
          - {name: n, type: BIGINT}
    """)
    return root


def _attaches(mesh: catalog.Mesh, monkeypatch) -> list[str]:
    """Every connection the mesh's PostgreSQL bridge opens, by product."""
    bridge = mesh.engine.postgres
    attached: list[str] = []
    real_attach = bridge._attach
    monkeypatch.setattr(bridge, "_attach", lambda product, *args: attached.append(product.id)
                        or real_attach(product, *args))
    return attached


def test_a_hanging_database_breaks_only_its_products_within_the_time_limit(tmp_path, silent_listener, monkeypatch):
    """The database never answers (it hangs up only long after the time limit), so an error that says it timed
    out is the time limit at work; the failure is remembered, so a product built on it fails without a retry."""
    mesh = catalog.open_mesh(_hanging_mesh(tmp_path / "mini", silent_listener.port))
    attached = _attaches(mesh, monkeypatch)
    session = mesh.session("analyst", timeout_s=3)
    assert session.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3
    assert attached == []  # opening a session and reading other products touch no database
    with pytest.raises(QueryFailed, match="retail.crm") as failed:
        session.sql("SELECT * FROM retail.crm")
    # whichever bound fires first, our timer or libpq's connect_timeout, the reason says it timed out
    message = str(failed.value)
    assert ("did not answer" in message or "timeout expired" in message) and "hunter2" not in message
    assert attached == ["retail.crm"] and silent_listener.accepted >= 1
    with pytest.raises(QueryFailed, match="retail.crm"):
        session.sql("SELECT * FROM retail.crm_summary")
    assert attached == ["retail.crm"]  # the remembered failure, not a second wait on the database
    assert session.sql("SELECT full_name FROM risk.customer_risk WHERE score = 700").item() == "A. S."
    assert mesh.session("steward", timeout_s=3).sql("SELECT count(*) AS n FROM risk.limits")["n"][0] == 2


def test_other_products_answer_while_a_database_hangs(tmp_path, silent_listener):
    """The hanging read holds no lock the others need: they answer while it is still waiting, and it ends
    only when the database hangs up."""
    mesh = catalog.open_mesh(_hanging_mesh(tmp_path / "mini", silent_listener.port))
    outcome: dict = {}

    def hanging() -> None:
        try:
            mesh.session("analyst", timeout_s=60).sql("SELECT * FROM retail.crm")
        except QueryFailed as exc:
            outcome["error"] = exc

    waiting = threading.Thread(target=hanging)
    waiting.start()
    try:
        assert silent_listener.arrived.wait(30), "the read reaches the database"
        other = mesh.session("analyst", timeout_s=60)
        for _ in range(5):
            assert other.sql("SELECT count(*) AS n FROM risk.scores")["n"][0] == 3
        assert waiting.is_alive(), "the others answered while the hanging read still waited"
    finally:
        silent_listener.release()
    waiting.join(30)
    assert not waiting.is_alive() and "retail.crm" in str(outcome.get("error"))


def test_a_refused_connection_is_a_clear_error_at_once(tmp_path):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    mesh = catalog.open_mesh(_hanging_mesh(tmp_path / "mini", port))
    with pytest.raises(QueryFailed, match="cannot reach PostgreSQL") as failed:
        mesh.session("analyst", timeout_s=60).sql("SELECT * FROM retail.crm")
    message = str(failed.value)
    assert "refused" in message.lower() and "did not answer" not in message  # told at once, not timed out
    assert "hunter2" not in message
    assert mesh.session("analyst").sql("SELECT count(*) AS n FROM retail.branches")["n"][0] == 2


@pytest.mark.postgres
def test_postgres_attaches_only_when_a_query_names_it(minimesh, pg_database):
    import psycopg2

    pg = psycopg2.connect(pg_database)
    pg.autocommit = True
    pg.cursor().execute("CREATE TABLE t AS SELECT 1 AS x")
    write(minimesh / "retail/products/pgt.yaml", f"""
        name: pgt
        description: A PostgreSQL table.
        owner: ana.silva@bank.example
        source: {{kind: postgres, dsn: "{pg_database}", schema: public, table: t}}
        columns:
          - {{name: x, type: INTEGER}}
    """)
    mesh = catalog.open_mesh(minimesh)
    session = mesh.session("analyst")
    session.sql("SELECT count(*) FROM retail.customers")
    assert not any(db.con is not None for db in mesh.engine.postgres._databases.values())
    assert session.sql("SELECT x FROM retail.pgt").item() == 1
    # the role connection itself still reads no file and attaches nothing
    cursor = mesh.engine.database("analyst").cursor()
    with pytest.raises(Exception, match="(?i)disabled|permission"):
        cursor.execute(f"ATTACH '{pg_database}' AS p (TYPE postgres)")

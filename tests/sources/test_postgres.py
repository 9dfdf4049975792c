"""A PostgreSQL source that does not answer breaks only the products that read it, within the time limit."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

import catalog
from catalog.errors import QueryFailed
from minimesh import build_minimesh, write


@pytest.fixture
def silent_listener():
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
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


def test_a_hanging_database_breaks_only_its_products_within_the_time_limit(tmp_path, silent_listener):
    mesh = catalog.open_mesh(_hanging_mesh(tmp_path / "mini", silent_listener))
    started = time.monotonic()
    session = mesh.session("analyst", timeout_s=3)  # opening a session touches no database
    assert time.monotonic() - started < 2
    assert session.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3
    answers: list[float] = []

    def others() -> None:  # other products keep answering while the hanging one waits
        other = mesh.session("analyst", timeout_s=3)
        for _ in range(5):
            t = time.monotonic()
            assert other.sql("SELECT count(*) AS n FROM risk.scores")["n"][0] == 3
            answers.append(time.monotonic() - t)

    worker = threading.Thread(target=others)
    started = time.monotonic()
    worker.start()
    with pytest.raises(QueryFailed, match="retail.crm") as failed:
        session.sql("SELECT * FROM retail.crm")
    took = time.monotonic() - started
    worker.join(30)
    assert took < 3 + 1.5, f"the refusal took {took:.1f} s"
    # whichever bound fires first, our timer or libpq's connect_timeout, the reason says it timed out
    message = str(failed.value)
    assert ("did not answer" in message or "timeout expired" in message) and "hunter2" not in message
    assert len(answers) == 5 and max(answers) < 2.5
    # a product built on it fails too, fast (the failure is remembered), and the rest still answers
    started = time.monotonic()
    with pytest.raises(QueryFailed, match="retail.crm"):
        session.sql("SELECT * FROM retail.crm_summary")
    assert time.monotonic() - started < 1.5
    assert session.sql("SELECT full_name FROM risk.customer_risk WHERE score = 700").item() == "A. S."
    assert mesh.session("steward", timeout_s=3).sql("SELECT count(*) AS n FROM risk.limits")["n"][0] == 2


def test_a_refused_connection_is_a_clear_error_at_once(tmp_path):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    mesh = catalog.open_mesh(_hanging_mesh(tmp_path / "mini", port))
    started = time.monotonic()
    with pytest.raises(QueryFailed, match="cannot reach PostgreSQL") as failed:
        mesh.session("analyst", timeout_s=5).sql("SELECT * FROM retail.crm")
    assert time.monotonic() - started < 3
    assert "hunter2" not in str(failed.value)
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

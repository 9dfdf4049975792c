"""Connection strings: a typed one is used literally, a committed one expands only ${MESHWORK_...}, no message
shows a password or an expanded value, connections time out, and mesh.yaml may list the allowed hosts."""

from __future__ import annotations

import pytest

import catalog
from catalog.descriptors import dsn
from catalog.publish import intake
from catalog.publish import publish as pub
from catalog.errors import MeshError, PublishError
from minimesh import write
from muteserver import MuteServer
from tests.harness import free_port

OWNER = "ana.silva@bank.example"


def test_a_typed_dsn_never_reads_the_servers_environment(minimesh, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "s3cr3t-value")
    monkeypatch.setenv("MESHWORK_PG_PASSWORD", "m3sh-value")
    mesh = catalog.open_mesh(minimesh)
    for typed in ("postgresql://u:${SECRET_TOKEN}@127.0.0.1:1/x", "postgresql://u:${MESHWORK_PG_PASSWORD}@h/x",
                  "host=127.0.0.1 password=${SECRET_TOKEN} dbname=x"):
        with pytest.raises(PublishError) as refused:
            mesh.publisher.draft_from_postgres(typed, "t", domain="retail", name="t", owner=OWNER)
        assert "not expanded" in str(refused.value)
        assert "s3cr3t" not in str(refused.value) and "m3sh" not in str(refused.value)


def test_committed_descriptors_expand_only_allow_listed_variables(monkeypatch):
    monkeypatch.setenv("MESHWORK_PG_PASSWORD", "m3sh-value")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-value")
    assert dsn.expand("postgresql://u:${MESHWORK_PG_PASSWORD}@h/db") == "postgresql://u:m3sh-value@h/db"
    assert dsn.expand("postgresql://u:${AWS_SECRET_ACCESS_KEY}@h/db") == "postgresql://u:${AWS_SECRET_ACCESS_KEY}@h/db"
    assert dsn.expand("host=h password=${HOME}") == "host=h password=${HOME}"


@pytest.mark.parametrize("raw", ["postgresql://ana:hunter22@db:5432/x", "postgresql://ana:hunter22@db/x?sslmode=require",
                                 "host=db password=hunter22 dbname=x", "host=db password='hunter 22' dbname=x",
                                 "postgresql://db/x?user=ana&password=hunter22"])
def test_redact_hides_every_form_of_password(raw):
    shown = dsn.redact(raw)
    assert "hunter" not in shown and "***" in shown


def test_scrub_takes_expanded_values_out_of_a_drivers_message(monkeypatch):
    monkeypatch.setenv("MESHWORK_PG_PASSWORD", "m3sh-value")
    raw = "postgresql://u:${MESHWORK_PG_PASSWORD}@h/db"
    expanded = dsn.expand(raw)
    message = f'connection to "{expanded}" failed: password m3sh-value rejected\nDETAIL: more'
    cleaned = dsn.scrub(message, raw, expanded)
    assert "m3sh" not in cleaned and "\n" not in cleaned


@pytest.mark.postgres
def test_an_unreachable_committed_source_shows_no_secret(minimesh, monkeypatch):
    monkeypatch.setenv("MESHWORK_T_PW", "pw-ZQX-secret")
    write(minimesh / "retail/products/remote.yaml", """
        name: remote
        owner: ana.silva@bank.example
        source: {kind: postgres, dsn: "postgresql://u:${MESHWORK_T_PW}@127.0.0.1:1/x", table: t}
        columns:
          - {name: a, type: INTEGER}
    """)
    mesh = catalog.open_mesh(minimesh)
    with pytest.raises(MeshError) as failed:
        mesh.session(role="steward", timeout_s=10).sql("SELECT * FROM retail.remote")
    assert "pw-ZQX" not in str(failed.value)


@pytest.fixture
def mute_server():
    server = MuteServer()
    yield server.port
    server.close()


@pytest.mark.postgres
def test_a_typed_dsn_to_a_silent_host_gives_up_after_the_connect_timeout(minimesh, mute_server):
    mesh = catalog.open_mesh(minimesh)
    with pytest.raises(PublishError, match="cannot reach PostgreSQL") as failed:
        mesh.publisher.draft_from_postgres(f"postgresql://u:pw@127.0.0.1:{mute_server}/x", "t", domain="retail",
                                           name="t", owner=OWNER)
    assert "timeout expired" in str(failed.value)  # libpq gave up; the server had not hung up yet
    assert "connect_timeout=8" in dsn.with_connect_timeout("postgresql://h/x")
    assert dsn.with_connect_timeout("host=h connect_timeout=3") == "host=h connect_timeout=3"


def test_hosts_of_every_dsn_form():
    assert dsn.hosts("postgresql://u@db1:5432,db2:5433/x") == ["db1", "db2"]
    assert dsn.hosts("postgresql://u@[::1]:5432/x") == ["::1"]
    assert dsn.hosts("postgresql://u@db1/x?host=evil.example") == ["db1", "evil.example"]
    assert dsn.hosts("host=a,b hostaddr=10.0.0.9 dbname=x") == ["a", "b", "10.0.0.9"]
    assert dsn.hosts("postgresql:///x") == ["localhost"]


def test_the_mesh_host_allow_list_refuses_other_hosts_before_connecting(minimesh, monkeypatch):
    text = (minimesh / "mesh.yaml").read_text() + "postgres_hosts: [db.internal, 127.0.0.1]\n"
    (minimesh / "mesh.yaml").write_text(text)
    mesh = catalog.open_mesh(minimesh)
    connecting: list[str] = []
    real_load_extension = intake.load_extension
    monkeypatch.setattr(intake, "load_extension", lambda con, name: connecting.append(name)
                        or real_load_extension(con, name))
    for typed in ("postgresql://u@attacker.example/x", "postgresql://u@db.internal/x?host=attacker.example",
                  "host=attacker.example dbname=x", "postgresql:///x"):
        with pytest.raises(PublishError, match="is not one this mesh may connect to"):
            mesh.publisher.draft_from_postgres(typed, "t", domain="retail", name="t", owner=OWNER)
    assert connecting == []  # refused from the text: PostgreSQL's scanner was never loaded to connect
    with pytest.raises(PublishError, match="cannot reach PostgreSQL"):  # nothing listens there
        mesh.publisher.draft_from_postgres(f"postgresql://u@127.0.0.1:{free_port()}/x", "t", domain="retail",
                                           name="t", owner=OWNER)
    assert connecting == ["postgres_scanner"]  # an allowed host is connected to
    write(minimesh / "retail/products/remote.yaml", """
        name: remote
        owner: ana.silva@bank.example
        source: {kind: postgres, dsn: "postgresql://u@attacker.example/x", table: t}
        columns:
          - {name: a, type: INTEGER}
    """)
    mesh = catalog.open_mesh(minimesh)
    assert mesh.products["retail.remote"].broken
    problem = next(p for p in mesh.problems if p.product_id == "retail.remote")
    assert problem.field == "source.dsn" and problem.line == 3


@pytest.mark.parametrize("typed", ["service=prod dbname=x", "postgresql://h/x?passfile=/etc/shadow",
                                   "host=h sslkey=/root/.ssh/id_rsa", "postgresql://h/x\nhost=other"])
def test_typed_dsns_may_not_name_server_files_or_break_lines(typed):
    with pytest.raises(dsn.DsnError):
        dsn.check_typed(typed)


def test_a_contract_cannot_point_a_product_at_another_host(minimesh):
    from catalog.interop import odcs as contracts

    text = (minimesh / "mesh.yaml").read_text() + "postgres_hosts: [db.internal]\nusers:\n  " \
        "sam@bank.example: {roles: [steward]}\n"
    (minimesh / "mesh.yaml").write_text(text)
    mesh = catalog.open_mesh(minimesh)
    contract = f"""
apiVersion: v3.0.0
kind: DataContract
id: leads
name: leads
version: 1.0.0
status: active
domain: retail
servers:
  - {{server: pg, type: postgres, host: attacker.example, port: 5432, database: crm, schema: public}}
schema:
  - name: leads
    properties:
      - {{name: lead_id, logicalType: integer}}
"""
    with pytest.raises(PublishError, match="attacker.example is not one this mesh may connect to"):
        contracts.import_contract(mesh, contract, user="sam@bank.example")
    assert not (minimesh / "retail/products/leads.yaml").exists()

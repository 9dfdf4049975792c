"""Access agreements -> owner decisions -> grants that apply per query and end at expiry; the audit log."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

import catalog
from catalog.cli import app as cli
from catalog.errors import GrantLapsed, MeshError, QueryRejected
from tests.grants import granted

OWNER = "rui.costa@bank.example"      # owns risk.limits (restricted to steward, risk_officer)
RETAIL_OWNER = "ana.silva@bank.example"  # owns retail.customers (PII)
CONSUMER = "bo@bank.example"


class Clock:
    """A clock the test moves by hand, so expiry is exact and instant."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def mesh(minimesh):
    mesh = catalog.open_mesh(minimesh)
    mesh.access.clock = Clock()
    yield mesh
    mesh.close()


def audit_trail(mesh) -> list[tuple[str, str, str | None]]:
    return [(r["action"], r["outcome"], r["product_id"]) for r in mesh.access.audit().iter_rows(named=True)]


def test_request_approve_query_expire_refuse(mesh):
    clock = mesh.access.clock
    session = mesh.session(role="analyst", user=CONSUMER)  # opened before any grant exists
    with pytest.raises(QueryRejected, match="restricted"):
        session.sql("SELECT * FROM risk.limits")

    request = mesh.agreements.request(CONSUMER, "risk.limits", "sql", "Credit line review for the Q3 campaign", 2 / 24)
    assert request.status == "requested" and request.kind == "access"
    assert mesh.agreements.to_decide(OWNER)["id"].to_list() == [request.id]
    assert mesh.agreements.to_decide(CONSUMER).is_empty()
    assert mesh.access.grants().is_empty()  # a request opens nothing

    grant = mesh.access.get_grant(mesh.agreements.approve(request.id, OWNER).grant_id)
    assert grant.expires_at.startswith("2026-03-01T11:00:00")
    limits = session.sql("SELECT customer_id, credit_limit FROM risk.limits ORDER BY credit_limit")
    assert limits["credit_limit"].to_list() == [2000, 5000]
    assert limits["customer_id"][0].startswith("tok_")  # the access grant does not unmask PII
    assert "risk.limits" in session.visible_products()

    clock.advance(hours=2)
    with pytest.raises(GrantLapsed, match=r"access grant #\d+ on risk.limits expired at 2026-03-01 11:00 UTC"):
        session.sql("SELECT * FROM risk.limits")
    with pytest.raises(QueryRejected):  # GrantLapsed is also a QueryRejected for code that catches those
        session.sql("SELECT * FROM risk.limits")
    assert "risk.limits" not in session.visible_products()
    assert mesh.access.grants(user=CONSUMER)["status"].to_list() == ["expired"]
    assert audit_trail(mesh) == [
        ("agreement.request", "ok", "risk.limits"), ("agreement.approve", "ok", "risk.limits"),
        ("agreement.approved", "ok", "risk.limits"), ("grant.issue", "ok", "risk.limits"),
        ("agreement.activate", "ok", "risk.limits"),
        ("grant.use", "ok", "risk.limits"), ("grant.use", "refused", "risk.limits"),
        ("grant.use", "refused", "risk.limits")]


def test_a_grant_with_a_real_one_second_expiry_ends_on_the_wall_clock(minimesh):
    import time
    from datetime import datetime

    mesh = catalog.open_mesh(minimesh)
    agreement = granted(mesh, CONSUMER, "risk.limits", "One-off reconciliation of limits", OWNER,
                        5 / 86400)  # room for a slow first query
    session = mesh.session(role="analyst", user=CONSUMER)
    assert session.sql("SELECT count(*) AS n FROM risk.limits")["n"][0] == 2
    expires = datetime.fromisoformat(str(mesh.access.get_grant(agreement.grant_id).expires_at))
    time.sleep(max(0.0, (expires - datetime.now(expires.tzinfo)).total_seconds()) + 0.05)
    with pytest.raises(GrantLapsed):
        session.sql("SELECT count(*) AS n FROM risk.limits")
    mesh.close()


def test_pii_grant_unmasks_for_that_user_only_until_expiry(mesh):
    granted(mesh, CONSUMER, "retail.customers", "Send the VCDPA notice e-mails", RETAIL_OWNER, 1, kind="pii")
    query = "SELECT email FROM retail.customers WHERE age = 34"
    assert mesh.session(role="analyst", user=CONSUMER).sql(query)["email"][0] == "ana@bank.example"
    assert mesh.session(role="analyst", user="someone.else@bank.example").sql(query)["email"][0] == "***@bank.example"
    derived = mesh.session(role="analyst", user=CONSUMER).sql("SELECT full_name FROM risk.customer_risk "
                                                               "WHERE age = 34")
    assert derived["full_name"][0] != "Ana Silva"  # the grant covers retail.customers, not products built on it
    mesh.access.clock.advance(days=1)
    with pytest.warns(UserWarning, match="so its personal data is masked again"):
        assert mesh.session(role="analyst", user=CONSUMER).sql(query)["email"][0] == "***@bank.example"
    last = mesh.access.audit().row(-1, named=True)
    assert (last["action"], last["outcome"], last["kind"]) == ("grant.use", "refused", "pii")
    assert "masked again" in last["reason"]


def test_each_query_relying_on_a_grant_is_audited_with_its_query_id(mesh):
    grant_id = granted(mesh, CONSUMER, "risk.limits", "Credit line review for the Q3 campaign", OWNER, 7).grant_id
    session = mesh.session(role="analyst", user=CONSUMER)
    session.sql("SELECT * FROM risk.limits")
    session.sql("SELECT * FROM retail.branches")  # no grant needed: not a use
    session.sql("SELECT l.credit_limit FROM risk.limits l JOIN risk.scores s USING (customer_id)")
    uses = mesh.access.audit().filter(action="grant.use")
    assert uses["grant_id"].to_list() == [grant_id, grant_id]
    usage = mesh.usage("risk.limits")
    assert sorted(uses["query_id"].to_list()) == sorted(usage["query_id"].to_list())
    # a steward sees risk.limits by role: the grant is not relied on, so nothing is recorded
    mesh.agreements.request(RETAIL_OWNER, "risk.limits", "sql", "Checking limits as a steward as well", 7)
    mesh.session(role="steward", user=CONSUMER).sql("SELECT * FROM risk.limits")
    assert mesh.access.audit().filter(action="grant.use").height == 2


def test_refusals_are_clear_and_recorded(mesh):
    desk, purpose = mesh.agreements, "Credit line review for the Q3 campaign"
    with pytest.raises(MeshError, match="no product 'risk.limitz'"):
        desk.request(CONSUMER, "risk.limitz", "sql", purpose, 7)
    with pytest.raises(MeshError, match="no personal-data columns"):
        desk.request(CONSUMER, "retail.branches", "sql", "Branch list for the campaign", 7, kind="pii")
    with pytest.raises(MeshError, match="at least 10 characters"):
        desk.request(CONSUMER, "risk.limits", "sql", "need it", 7)
    with pytest.raises(catalog.AccessDenied, match="(?i)sign in first"):
        desk.request(None, "risk.limits", "sql", purpose, 7)
    request = desk.request(CONSUMER, "risk.limits", "sql", purpose, 7)
    with pytest.raises(MeshError, match=f"agreement #{request.id} for it is already requested"):
        desk.request(CONSUMER, "risk.limits", "sql", purpose, 7)
    with pytest.raises(catalog.AccessDenied, match=f"{RETAIL_OWNER} may not approve it; it needs an owner of "
                       "risk.limits"):
        desk.approve(request.id, RETAIL_OWNER)
    with pytest.raises(MeshError, match="duration must be positive"):
        desk.approve(request.id, OWNER, days=-1)
    with pytest.raises(MeshError, match="reason"):
        desk.reject(request.id, OWNER, "  ")
    with pytest.raises(MeshError, match="no agreement #999"):
        desk.approve(999, OWNER)
    refused = mesh.access.audit().filter(outcome="refused")
    assert refused.height == 9
    by_reason = {r["action"]: r for r in refused.iter_rows(named=True)}
    assert by_reason["agreement.approve"]["actor"] == "rui.costa@bank.example"  # the last approve refusal
    first = refused.row(0, named=True)
    assert (first["actor"], first["product_id"]) == (CONSUMER, "risk.limitz")
    assert all(r["reason"] for r in refused.iter_rows(named=True))
    assert desk.get(request.id).status == "requested"  # refusals changed nothing
    assert mesh.access.grants().is_empty()


def test_owner_cannot_approve_their_own_request_and_domain_owner_may_decide(mesh):
    desk = mesh.agreements
    request = desk.request(OWNER, "retail.customers", "sql", "Join limits to customer e-mails", 1, kind="pii")
    with pytest.raises(catalog.AccessDenied):
        desk.approve(request.id, "bo@bank.example")
    rejected = desk.reject(request.id, "retail-team@bank.example", "Use the masked key; it joins.")
    assert (rejected.status, rejected.decided_by, rejected.reason) == \
        ("rejected", "retail-team@bank.example", "Use the masked key; it joins.")
    with pytest.raises(MeshError, match="already rejected"):
        desk.approve(request.id, RETAIL_OWNER)
    granted(mesh, RETAIL_OWNER, "risk.limits", "Limits for the retail dashboard", OWNER, 1)
    mine = desk.request(OWNER, "retail.customers", "sql", "Join limits to customer e-mails again", 1, kind="pii")
    with pytest.raises(catalog.AccessDenied):
        desk.approve(mine.id, OWNER)
    assert [g["user"] for g in mesh.access.grants().iter_rows(named=True)] == [RETAIL_OWNER]


def test_revoked_grant_stops_at_once(mesh):
    agreement = granted(mesh, CONSUMER, "risk.limits", "Credit line review for the Q3 campaign", OWNER, 30)
    session = mesh.session(role="analyst", user=CONSUMER)
    session.sql("SELECT * FROM risk.limits")
    with pytest.raises(catalog.AccessDenied):
        mesh.agreements.revoke(agreement.id, "someone.else@bank.example", "I do not need it")
    assert mesh.access.grants()["status"].to_list() == ["active"]
    mesh.agreements.revoke(agreement.id, OWNER, "campaign cancelled")
    with pytest.raises(GrantLapsed, match="was revoked"):
        session.sql("SELECT * FROM risk.limits")


def test_audit_log_is_append_only_in_sqlite_itself(mesh):
    mesh.agreements.request(CONSUMER, "risk.limits", "sql", "Credit line review for the Q3 campaign", 7)
    if mesh.state.url:  # the same triggers, made PL/pgSQL, on a PostgreSQL state
        import psycopg
        con, refused = psycopg.connect(mesh.state.url, autocommit=True), psycopg.DatabaseError
    else:
        con, refused = sqlite3.connect(mesh.state.path), sqlite3.DatabaseError
    with pytest.raises(refused, match="append-only"):
        con.execute("UPDATE audit_log SET actor = 'someone-else'")
    with pytest.raises(refused, match="append-only"):
        con.execute("DELETE FROM audit_log")
    con.close()
    assert mesh.access.audit()["actor"].to_list() == [CONSUMER]
    source = (Path(catalog.__file__).parent).rglob("*.py")
    writes = [p.name for p in source if re.search(r"(UPDATE|DELETE FROM)\s+audit_log", p.read_text(), re.I)]
    assert writes == []


def test_audit_csv_export_has_every_event(mesh):
    request = mesh.agreements.request(CONSUMER, "risk.limits", "sql", "Credit line review, with a comma", 7)
    mesh.agreements.reject(request.id, OWNER, 'Use "risk.scores" instead')
    rows = list(csv.DictReader(io.StringIO(mesh.access.audit_csv())))
    assert [r["action"] for r in rows] == ["agreement.request", "agreement.reject"]
    assert rows[0]["reason"].endswith(": Credit line review, with a comma")
    assert rows[1]["reason"].endswith(': Use "risk.scores" instead') and rows[1]["subject"] == CONSUMER


def test_cli_request_approve_list_and_audit(minimesh):
    runner = CliRunner()
    made = runner.invoke(cli, ["access", "request", str(minimesh), "risk.limits", "--user", CONSUMER,
                               "--purpose", "Credit line review for the Q3 campaign"])
    assert made.exit_code == 0, made.output
    request_id = re.search(r"agreement #(\d+)", made.output).group(1)  # an access request is an agreement
    refused = runner.invoke(cli, ["access", "approve", str(minimesh), request_id, "--days", "3", "--user",
                                  "ana.silva@bank.example"])
    assert refused.exit_code == 2 and "may not approve it; it needs an owner of risk.limits" in refused.output
    approved = runner.invoke(cli, ["access", "approve", str(minimesh), request_id, "--days", "3", "--user", OWNER])
    assert approved.exit_code == 0 and "active - access on risk.limits for bo@bank.example" in approved.output
    assert "(grant #1)" in approved.output
    listed = runner.invoke(cli, ["access", "list", str(minimesh), "--grants"])
    assert "active" in listed.output and "risk.limits" in listed.output
    audit = runner.invoke(cli, ["audit", str(minimesh), "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(audit.stdout)))
    assert [(r["action"], r["outcome"]) for r in rows] == [
        ("agreement.request", "ok"), ("agreement.approve", "refused"), ("agreement.change", "ok"),
        ("agreement.approve", "ok"), ("agreement.approved", "ok"), ("grant.issue", "ok"), ("agreement.activate", "ok")]
    with closing(catalog.open_mesh(minimesh)) as mesh:
        assert mesh.agreements.get(int(request_id)).days == 3  # the owner's length
        assert mesh.session(role="analyst", user=CONSUMER).sql("SELECT count(*) AS n FROM risk.limits")["n"][0] == 2

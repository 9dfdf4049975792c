"""Access agreements: every transition of requested -> approved -> active -> expired / revoked / rejected /
cancelled, who may make each, expiry by the clock, renewal, the 7-day reminder; an active agreement is the
ledger grant the one policy reads (the query works, then is masked or refused again); refusals name the request
or agreement and write nothing."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

import catalog
from catalog.errors import AccessDenied, MeshError
from catalog.query.session import GrantEnded
from tests.statebackends import backend, state_pg_database, state_url  # noqa: F401

ANA = "ana.silva@bank.example"        # owner of retail.customers and of the retail domain
DANA = "dana.kowalski@bank.example"   # owner of risk.customer_exposure and the risk domain
BEN = "ben.okafor@bank.example"       # owner of retail.transactions
STEWARD = "sam.steward@bank.example"  # a steward by mesh.yaml
CONSUMER = "zoe.analyst@bank.example"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
EMAIL_SQL = "SELECT email FROM retail.customers WHERE email IS NOT NULL ORDER BY customer_id LIMIT 1"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def mesh(sample_copy):
    root = sample_copy("banking")
    with open(root / "mesh.yaml", "a") as handle:
        handle.write(f"users:\n  {STEWARD}: {{roles: [steward]}}\n")
    exposure = root / "risk/products/customer_exposure.yaml"
    exposure.write_text(exposure.read_text() + "ports:\n  output:\n  - {name: sql, kind: sql_view, approval: "
                        "owner+steward}\n  - {name: monthly_file, kind: file, location: exports/exposure.parquet, "
                        "approval: owner+steward}\n")
    opened = catalog.open_mesh(root, state_dir=root.parent / "state")
    assert not opened.problems, opened.problems
    opened.access.clock = Clock()
    yield opened
    opened.close()


def _written(mesh):
    return mesh.agreements.agreements().height, mesh.access.grants().height


def test_an_auto_port_is_approved_and_active_at_once(mesh):
    assert mesh.ports("retail.transactions")["output"][0].approval == "auto"
    made = mesh.agreements.request(CONSUMER, "retail.transactions", "sql", "monthly channel mix report", days=30)
    assert made.status == "active" and made.decided_by == "auto" and made.expires_at.startswith("2026-12-31")
    assert mesh.access.get_grant(made.grant_id).product_id == "retail.transactions"
    actions = [a for a in mesh.access.audit()["action"].to_list() if a.startswith("agreement")]
    assert actions == ["agreement.request", "agreement.approved", "agreement.activate"]


def test_an_owner_approval_unmasks_until_the_clock_passes_the_expiry(mesh):
    session = mesh.session("analyst", CONSUMER)
    masked = session.sql(EMAIL_SQL)["email"][0]
    made = mesh.agreements.request(CONSUMER, "retail.customers", "sql", "verify contact data for KYC refresh",
                                   days=10, kind="pii")
    assert made.status == "requested" and made.approval == "owner"
    assert session.sql(EMAIL_SQL)["email"][0] == masked  # a request opens nothing
    active = mesh.agreements.approve(made.id, ANA)
    assert active.status == "active" and active.owner_approved_by == ANA
    shown = session.sql(EMAIL_SQL)["email"][0]
    assert shown != masked and "@" in shown
    mesh.access.clock.now = T0 + timedelta(days=10, seconds=1)
    assert mesh.agreements.get(made.id).state(mesh.access.now()) == "expired"
    assert mesh.agreements.agreements(status="expired")["id"].to_list() == [made.id]
    with pytest.warns(GrantEnded, match=f"pii grant #{active.grant_id} on retail.customers expired at"):
        assert session.sql(EMAIL_SQL)["email"][0] == masked  # masked again, by the clock alone
    [notice] = session.run(EMAIL_SQL).notices  # the workbench shows it beside the result
    assert "so its personal data is masked again" in notice and "Access & alerts" in notice


def test_a_query_under_a_grant_in_force_or_never_held_carries_no_notice(mesh):
    session = mesh.session("analyst", CONSUMER)
    assert session.run(EMAIL_SQL).notices == []
    made = mesh.agreements.request(CONSUMER, "retail.customers", "sql", "verify contact data for KYC refresh",
                                   days=10, kind="pii")
    mesh.agreements.approve(made.id, ANA)
    assert session.run(EMAIL_SQL).notices == []


def test_owner_and_steward_both_approve_in_either_order_before_it_opens(mesh):
    as_analyst = mesh.session("analyst", CONSUMER)
    with pytest.raises(MeshError):
        as_analyst.sql("SELECT count(*) AS n FROM risk.customer_exposure")
    first = mesh.agreements.request(CONSUMER, "risk.customer_exposure", "sql", "portfolio exposure by state",
                                    days=30)
    after_steward = mesh.agreements.approve(first.id, STEWARD)
    assert after_steward.status == "requested" and after_steward.steward_approved_by == STEWARD
    with pytest.raises(AccessDenied, match="approved already"):
        mesh.agreements.approve(first.id, STEWARD)
    with pytest.raises(MeshError):
        as_analyst.sql("SELECT count(*) AS n FROM risk.customer_exposure")
    active = mesh.agreements.approve(first.id, DANA)
    assert active.status == "active" and active.owner_approved_by == DANA
    assert as_analyst.sql("SELECT count(*) AS n FROM risk.customer_exposure")["n"][0] > 0


def test_who_may_approve_reject_and_cancel(mesh):
    made = mesh.agreements.request(CONSUMER, "retail.customers", "sql", "verify contact data for KYC refresh",
                                   days=5, kind="pii")
    with pytest.raises(AccessDenied, match="needs an owner of retail.customers"):
        mesh.agreements.approve(made.id, DANA)  # an owner of another domain
    with pytest.raises(AccessDenied, match="only an owner of retail.customers or a steward"):
        mesh.agreements.reject(made.id, BEN, "not needed")
    with pytest.raises(AccessDenied, match=f"only {CONSUMER}"):
        mesh.agreements.cancel(made.id, ANA)
    cancelled = mesh.agreements.cancel(made.id, CONSUMER)
    assert cancelled.status == "cancelled" and cancelled.grant_id is None
    with pytest.raises(MeshError, match="already cancelled"):
        mesh.agreements.approve(made.id, ANA)
    again = mesh.agreements.request(CONSUMER, "retail.customers", "sql", "verify contact data for KYC refresh",
                                    days=5, kind="pii")
    with pytest.raises(MeshError, match="give a reason"):
        mesh.agreements.reject(again.id, ANA, " ")
    rejected = mesh.agreements.reject(again.id, STEWARD, "use the masked token to join instead")
    assert rejected.status == "rejected" and rejected.reason.startswith("use the masked token")
    assert mesh.access.grants().is_empty()


def test_a_consumer_may_not_approve_their_own_request(mesh):
    made = mesh.agreements.request(ANA, "risk.customer_exposure", "sql", "exposure of my retail customers",
                                   days=5)
    with pytest.raises(AccessDenied):
        mesh.agreements.approve(made.id, ANA)
    assert mesh.agreements.get(made.id).status == "requested"


def test_revoke_by_the_consumer_ends_the_grant_and_the_query_is_refused_again(mesh):
    made = mesh.agreements.request(CONSUMER, "risk.customer_exposure", "monthly_file", "board pack exposure",
                                   days=30)
    mesh.agreements.approve(made.id, DANA)
    mesh.agreements.approve(made.id, STEWARD)
    session = mesh.session("analyst", CONSUMER)
    assert session.sql("SELECT count(*) AS n FROM risk.customer_exposure")["n"][0] > 0
    with pytest.raises(AccessDenied, match="may revoke it"):
        mesh.agreements.revoke(made.id, BEN, "tidy up")
    revoked = mesh.agreements.revoke(made.id, CONSUMER, "board pack done")
    assert revoked.status == "revoked"
    assert mesh.access.get_grant(revoked.grant_id).revoked_by == CONSUMER
    with pytest.raises(MeshError):
        session.sql("SELECT count(*) AS n FROM risk.customer_exposure")
    with pytest.raises(MeshError, match="is revoked, not active"):
        mesh.agreements.revoke(made.id, DANA, "again")


def test_an_owner_renews_an_active_or_expired_agreement_and_the_grant_follows(mesh):
    made = mesh.agreements.request(CONSUMER, "retail.customers", "sql", "verify contact data for KYC refresh",
                                   days=10, kind="pii")
    mesh.agreements.approve(made.id, ANA)
    with pytest.raises(AccessDenied, match="only an owner of retail.customers may renew"):
        mesh.agreements.renew(made.id, CONSUMER, days=10)
    renewed = mesh.agreements.renew(made.id, ANA, days=20)
    assert renewed.expires_at.startswith("2026-12-31") and renewed.grant_id == mesh.agreements.get(made.id).grant_id
    assert mesh.access.get_grant(renewed.grant_id).expires_at == renewed.expires_at
    mesh.access.clock.now = T0 + timedelta(days=40)
    assert mesh.agreements.get(made.id).state(mesh.access.now()) == "expired"
    back = mesh.agreements.renew(made.id, ANA, days=7)
    assert back.state(mesh.access.now()) == "active" and back.grant_id != renewed.grant_id
    assert ("retail.customers", "pii") in mesh.access.live_grants(CONSUMER)


def test_the_reminder_lists_agreements_ending_within_seven_days_for_their_owners(mesh):
    soon = mesh.agreements.request(CONSUMER, "retail.customers", "sql", "verify contact data for KYC refresh",
                                   days=5, kind="pii")
    later = mesh.agreements.request(CONSUMER, "retail.transactions", "sql", "monthly channel mix report", days=60)
    mesh.agreements.approve(soon.id, ANA)
    assert mesh.agreements.expiring(ANA)["id"].to_list() == [soon.id]
    assert mesh.agreements.expiring(BEN).is_empty()
    mesh.access.clock.now = T0 + timedelta(days=55)
    assert mesh.agreements.expiring(BEN)["id"].to_list() == [later.id]


@pytest.mark.parametrize("args, kwargs, message", [
    (("retail.customers", "csv_export", "verify contact data"), {"days": 5},
     "Agreement request by zoe.analyst@bank.example for retail.customers port 'csv_export' refused: "
     "retail.customers has no output port 'csv_export'; its ports are: sql"),
    (("retail.customers", "sql", "verify contact data"), {"until": "2026-11-30"}, "is in the past"),
    (("retail.customers", "sql", "verify contact data"), {"days": 400}, "at most 366 days"),
    (("retail.customers", "sql", "short"), {"days": 5}, "at least 10 characters"),
    (("retail.nothing", "sql", "verify contact data"), {"days": 5}, "no product 'retail.nothing'"),
    (("retail.customers", "sql", "verify contact data"), {"days": 5, "consumer": "product:retail.nothing"},
     "consumer"),
])
def test_bad_requests_are_refused_naming_the_request_and_nothing_is_written(mesh, args, kwargs, message):
    with pytest.raises(MeshError) as refused:
        mesh.agreements.request(CONSUMER, *args, **kwargs)
    assert message in str(refused.value)
    assert _written(mesh) == (0, 0)
    [row] = mesh.access.audit().iter_rows(named=True)
    assert row["outcome"] == "refused" and row["action"] == "agreement.request"


def test_a_renewal_to_a_past_date_is_refused_naming_the_agreement_and_changes_nothing(mesh):
    made = mesh.agreements.request(CONSUMER, "retail.customers", "sql", "verify contact data for KYC refresh",
                                   days=10, kind="pii")
    active = mesh.agreements.approve(made.id, ANA)
    with pytest.raises(MeshError, match=f"Agreement #{made.id} not renewed: the expiry 2026-11-01 is in the past"):
        mesh.agreements.renew(made.id, ANA, until="2026-11-01")
    assert mesh.agreements.get(made.id) == active
    assert mesh.access.get_grant(active.grant_id).expires_at == active.expires_at


def test_a_consuming_product_is_named_as_the_consumer(mesh):
    made = mesh.agreements.request(ANA, "retail.transactions", "sql", "feeds the customer 360 balances",
                                   days=30, consumer="product:marketing.customer_360")
    assert (made.consumer_kind, made.consumer, made.requested_by) == ("product", "marketing.customer_360", ANA)


def test_expire_due_ends_agreements_and_their_grants_as_of_a_later_time(mesh):
    desk = mesh.agreements
    made = desk.request(CONSUMER, "retail.customers", "sql", "churn model with e-mail campaigns", days=3, kind="pii")
    desk.approve(made.id, ANA)
    assert mesh.session(role="analyst", user=CONSUMER).sql(EMAIL_SQL)["email"][0].count("*") == 0
    assert desk.expire_due(CONSUMER, "2026-12-03") == []  # early expiry: not the consumer's to do, nothing ends
    with pytest.raises(MeshError, match="not a date"):
        desk.expire_due(ANA, "next week")
    ended, = desk.expire_due(ANA, "2026-12-05")  # due by then: ended now, before its date
    assert ended.status == "expired" and ended.expires_at == desk.now()
    assert mesh.access.grants(user=CONSUMER)["status"].to_list() == ["expired"]
    with pytest.warns(GrantEnded):
        assert "*" in mesh.session(role="analyst", user=CONSUMER).sql(EMAIL_SQL)["email"][0]  # masked again
    assert [a for a in mesh.access.audit()["action"].to_list() if "expire" in a] == ["agreement.expire",
                                                                                   "grant.expire", "agreement.expire"]
    renewed = desk.renew(made.id, ANA, days=10)  # an expired agreement renews with a new grant
    assert renewed.status == "active" and renewed.grant_id != made.grant_id


def test_expire_due_on_time_is_bookkeeping_anyone_signed_in_may_run(mesh):
    desk = mesh.agreements
    made = desk.request(CONSUMER, "retail.transactions", "sql", "monthly channel mix report", days=1)
    mesh.access.clock.now = T0 + timedelta(days=2)
    with pytest.raises(AccessDenied, match="sign in first"):
        desk.expire_due(None)
    ended, = desk.expire_due(CONSUMER)
    assert ended.id == made.id and ended.expires_at == made.expires_at  # ended at its own expiry, not later
    assert desk.expire_due(CONSUMER) == []


REFUSE_UPDATES = {  # a real trigger: one table's half of an expiry fails in the database itself
    "sqlite": ["CREATE TRIGGER refuse_update BEFORE UPDATE ON {table} "
               "BEGIN SELECT RAISE(ABORT, 'update refused by a test trigger'); END"],
    "postgresql": ["CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RAISE EXCEPTION 'update refused by a test trigger'; END $$",
                   "CREATE TRIGGER refuse_update BEFORE UPDATE ON {table} FOR EACH ROW "
                   "EXECUTE FUNCTION refuse_update()"],
}


@pytest.mark.parametrize("table", ["grants", "agreements"])
def test_an_agreement_and_its_grant_expire_together_or_not_at_all(sample_copy, backend, state_url, monkeypatch,
                                                                  table):
    if state_url:
        monkeypatch.setenv("MESHWORK_STATE_URL", state_url)
    root = sample_copy("banking")
    with open(root / "mesh.yaml", "a") as handle:
        handle.write(f"users:\n  {STEWARD}: {{roles: [steward]}}\n")
    opened = catalog.open_mesh(root, state_dir=root.parent / "state")
    try:
        opened.access.clock = Clock()
        desk = opened.agreements
        made = desk.request(CONSUMER, "retail.transactions", "sql", "monthly channel mix report", days=3)
        connect = (lambda: psycopg.connect(state_url, autocommit=True)) if state_url else \
            (lambda: closing(sqlite3.connect(opened.state.path, isolation_level=None)))
        with connect() as con:
            for statement in REFUSE_UPDATES[backend]:
                con.execute(statement.format(table=table))
        with pytest.raises(Exception, match="refused by a test trigger"):
            desk.expire_due(STEWARD, "2026-12-05")  # early, so both the agreement and its grant change
        assert desk.get(made.id) == made  # whichever write failed, neither the agreement nor its grant ended
        assert opened.access.get_grant(made.grant_id).expires_at == made.expires_at
        assert opened.access.grants(user=CONSUMER)["status"].to_list() == ["active"]
        with connect() as con:
            con.execute("DROP TRIGGER refuse_update" + (f" ON {table}" if state_url else ""))
        ended, = desk.expire_due(STEWARD, "2026-12-05")
        assert ended.status == "expired" and opened.access.grants(user=CONSUMER)["status"].to_list() == ["expired"]
    finally:
        opened.close()


def test_to_decide_lists_what_each_approver_may_approve_now(mesh):
    desk = mesh.agreements
    mine = desk.request(CONSUMER, "retail.customers", "sql", "churn model with e-mail campaigns", days=30, kind="pii")
    both = desk.request(CONSUMER, "risk.customer_exposure", "sql", "quarterly exposure review board", days=30)
    assert desk.to_decide(ANA)["id"].to_list() == [mine.id]
    assert desk.to_decide(STEWARD)["id"].to_list() == [both.id]  # the steward's half of owner+steward
    assert desk.to_decide(DANA)["id"].to_list() == [both.id]
    assert desk.to_decide(CONSUMER).is_empty() and desk.to_decide(None).is_empty()
    desk.approve(both.id, STEWARD)
    assert desk.to_decide(STEWARD).is_empty() and desk.to_decide(DANA)["id"].to_list() == [both.id]


"""`meshwork agreement request|approve|list|renew|revoke` over a copy of the banking sample."""

from __future__ import annotations

from typer.testing import CliRunner

from catalog.cli import app as cli

runner = CliRunner()
ANA, ZOE = "ana.silva@bank.example", "zoe.analyst@bank.example"


def run(*args):
    return runner.invoke(cli, [str(a) for a in args])


def test_request_approve_list_renew_and_revoke(sample_copy):
    mesh = sample_copy("banking")
    made = run("agreement", "request", mesh, "retail.customers", "--purpose", "verify contact data for KYC",
               "--days", "5", "--pii", "--user", ZOE)
    assert made.exit_code == 0, made.output
    assert made.output.startswith("agreement #1: requested - retail.customers:sql (pii)")
    approved = run("agreement", "approve", mesh, "1", "--user", ANA)
    assert approved.exit_code == 0 and "active" in approved.output
    listed = run("agreement", "list", mesh, "--expiring", "--user", ANA)
    assert listed.exit_code == 0 and "#1" in listed.output and "active" in listed.output
    renewed = run("agreement", "renew", mesh, "1", "--days", "30", "--user", ANA)
    assert renewed.exit_code == 0 and "active" in renewed.output
    revoked = run("agreement", "revoke", mesh, "1", "--reason", "check done", "--user", ZOE)
    assert revoked.exit_code == 0 and "revoked" in revoked.output


def test_a_port_the_product_lacks_exits_2_with_the_reason(sample_copy):
    mesh = sample_copy("banking")
    refused = run("agreement", "request", mesh, "retail.customers", "--port", "dashboard", "--purpose",
                  "verify contact data for KYC", "--days", "5", "--user", ZOE)
    assert refused.exit_code == 2
    assert "has no output port 'dashboard'" in refused.output
    assert "0 agreement(s)" in run("agreement", "list", mesh, "--user", ZOE).output


def test_access_request_and_approve_are_an_agreement_and_its_grant(sample_copy):
    mesh = sample_copy("banking")
    made = run("access", "request", mesh, "retail.customers", "--purpose", "verify contact data for KYC", "--pii",
               "--user", ZOE)
    assert made.exit_code == 0, made.output
    assert made.output.startswith("agreement #1: pii on retail.customers:sql for zoe.analyst@bank.example, requested")
    approved = run("access", "approve", mesh, "1", "--days", "5", "--user", ANA)  # the owner shortens it to 5 days
    assert approved.exit_code == 0 and "active - pii on retail.customers" in approved.output, approved.output
    listed = run("access", "list", mesh, "--role", "steward")
    assert listed.stdout.startswith("#1    active") and listed.stdout.rstrip().endswith("verify contact data for KYC")
    assert "for 5 days" not in listed.stdout and "1 agreement(s)" in listed.output
    grants = run("access", "list", mesh, "--grants", "--role", "steward")
    assert grants.stdout.startswith("#1    active   pii")
    import catalog
    opened = catalog.open_mesh(mesh)
    assert opened.agreements.get(1).days == 5 and opened.access.grants()["request_id"].is_null().all()
    assert "agreement.change" in opened.access.audit()["action"].to_list()


def test_expire_as_of_a_later_day_ends_the_due_agreement_and_a_bad_date_is_named(sample_copy):
    mesh = sample_copy("banking")
    run("agreement", "request", mesh, "retail.customers", "--purpose", "verify contact data for KYC", "--days", "2",
        "--pii", "--user", ZOE)
    run("agreement", "approve", mesh, "1", "--user", ANA)
    bad = run("agreement", "expire", mesh, "--as-of", "soon", "--user", ANA)
    assert bad.exit_code == 2 and "soon is not a date" in bad.output
    early = run("agreement", "expire", mesh, "--as-of", "2999-01-01", "--user", ZOE)  # not hers to end early
    assert early.exit_code == 0 and "0 agreement(s) expired" in early.output
    ended = run("agreement", "expire", mesh, "--as-of", "2999-01-01", "--user", ANA)
    assert ended.exit_code == 0 and ended.output.startswith("agreement #1: expired"), ended.output

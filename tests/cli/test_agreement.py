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

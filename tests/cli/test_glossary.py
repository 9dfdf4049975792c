"""`meshwork glossary list|show|propose|approve|reject` over a copy of the banking sample."""

from __future__ import annotations

from typer.testing import CliRunner

from catalog.cli import app as cli
from catalog.descriptors.yamlio import read_yaml

runner = CliRunner()
ANA, DANA = "ana.silva@bank.example", "dana.kowalski@bank.example"


def run(*args):
    return runner.invoke(cli, [str(a) for a in args])


def test_list_and_show_print_terms_their_uses_and_history(sample_copy):
    mesh = sample_copy("banking")
    listed = run("glossary", "list", mesh, "--user", ANA)
    assert listed.exit_code == 0, listed.output
    assert any(line.startswith("probability_of_default") and "(PD" in line for line in listed.output.splitlines())
    shown = run("glossary", "show", mesh, "exposure", "--user", ANA)
    assert shown.exit_code == 0, shown.output
    assert "abbreviations: EAD" in shown.output and "risk.customer_exposure.outstanding_balance" not in shown.output
    missing = run("glossary", "show", mesh, "exposur", "--user", ANA)
    assert missing.exit_code == 2 and "no term 'exposur'" in missing.output


def test_propose_then_the_steward_approves_and_the_file_holds_the_term(sample_copy):
    mesh = sample_copy("banking")
    proposed = run("glossary", "propose", mesh, "Loss given default", "--definition",
                   "The share of an exposure lost when a borrower defaults.", "--abbreviation", "LGD",
                   "--related", "exposure", "--steward", DANA, "--user", ANA, "--reason", "for the risk report")
    assert proposed.exit_code == 0, proposed.output
    assert "proposal #1: new term loss_given_default, pending; steward dana.kowalski@bank.example" in proposed.output
    pending = run("glossary", "list", mesh, "--pending")
    assert "loss_given_default" in pending.output
    refused = run("glossary", "approve", mesh, "1", "--user", ANA)
    assert refused.exit_code == 2 and "may not decide" in refused.output
    approved = run("glossary", "approve", mesh, "1", "--user", DANA)
    assert approved.exit_code == 0, approved.output
    ids = [t["id"] for t in read_yaml(mesh / "glossary" / "banking.yaml").data["terms"]]
    assert ids[-1] == "loss_given_default"
    history = run("glossary", "show", mesh, "loss_given_default", "--user", DANA)
    assert "glossary.propose" in history.output and "glossary.approve" in history.output


def test_reject_needs_a_reason_and_leaves_the_glossary_as_it_was(sample_copy):
    mesh = sample_copy("banking")
    before = (mesh / "glossary" / "banking.yaml").read_text()
    run("glossary", "propose", mesh, "Share of wallet", "--id", "share_of_wallet", "--definition",
        "The part of a customer's banking business held with us.", "--user", ANA)
    rejected = run("glossary", "reject", mesh, "1", "--reason", "keep it a draft for now", "--user",
                   "elif.yilmaz@bank.example")
    assert rejected.exit_code == 0, rejected.output
    assert "rejected: keep it a draft for now" in rejected.output
    assert (mesh / "glossary" / "banking.yaml").read_text() == before

"""Glossary proposals: anyone identified proposes, the term's steward (never the proposer) approves or rejects;
an approval is written to glossary/*.yaml, every step is in the audit log, and a refusal writes nothing."""

from __future__ import annotations

import pytest

import catalog
from catalog.descriptors.yamlio import read_yaml
from catalog.errors import AccessDenied, MeshError

ANA = "ana.silva@bank.example"      # retail owner, proposes
DANA = "dana.kowalski@bank.example"  # steward of the risk terms
LGD = {"name": "Loss given default", "definition": "The share of an exposure lost when a borrower defaults.",
       "abbreviations": ["LGD"], "related": ["exposure"], "steward": DANA, "status": "approved"}


@pytest.fixture
def mesh(sample_copy):
    root = sample_copy("banking")
    return catalog.open_mesh(root, state_dir=root.parent / "state")


def _glossary(mesh):
    return (mesh.root / "glossary" / "banking.yaml").read_text()


def test_a_new_term_is_pending_until_its_steward_approves_it_then_written_and_in_force(mesh):
    before = _glossary(mesh)
    proposal = mesh.glossary.propose(ANA, LGD, "risk reports need it")
    assert proposal.status == "pending" and proposal.change == "new" and proposal.term_id == "loss_given_default"
    assert _glossary(mesh) == before and "loss_given_default" not in mesh.declared.terms
    term = mesh.glossary.approve(proposal.id, DANA)
    assert term.status == "approved"
    written = read_yaml(mesh.root / "glossary" / "banking.yaml").data["terms"]
    assert written[-1] == {"id": "loss_given_default", "name": "Loss given default",
                           "definition": LGD["definition"], "abbreviations": ["LGD"], "related": ["exposure"],
                           "steward": DANA, "status": "approved"}
    reopened = catalog.open_mesh(mesh.root, state_dir=mesh.state_dir)
    assert reopened.declared.terms["loss_given_default"].abbreviations == ["LGD"] and not reopened.problems
    actions = mesh.glossary.history("loss_given_default")
    assert actions["action"].to_list() == ["glossary.propose", "glossary.approve"]
    assert actions["actor"].to_list() == [ANA, DANA]


def test_a_change_to_an_approved_term_keeps_the_old_one_until_approved(mesh):
    old = mesh.declared.terms["exposure"]
    change = {**old.model_dump(), "definition": "Drawn balances plus expected draws of undrawn limits at default."}
    proposal = mesh.glossary.propose(ANA, change)
    assert proposal.change == "change" and mesh.declared.terms["exposure"].definition == old.definition
    mesh.glossary.approve(proposal.id, DANA, "agreed with risk")
    reopened = catalog.open_mesh(mesh.root, state_dir=mesh.state_dir)
    assert reopened.declared.terms["exposure"].definition.startswith("Drawn balances plus expected")
    assert reopened.declared.terms["exposure"].synonyms == old.synonyms


def test_the_proposer_and_other_people_may_not_decide_and_the_refusal_is_audited(mesh):
    proposal = mesh.glossary.propose(ANA, LGD)
    before = _glossary(mesh)
    with pytest.raises(AccessDenied, match="proposed this change"):
        mesh.glossary.approve(proposal.id, ANA)
    with pytest.raises(AccessDenied, match="only dana.kowalski@bank.example"):
        mesh.glossary.approve(proposal.id, "ben.okafor@bank.example")
    with pytest.raises(AccessDenied, match="only dana.kowalski@bank.example"):
        mesh.glossary.reject(proposal.id, "ben.okafor@bank.example", "no")
    assert _glossary(mesh) == before and mesh.glossary.get(proposal.id).status == "pending"
    refused = mesh.access.audit().filter(mesh.access.audit()["outcome"] == "refused")
    assert refused["actor"].to_list() == [ANA, "ben.okafor@bank.example", "ben.okafor@bank.example"]


def test_a_rejection_needs_a_reason_and_writes_nothing(mesh):
    proposal = mesh.glossary.propose(ANA, LGD)
    before = _glossary(mesh)
    with pytest.raises(MeshError, match="reason"):
        mesh.glossary.reject(proposal.id, DANA, "  ")
    rejected = mesh.glossary.reject(proposal.id, DANA, "use the Basel definition")
    assert rejected.status == "rejected" and rejected.decision == "use the Basel definition"
    assert _glossary(mesh) == before
    with pytest.raises(MeshError, match="already rejected"):
        mesh.glossary.approve(proposal.id, DANA)


@pytest.mark.parametrize("fields, message", [
    ({**LGD, "related": ["loss_rate"]}, "loss_rate, which the glossary does not define"),
    ({**LGD, "definition": ""}, "definition: may not be empty"),
    ({**LGD, "name": "<b>LGD</b>"}, "may not hold <, >"),
    ({**LGD, "colour": "red"}, "colour"),
])
def test_a_bad_proposal_is_refused_with_the_reason_and_nothing_filed(mesh, fields, message):
    with pytest.raises(MeshError, match=message):
        mesh.glossary.propose(ANA, fields)
    assert mesh.glossary.proposals().is_empty()
    assert mesh.access.audit()["outcome"].to_list() == ["refused"]


def test_a_proposal_that_would_close_a_cycle_of_related_terms_is_refused(mesh):
    account = mesh.declared.terms["account_balance"]  # exposure -> account_balance already
    with pytest.raises(MeshError, match="cycle: account_balance -> exposure -> account_balance"):
        mesh.glossary.propose(ANA, {**account.model_dump(), "related": ["exposure"]})
    assert mesh.glossary.proposals().is_empty()


def test_one_pending_proposal_per_term_and_anonymous_may_not_propose(mesh):
    mesh.glossary.propose(ANA, LGD)
    with pytest.raises(MeshError, match="still pending"):
        mesh.glossary.propose("ben.okafor@bank.example", {**LGD, "definition": "Another wording of it."})
    with pytest.raises(AccessDenied, match="Sign in first"):
        mesh.glossary.propose("anonymous", LGD)

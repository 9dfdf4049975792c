"""Reading the glossary: every sample mesh has at least 15 real terms linked where they belong, only approved
terms badge, and where a term is used is listed for the viewer."""

from __future__ import annotations

import pytest

import catalog
from catalog.glossary.terms import badges, matching_terms, uses
from tests.conftest import SAMPLES


@pytest.mark.parametrize("name", ["banking", "life_sciences", "supply_chain"])
def test_each_sample_has_fifteen_linked_approved_terms_and_no_problems(name, tmp_path):
    mesh = catalog.open_mesh(SAMPLES / name, state_dir=tmp_path)
    approved = {t.id for t in mesh.declared.terms.values() if t.status == "approved"}
    linked = {u.term_id for u in uses(mesh.declared)}
    assert len(approved & linked) >= 15
    assert not mesh.problems
    frame = mesh.terms()
    assert frame.height == len(mesh.declared.terms) and frame["products"].sum() > 15


def test_only_approved_terms_badge_a_column(tmp_path):
    mesh = catalog.open_mesh(SAMPLES / "supply_chain", state_dir=tmp_path)
    product = mesh.declared.products["inventory.stock_levels"]
    shown = badges(mesh.declared, product)
    assert [t.name for t in shown["on_hand"]] == ["Stock on hand"] and "" not in shown
    mesh.declared.terms["stock_on_hand"].status = "deprecated"
    assert "on_hand" not in badges(mesh.declared, product)


def test_a_query_names_terms_by_synonym_and_abbreviation(tmp_path):
    mesh = catalog.open_mesh(SAMPLES / "banking", state_dir=tmp_path).declared
    assert {t.id for t in matching_terms(mesh, "EAD by segment")} == {"exposure", "customer_segment"}
    assert [t.id for t in matching_terms(mesh, "exposure at default")][0] == "exposure"
    assert [t.id for t in matching_terms(mesh, "dsar backlog")] == ["data_subject_request"]
    assert matching_terms(mesh, "wallet share") == []  # a draft term is not yet vouched for


def test_where_used_leaves_out_products_the_viewer_may_not_list(tmp_path):
    mesh = catalog.open_mesh(SAMPLES / "banking", state_dir=tmp_path)
    everywhere = mesh.term_uses("probability_of_default")
    assert set(everywhere["product_id"]) == {"risk.credit_scores", "risk.customer_exposure"}
    as_analyst = mesh.term_uses("probability_of_default", role="analyst", user="x@bank.example")
    assert set(as_analyst["product_id"]) <= set(mesh.policy("analyst", "x@bank.example").allowed)

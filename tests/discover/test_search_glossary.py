"""Search understands the glossary: a term's name, synonym or abbreviation ranks the products that link it,
the `term` facet counts and filters them, and a viewer is never told of a column term on a locked product."""

from __future__ import annotations

import pytest

import catalog
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def supply(tmp_path_factory):
    return catalog.open_mesh(SAMPLES / "supply_chain", state_dir=tmp_path_factory.mktemp("sc"))


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    return catalog.open_mesh(SAMPLES / "banking", state_dir=tmp_path_factory.mktemp("bank"))


def test_an_abbreviation_finds_the_products_linking_the_term_first(supply):
    found = supply.search("OTIF", role="analyst", user="a@supplyco.example")
    assert found.ids[:2] == ["planning.carrier_performance", "logistics.carriers"]  # about OTIF, then a column
    assert found.hits[0].snippet_field in ("terms", "description")


def test_a_synonym_finds_the_product_whose_text_never_says_it(supply):
    found = supply.search("sensor reading", role="analyst", user="a@supplyco.example")
    assert found.ids[0] == "iot.telemetry"
    assert "planning.shipment_tracking" in found.ids  # linked on its temperature column only


def test_the_term_facet_counts_and_filters(supply):
    found = supply.search("stock", role="analyst", user="a@supplyco.example")
    facet = dict(found.facets["term"])
    assert facet["Reorder point"] == 3
    filtered = supply.search("", term="Reorder point", role="analyst", user="a@supplyco.example")
    assert set(filtered.ids) == {"inventory.stock_levels", "planning.digital_twin_state", "planning.stockout_risk"}


def test_a_locked_product_is_found_by_its_own_term_never_by_a_column_term(bank):
    viewer = bank.policy("analyst", "a@bank.example")
    assert "risk.customer_exposure" in viewer.locked and "risk.credit_scores" in viewer.allowed
    by_product_term = bank.search("EAD", role="analyst", user="a@bank.example")
    assert by_product_term.ids == ["risk.customer_exposure"] and by_product_term.hits[0].locked
    by_column_term = bank.search("PD", role="analyst", user="a@bank.example")
    assert by_column_term.ids[0] == "risk.credit_scores" and "risk.customer_exposure" not in by_column_term.ids
    as_steward = bank.search("PD")
    assert set(as_steward.ids[:2]) == {"risk.customer_exposure", "risk.credit_scores"}

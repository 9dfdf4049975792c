"""The Glossary page through AppTest: terms with definitions, a term's uses and history, proposals decided."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from apptest import open_app, page_links, plain

import catalog

REPO = Path(__file__).resolve().parents[2]
DANA = "dana.kowalski@bank.example"


@pytest.fixture(scope="module")
def banking(tmp_path_factory):
    dest = tmp_path_factory.mktemp("glossary") / "banking"
    shutil.copytree(REPO / "sample_data" / "banking", dest, ignore=shutil.ignore_patterns(".meshwork"))
    return dest


def test_the_page_lists_every_term_with_its_definition(banking):
    at = open_app(banking, "views/glossary.py")
    assert not at.exception
    assert at.title[0].value == "Glossary"
    table = at.dataframe[0].value
    assert "Probability of default" in table["name"].to_list()
    row = table[table["name"] == "Exposure"].iloc[0]
    assert row["abbreviations"] == "EAD" and row["definition"].startswith("What the bank stands to lose")


def test_a_term_link_shows_where_it_is_used_and_its_history(banking):
    at = open_app(banking, "views/glossary.py", {"term": "probability_of_default"})
    assert not at.exception
    assert at.subheader[0].value == "Probability of default"
    text = plain(" ".join(m.value for m in at.markdown))
    assert "Abbreviations:** PD" in text and "Used in" in text
    targets = {link["product"] for link in page_links(at) if "product" in link}
    assert "risk.credit_scores" in targets


def test_the_steward_approves_a_pending_proposal_on_the_page(banking):
    mesh = catalog.open_mesh(banking)
    mesh.glossary.propose("ana.silva@bank.example", {
        "name": "Loss given default", "definition": "The share of an exposure lost at default.",
        "abbreviations": ["LGD"], "steward": DANA, "status": "approved"})
    mesh.close()
    at = open_app(banking, "views/glossary.py", user=DANA)
    assert any("Pending proposals (1)" in s.value for s in at.subheader)
    at.button(key="approve_1").click().run()
    assert not at.exception
    assert any("Approved: loss_given_default" in s.value for s in at.success)
    assert "loss_given_default" in (banking / "glossary" / "banking.yaml").read_text()


def test_the_product_page_shows_each_columns_terms_and_ports(banking):
    at = open_app(banking, "views/product.py", {"product": "risk.credit_scores", "tab": "Terms & ports"})
    assert not at.exception
    terms = next(d.value for d in at.dataframe if "terms" in d.value.columns)
    assert terms[terms["column"] == "probability_of_default"]["terms"].to_list() == ["Probability of default"]
    ports = next(d.value for d in at.dataframe if "port" in d.value.columns)
    assert ports["port"].to_list() == ["sql"] and ports["kind"].to_list() == ["sql_view"]


def test_a_proposal_that_makes_related_terms_a_cycle_is_refused_on_the_page_and_nothing_is_filed(banking):
    before = catalog.open_mesh(banking).glossary.proposals().height
    at = open_app(banking, "views/glossary.py", user="ana.silva@bank.example")
    inputs = {t.label: t for t in at.text_input}
    inputs["Name"].set_value("Customer")
    next(t for t in at.text_area if t.label == "Definition").set_value("Anyone who holds a product with the bank.")
    at.multiselect(key="propose_related").set_value(["active_customer"])  # active_customer relates to customer
    inputs["Steward (e-mail)"].set_value("farah.haddad@bank.example")
    next(b for b in at.button if b.label == "Propose").click()
    at.run()
    assert not at.exception
    assert any("would make related terms a cycle" in plain(e.value) for e in at.error), [e.value for e in at.error]
    assert catalog.open_mesh(banking).glossary.proposals().height == before

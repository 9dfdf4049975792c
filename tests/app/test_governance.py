"""The Governance page through Streamlit's AppTest: matrix, violations with fixes, PII inventory, access, audit."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from apptest import open_app, plain

from minimesh import write



def open_governance(mesh: Path, tab: str | None = None, **state) -> AppTest:
    """The page with `tab` open (tabs are lazy: only the open one is drawn)."""
    return open_app(mesh, "views/governance.py", params={"tab": tab}, timeout=60, **state)


def tab(at: AppTest, label: str):
    return next(t for t in at.tabs if t.label == label)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_governance_page_shows_violations_with_fixes_and_the_pii_inventory(sample_copy):
    root = sample_copy("banking")
    at = open_governance(root)
    assert not at.exception, at.exception
    assert at.title[0].value == "Governance"
    assert [t.label for t in at.tabs][:2] == ["Domain × policy", "Violations"]
    assert at.metric[0].value == "8" and "7 global" in at.metric[0].help
    assert tab(at, "Domain × policy").get("vega_lite_chart") and not tab(at, "Violations").children

    at = open_governance(root, tab="Violations")
    violations = tab(at, "Violations").dataframe[0].value
    assert "./product?mesh=banking&role=analyst&product=marketing.campaign_responses" in set(violations["product_id"])
    assert all(fix for fix in violations["fix"])
    assert metric(at, "Violations") == str(len(violations))

    at = open_governance(root, tab="PII inventory")
    per_product = tab(at, "PII inventory").dataframe[0].value
    customers = per_product[per_product["product_id"] == "retail.customers"].iloc[0]
    assert "email" in customers["categories"] and "steward" in customers["unmasked_roles"]
    assert any(b.label.startswith("Download the PII inventory") for b in at.get("download_button"))
    assert any(s.value == "Audit log" for s in open_governance(root, tab="Audit log").subheader)


def test_access_rules_tab_follows_the_chosen_role_and_a_fixed_descriptor_clears_a_violation(minimesh):
    write(minimesh / "mesh.yaml", """
        name: mini
        roles:
          risk_officer: {description: sees restricted risk data}
        policies:
          - {id: sla, rule: has_freshness_sla, severity: error}
    """)
    at = open_governance(minimesh, tab="Access rules", role="steward")  # the steward counts every product
    assert not at.exception, at.exception
    access = tab(at, "Access rules")
    access.selectbox(key="gov_role").set_value("analyst")
    at.run()
    rules = tab(at, "Access rules").dataframe[0].value
    limits = rules[rules["product_id"] == "risk.limits"].iloc[0]
    assert not limits["visible"] and "restricted to" in limits["rule"]
    assert metric(at, "Violations") == "5"
    customers = minimesh / "retail/products/customers.yaml"
    customers.write_text(customers.read_text() + "sla: {freshness_hours: 24}\n")
    at.run()
    assert metric(at, "Violations") == "4"


def test_unknown_policy_rule_is_a_warning_on_the_page(minimesh):
    write(minimesh / "mesh.yaml", "name: mini\npolicies:\n  - {id: typo, rule: has_ownr}\n")
    at = open_governance(minimesh)
    assert not at.exception
    assert any("unknown rule 'has_ownr'" in plain(w.value) for w in at.warning)


def test_data_contracts_tab_offers_the_odcs_document_of_a_product(minimesh):
    analyst = open_governance(minimesh, tab="Data contracts")
    assert "risk.limits" not in tab(analyst, "Data contracts").selectbox(key="gov_contract_product").options, \
        "a restricted product's contract (its columns) only for those who may query it"
    at = open_governance(minimesh, tab="Data contracts", role="steward")
    contracts_tab = tab(at, "Data contracts")
    contracts_tab.selectbox(key="gov_contract_product").set_value("risk.limits")
    at.run()
    code = tab(at, "Data contracts").code[0].value
    assert "apiVersion: v3.1.0" in code and "id: risk-limits" in code
    assert any(b.label.startswith("Download the ODCS contract") for b in at.get("download_button"))

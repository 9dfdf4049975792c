"""Policies as code: each rule on a compliant and a violating descriptor, federated scopes, PII inventory."""

from __future__ import annotations

from pathlib import Path

import pytest

import catalog
from catalog.governance import policies as governance
from catalog.descriptors.model import Policy, ProductDescriptor
from minimesh import write
from tests.grants import granted

CTX = governance.RuleContext(roles=frozenset({"analyst", "steward", "risk_officer"}), where="d/products/p.yaml")


def descriptor(**fields) -> ProductDescriptor:
    base = {"name": "customers", "source": {"kind": "sql", "sql": "SELECT 1"}}
    return ProductDescriptor.model_validate({**base, **fields})


GOOD = descriptor(
    owner="ana@bank.example", description="Every customer.",
    columns=[{"name": "customer_id", "description": "key"},
             {"name": "email", "pii": "email", "description": "contact"}],
    quality=[{"check": "not_null", "column": "customer_id"}, {"check": "unique", "column": "customer_id"}],
    sla={"freshness_hours": 24}, access={"restricted": True, "roles": ["steward"]},
)

CASES = [
    ("has_owner", {}, descriptor(owner=""), "no owner"),
    ("has_owner", {}, descriptor(owner="retail team"), "not an e-mail"),
    ("has_description", {}, descriptor(description=""), "no description"),
    ("has_description", {}, descriptor(description="x", columns=[{"name": "a"}]), "undescribed: a"),
    ("pii_classified", {"column_pattern": "(?i)email|phone"}, descriptor(columns=[{"name": "home_phone"}]),
     "not classified: home_phone"),
    ("pii_classified", {}, descriptor(columns=[{"name": "first_name"}]), "not classified: first_name"),
    ("has_quality_checks", {"min": 3}, GOOD, "2 quality check(s), at least 3"),
    ("has_quality_checks", {}, descriptor(), "0 quality check(s)"),
    ("has_freshness_sla", {}, descriptor(), "no freshness SLA"),
    ("has_freshness_sla", {"max_hours": 12}, GOOD, "exceeds the 12 hours"),
    ("naming_convention", {"pattern": "^[a-z]{2,5}$"}, GOOD, "does not match"),
    ("naming_convention", {"column_pattern": "^[a-z_]+$"}, descriptor(columns=[{"name": "Bad"}]), "Bad"),
    ("restricted_names_roles", {}, descriptor(access={"restricted": True}), "no role is named"),
    ("restricted_names_roles", {}, descriptor(access={"restricted": True, "roles": ["ghost"]}), "ghost"),
]


@pytest.mark.parametrize("rule, params, bad, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_rule_flags_the_violation_with_a_fix(rule, params, bad, expected):
    verdict = governance.RULES[rule](bad, params, CTX)
    assert not verdict.passed
    assert expected in verdict.message
    assert verdict.fix and "d/products/p.yaml" in verdict.fix or rule == "naming_convention"


@pytest.mark.parametrize("rule", sorted(governance.RULES))
def test_each_rule_passes_a_compliant_descriptor(rule):
    params = {"pattern": "^[a-z_]+$"} if rule == "naming_convention" else {}
    verdict = governance.RULES[rule](GOOD, params, CTX)
    assert verdict.passed, verdict.message
    assert verdict.fix == ""


def test_unrestricted_product_passes_restricted_roles_rule():
    assert governance.RULES["restricted_names_roles"](descriptor(), {}, CTX).passed


def test_compliance_frame_has_the_contract_columns_and_a_row_per_product_and_policy(minimesh: Path):
    mesh = catalog.open_mesh(minimesh)
    assert mesh.compliance().is_empty()  # the mini mesh declares no policies
    write(minimesh / "mesh.yaml", """
        name: mini
        roles:
          risk_officer: {description: sees restricted risk data}
        policies:
          - {id: owner, rule: has_owner}
          - {id: checks, rule: has_quality_checks, params: {min: 1}}
    """)
    write(minimesh / "risk/domain.yaml", """
        name: risk
        owner: risk-team@bank.example
        policies:
          - {id: risk-sla, rule: has_freshness_sla, severity: error}
    """)
    mesh = catalog.open_mesh(minimesh)
    frame = mesh.compliance()
    assert frame.columns[:7] == ["domain", "product_id", "policy", "scope", "passed", "message", "fix"]
    assert frame.height == 2 * 5 + 3  # two global policies on five products, one risk policy on three
    risk_sla = frame.filter(frame["policy"] == "risk-sla")
    assert set(risk_sla["scope"]) == {"domain"} and set(risk_sla["domain"]) == {"risk"}
    assert not any(risk_sla["passed"])
    assert "risk/products/" in risk_sla["fix"][0]
    checks = {r["product_id"]: r["passed"] for r in frame.filter(frame["policy"] == "checks").iter_rows(named=True)}
    assert checks["retail.customers"] and not checks["retail.branches"]
    assert mesh.compliance(domain="retail")["domain"].unique().to_list() == ["retail"]


def test_unknown_rule_and_bad_pattern_are_reported_not_raised(minimesh: Path):
    write(minimesh / "mesh.yaml", """
        name: mini
        policies:
          - {id: typo, rule: has_ownr}
          - {id: names, rule: naming_convention, params: {pattern: "([a-z"}}
    """)
    mesh = catalog.open_mesh(minimesh)
    issues = governance.policy_issues(mesh)
    assert any("unknown rule 'has_ownr'" in i for i in issues)
    assert any("'names'" in i and "regular expression" in i for i in issues)
    frame = mesh.compliance()
    assert set(frame["policy"]) == {"names"}
    assert not any(frame["passed"]) and "cannot be evaluated" in frame["message"][0]


def test_sample_meshes_declare_only_known_rules_and_flag_their_planted_violations():
    mesh = catalog.open_mesh(Path(__file__).resolve().parents[2] / "sample_data" / "banking")
    assert governance.policy_issues(mesh) == []
    failing = mesh.compliance().filter(~governance.pl.col("passed"))
    assert "marketing.campaign_responses" in set(failing["product_id"])
    grid = governance.matrix(mesh.compliance())
    assert set(grid.columns) >= {"domain", "policy", "passing_pct"}
    assert grid["passing_pct"].min() < 100


def test_pii_inventory_names_categories_and_who_sees_them_unmasked(minimesh: Path):
    mesh = catalog.open_mesh(minimesh)
    inventory = mesh.pii_inventory()
    emails = inventory.filter((inventory["product_id"] == "retail.customers") & (inventory["column"] == "email"))
    assert emails["category"][0] == "email"
    assert emails["unmasked_roles"][0] == "steward"
    limits = inventory.filter(inventory["product_id"] == "risk.limits")
    assert limits["restricted"][0] and limits["unmasked_roles"][0] == "steward"
    granted(mesh, "bo@bank.example", "retail.customers", "fraud case 12", "ana.silva@bank.example", 3, kind="pii")
    inventory = mesh.pii_inventory()
    assert "bo@bank.example" in inventory.filter(inventory["product_id"] == "retail.customers")["unmasked_users"][0]
    by_category = governance.pii_by_category(inventory)
    assert by_category.filter(by_category["category"] == "identifier")["products"][0] == 4


def test_access_rules_say_per_role_what_is_visible_and_masked(minimesh: Path):
    rules = catalog.open_mesh(minimesh).access_rules()
    row = {(r["role"], r["product_id"]): r for r in rules.iter_rows(named=True)}
    assert not row[("analyst", "risk.limits")]["visible"]
    assert "restricted to steward, risk_officer" in row[("analyst", "risk.limits")]["rule"]
    assert row[("risk_officer", "risk.limits")]["visible"] and not row[("risk_officer", "risk.limits")]["pii_unmasked"]
    assert row[("steward", "retail.customers")]["pii_unmasked"]
    assert "masked" in row[("analyst", "retail.customers")]["rule"]
    assert row[("analyst", "retail.branches")]["rule"] == "visible; no personal data"


def test_check_descriptor_evaluates_a_draft_before_it_exists(sample_copy):
    mesh = catalog.open_mesh(sample_copy("banking"))
    draft = descriptor(name="new_thing", owner="x@bank.example", description="d",
                       columns=[{"name": "email", "description": "e"}])
    rows = governance.check_descriptor(mesh, "privacy", draft)
    failing = set(rows.filter(~rows["passed"])["policy"])
    assert {"pii-classified", "quality-checks", "privacy-two-checks", "freshness-sla"} <= failing
    assert "privacy/products/new_thing.yaml" in rows.filter(rows["policy"] == "pii-classified")["fix"][0]
    assert Policy(id="x", rule="has_owner").severity == "error"


def test_pii_inventory_names_the_people_mesh_yaml_gives_unmasking_roles(minimesh: Path):
    write(minimesh / "mesh.yaml", """
        name: mini
        identity: {mode: enforced}
        roles:
          risk_officer: {description: sees restricted risk data}
        users:
          ana.silva@bank.example: {groups: [stewards]}
          rui.costa@bank.example: {roles: [risk_officer]}
          bo@bank.example: {}
        groups:
          stewards: {roles: [steward]}
    """)
    mesh = catalog.open_mesh(minimesh)
    assert governance.role_holders(mesh) == {"steward": ["ana.silva@bank.example"],
                                             "risk_officer": ["rui.costa@bank.example"]}
    inventory = mesh.pii_inventory()
    assert set(inventory["unmasked_people"]) == {"ana.silva@bank.example"}


def test_policies_frame_lists_global_and_domain_policies_where_they_are_written(sample_copy):
    frame = governance.policies_frame(catalog.open_mesh(sample_copy("banking")))
    assert frame.filter(frame["scope"] == "global").height == 7
    privacy = frame.filter(frame["where"] == "privacy/domain.yaml").row(0, named=True)
    assert privacy["rule"] == "has_quality_checks" and privacy["params"] == "min=2"


def test_derived_product_must_keep_the_restrictions_of_what_it_reads(minimesh: Path):
    ctx = governance.RuleContext(roles=CTX.roles, where="d/products/p.yaml", upstream_roles=frozenset({"steward"}))
    rule = governance.RULES["derived_keeps_restrictions"]
    assert not rule(descriptor(), {}, ctx).passed
    assert "roles among: steward" in rule(descriptor(), {}, ctx).fix
    assert not rule(descriptor(access={"restricted": True, "roles": ["steward", "analyst"]}), {}, ctx).passed
    assert rule(descriptor(access={"restricted": True, "roles": ["steward"]}), {}, ctx).passed
    write(minimesh / "mesh.yaml", """
        name: mini
        roles:
          risk_officer: {description: sees restricted risk data}
        policies:
          - {id: derived, rule: derived_keeps_restrictions}
    """)
    write(minimesh / "risk/products/limit_view.yaml", """
        name: limit_view
        owner: rui.costa@bank.example
        source: {kind: sql, sql: "SELECT customer_id, credit_limit FROM risk.limits"}
    """)
    frame = catalog.open_mesh(minimesh).compliance()
    verdicts = {r["product_id"]: r["passed"] for r in frame.iter_rows(named=True)}
    assert verdicts["risk.limit_view"] is False and verdicts["risk.customer_risk"] is True

"""Check results reveal nothing the viewer could not compute: sensitive checks are hidden from viewers who
see their data masked, example rows come from the viewer's own view, references into restricted products
are sensitive."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import catalog
from catalog.scorecards.scorecard import latest_checks
from minimesh import build_minimesh, write
from tests.query.test_gate import RAW_EMAILS, RAW_NAMES, RAW_SSNS

NOW = datetime(2026, 12, 1, 12, 0)
RAW = RAW_EMAILS | RAW_NAMES | RAW_SSNS | {"C1", "C2", "C3"}

ORACLE_CHECKS = """
quality:
  - {check: not_null, column: email}
  - {check: not_null, column: age}
  - {check: expression, expression: "left(email, 1) <> 'a'", name: spells the first letter}
  - {check: regex, column: email, pattern: '^b', name: email starts with b}
  - {check: accepted_values, column: full_name, values: [Ana Silva], name: name is Ana}
  - {check: range, column: ssn, max: '5', name: ssn below 5}
  - {check: unique, columns: [customer_id], name: ids unique}
  - {check: unique, columns: [email], name: emails unique}
  - {check: range, column: age, min: 30, name: adults over 30}
  - {check: references, column: customer_id, product: risk.limits, name: has a limit}
  - {check: references, column: customer_id, product: risk.scores, name: has a score}
"""


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    root = build_minimesh(tmp_path / "mini")
    customers = root / "retail/products/customers.yaml"
    text = customers.read_text().split("quality:")[0]
    customers.write_text(text + ORACLE_CHECKS.lstrip())
    return root


def _by_name(report) -> dict:
    return {c.name: c for c in report.checks}


def test_sensitive_checks_are_those_reading_pii_or_a_restricted_product(mini):
    mesh = catalog.open_mesh(mini)
    assert set(mesh.sensitivity.checks("retail.customers")) == {
        "spells the first letter", "email starts with b", "name is Ana", "ssn below 5", "emails unique",
        "has a limit"}
    # exact under masking: NULLs stay NULL, tokens keep equality, non-PII columns are not masked
    assert not {"email not null", "ids unique", "adults over 30", "has a score"} & set(
        mesh.sensitivity.checks(mesh.products["retail.customers"]))


def test_the_check_count_oracle_is_closed_for_the_analyst(mini, tmp_path):
    mesh = catalog.open_mesh(mini, state_dir=tmp_path / "state")
    steward = _by_name(mesh.checker.run("retail.customers", role="steward", now=NOW))
    analyst = _by_name(mesh.checker.run("retail.customers", role="analyst", now=NOW))
    assert steward["spells the first letter"].failing == 1  # the raw truth: one e-mail starts with 'a'
    for name in mesh.sensitivity.checks("retail.customers"):
        shown = analyst[name]
        assert shown.hidden and shown.failing is None and shown.examples == [] and shown.observed is None
        assert "hidden" in shown.message and str(steward[name].failing) not in shown.message.split("hidden")[0]
    for name in ("email not null", "adults over 30", "ids unique"):
        assert analyst[name].failing == steward[name].failing and not analyst[name].hidden
    # the stored run is read back redacted the same way
    stored = {r["name"]: r for r in latest_checks(mesh.evidence(), "retail.customers", policy=mesh.policy("analyst"))}
    assert stored["spells the first letter"]["failing"] is None and stored["spells the first letter"]["hidden"]
    assert stored["adults over 30"]["failing"] == 1
    officer = {r["name"]: r for r in latest_checks(mesh.evidence(), "retail.customers", policy=mesh.policy("steward"))}
    assert officer["spells the first letter"]["failing"] == 1


def test_example_rows_come_from_the_viewers_masked_view(mini, tmp_path):
    mesh = catalog.open_mesh(mini, state_dir=tmp_path / "state")
    analyst = _by_name(mesh.checker.run("retail.customers", role="analyst", now=NOW))
    rows = analyst["adults over 30"].examples + analyst["email not null"].examples
    assert rows, "failing non-sensitive checks show example rows"
    text = " ".join(str(v) for row in rows for v in row.values())
    for raw in RAW:
        assert raw not in text.replace("tok_", "")
    steward = _by_name(mesh.checker.run("retail.customers", role="steward", now=NOW, reuse=False))
    assert {r["full_name"] for r in steward["adults over 30"].examples} == {"Cy Diaz"}
    assert {r["full_name"] for r in analyst["adults over 30"].examples} == {"C. D."}
    stored = {r["name"]: r for r in latest_checks(mesh.evidence(), "retail.customers", policy=mesh.policy("steward"))}
    stored_text = " ".join(str(v) for r in stored.values() for row in r["examples"] for v in row.values())
    for raw in RAW:
        assert raw not in stored_text.replace("tok_", ""), "stored example rows are masked"


def test_checks_of_a_derived_product_that_reads_pii_are_sensitive(mini, tmp_path):
    write(mini / "risk/products/by_letter.yaml", """
        name: by_letter
        description: A derived product whose rows depend on raw e-mails.
        owner: rui.costa@bank.example
        source:
          kind: sql
          sql: SELECT age FROM retail.customers WHERE email LIKE 'a%'
        columns:
          - {name: age, type: INTEGER}
        quality:
          - {check: row_count, min: 1, name: has rows}
          - {check: not_null, column: age, name: age set}
    """)
    mesh = catalog.open_mesh(mini, state_dir=tmp_path / "state")
    assert set(mesh.sensitivity.checks("risk.by_letter")) == {"has rows", "age set"}
    analyst = _by_name(mesh.checker.run("risk.by_letter", role="analyst", now=NOW))
    assert all(c.hidden and c.failing is None for c in analyst.values() if not c.kind.startswith("schema"))
    # the schema checks read no value (only which columns and types the data has): shown, never hidden
    assert [c.status for c in analyst.values() if c.kind.startswith("schema")] == ["pass", "pass"]
    # the analyst's own view of it is computed over masked e-mails: empty, as the check would not tell
    assert mesh.session("analyst").sql("SELECT count(*) AS n FROM risk.by_letter")["n"][0] == 0
    assert mesh.session("steward").sql("SELECT count(*) AS n FROM risk.by_letter")["n"][0] == 1


def test_a_renamed_pii_column_in_a_derived_product_is_still_pii_for_checks(mini):
    write(mini / "risk/products/renamed.yaml", """
        name: renamed
        description: E-mails under another name, not declared PII.
        owner: rui.costa@bank.example
        source:
          kind: sql
          sql: SELECT c.customer_id, c.age, s.score FROM retail.customers c JOIN risk.scores s USING (customer_id)
        columns:
          - {name: customer_id, type: VARCHAR}
          - {name: age, type: INTEGER}
          - {name: score, type: INTEGER}
        quality:
          - {check: range, column: score, min: 600, name: good scores}
          - {check: regex, column: customer_id, pattern: '^C1$', name: is C1}
    """)
    mesh = catalog.open_mesh(mini)
    assert mesh.sensitivity.checks("risk.renamed") == ["is C1"]


def test_a_candidate_derived_product_not_yet_loaded_is_judged_by_its_sql(mini):
    from catalog.descriptors.model import DataProduct, ProductDescriptor

    mesh = catalog.open_mesh(mini)
    descriptor = ProductDescriptor.model_validate({
        "name": "candidate", "owner": "rui.costa@bank.example",
        "source": {"kind": "sql", "sql": "SELECT age FROM retail.customers WHERE email LIKE 'b%'"},
        "columns": [{"name": "age", "type": "INTEGER"}],
        "quality": [{"check": "row_count", "min": 1, "name": "has rows"}]})
    probe = DataProduct(id="risk.candidate", domain="risk", descriptor=descriptor,
                        path=mini / "risk/products/candidate.yaml")
    assert mesh.sensitivity.checks(probe) == ["has rows"]

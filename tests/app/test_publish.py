"""The Publish page through Streamlit's AppTest: draft from SQL over products, review, edit, publish, refusals.

AppTest cannot drive a file upload; tests/browser/test_publish.py uploads a CSV through Chromium.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from apptest import open_app

import catalog
from minimesh import build_minimesh, write

APP = str(Path(__file__).resolve().parents[2] / "app" / "main.py")
SQL = "SELECT c.customer_id, c.email, s.score FROM retail.customers c JOIN risk.scores s USING (customer_id)"


STEWARD_USERS = "users:\n  ana.silva@bank.example: {roles: [steward]}\n"


@pytest.fixture(autouse=True)
def _user(monkeypatch):
    monkeypatch.setenv("MESHWORK_USER", "ana.silva@bank.example")


@pytest.fixture
def minimesh(tmp_path):
    """The mini mesh where Ana is a steward, so she may publish anywhere (the refusals are tested below)."""
    root = build_minimesh(tmp_path / "mini")
    with open(root / "mesh.yaml", "a") as handle:
        handle.write(STEWARD_USERS)
    return root


def open_publish(mesh: Path) -> AppTest:
    return open_app(mesh, "views/publish.py", timeout=60)


def fill(at: AppTest, source: str = "sql", **fields) -> AppTest:
    at.radio(key="pub_source").set_value(source)
    at.run()
    for key, value in fields.items():
        widget = at.selectbox(key=key) if key == "pub_domain" else (
            at.text_area(key=key) if key in ("pub_sql", "pub_description") else at.text_input(key=key))
        widget.set_value(value)
    next(b for b in at.button if b.label == "Draft the product").click()
    return at.run()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_sql_draft_is_profiled_checked_and_published_into_the_domain(minimesh):
    at = open_publish(minimesh)
    assert not at.exception, at.exception
    at = fill(at, pub_domain="risk", pub_name="contact_scores", pub_sql=SQL, pub_description="Scores with contacts")
    assert not at.exception, at.exception
    assert at.subheader[0].value == "Draft: `risk.contact_scores`"
    yaml_text = at.text_area(key="pub_yaml").value
    # the SQL reads an e-mail, so its row count is a count over personal data: only a steward adds that check
    assert "pii: email" in yaml_text and "check: row_count" not in yaml_text
    assert any("left out the suggested check" in c.value for c in at.caption)
    assert any("inherit" in c.value or "reads retail.customers" in c.value for c in at.caption)
    assert at.text_input(key="pub_owner").value == "ana.silva@bank.example"
    button(at, "Publish").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Published **risk.contact_scores**" in s.value for s in at.success)
    mesh = catalog.open_mesh(minimesh)
    assert mesh.products["risk.contact_scores"].owner == "ana.silva@bank.example"
    assert not mesh.products["risk.contact_scores"].broken
    assert "risk.contact_scores" in mesh.lineage().successors("retail.customers")
    # the app's cached mesh follows the new descriptor at once: the preview queries the product
    assert at.dataframe[-1].value.shape[0] == 3


def test_blocking_policy_disables_publish_until_the_yaml_is_fixed(minimesh):
    write(minimesh / "mesh.yaml", """
        name: mini
        policies:
          - {id: sla, rule: has_freshness_sla, severity: error}
        users:
          ana.silva@bank.example: {roles: [steward]}
    """)
    at = fill(open_publish(minimesh), pub_domain="risk", pub_name="contact_scores", pub_sql=SQL)
    assert not at.exception, at.exception
    assert button(at, "Publish").disabled
    assert any("severity error" in e.value for e in at.error)
    at.text_area(key="pub_yaml").set_value(at.text_area(key="pub_yaml").value + "sla: {freshness_hours: 24}\n")
    at.run()
    assert button(at, "Publish").disabled  # edits not applied yet
    button(at, "Apply my edits").click()
    at.run()
    assert not at.exception, at.exception
    assert not button(at, "Publish").disabled
    button(at, "Publish").click()
    at.run()
    assert catalog.open_mesh(minimesh).products["risk.contact_scores"].descriptor.sla.freshness_hours == 24


def test_bad_input_is_a_clear_error_and_nothing_is_written(minimesh):
    before = sorted(p for p in minimesh.rglob("*") if ".meshwork" not in p.parts)
    at = fill(open_publish(minimesh), pub_domain="risk", pub_name="../../etc", pub_sql=SQL)
    assert any("invalid product name '../../etc'" in e.value for e in at.error)
    at = fill(at, pub_domain="risk", pub_name="customer_risk", pub_sql=SQL)  # exists: needs a higher version
    button(at, "Publish").click()
    at.run()
    assert any("already exists" in e.value for e in at.error)
    at = fill(at, source="postgres", pub_domain="risk", pub_name="remote", pub_dsn="postgresql://nobody@127.0.0.1:1/x",
              pub_table="public.t")
    assert any("cannot reach PostgreSQL" in e.value for e in at.error)
    assert sorted(p for p in minimesh.rglob("*") if ".meshwork" not in p.parts) == before


def test_publishing_into_a_new_domain_creates_it(minimesh):
    at = fill(open_publish(minimesh), pub_domain="➕ new domain…", pub_new_domain="growth", pub_name="prime_customers",
              pub_description="Customers scoring above 600",
              pub_sql="SELECT customer_id, score FROM risk.customer_risk WHERE score > 600")
    assert not at.exception, at.exception
    assert any("creates the domain **growth**" in i.value for i in at.info)
    button(at, "Publish").click()
    at.run()
    mesh = catalog.open_mesh(minimesh)
    assert mesh.domains["growth"].owner == "ana.silva@bank.example"
    assert mesh.upstreams("growth.prime_customers") == {"risk.customer_risk"}


def test_an_odcs_contract_is_imported_from_the_page(minimesh):
    """AppTest cannot upload, so the contract draft is put where the form's draft goes; the page then reviews
    and publishes it like any other."""
    from catalog.interop import odcs as contracts

    mesh = catalog.open_mesh(minimesh)
    text = contracts.export_contract(mesh, "risk.customer_risk")
    draft = contracts.draft_from_contract(mesh, text, "risk.odcs.yaml", domain="marketing")
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["mesh_path"] = str(minimesh)
    at.session_state["pub_draft"] = draft
    at.session_state["pub_yaml"] = draft.yaml()
    at.switch_page("views/publish.py")
    at.run()
    assert not at.exception, at.exception
    assert at.subheader[0].value == "Draft: `marketing.customer_risk`"
    assert any("Imported from a contract" in i.value for i in at.info)
    button(at, "Publish").click()
    at.run()
    assert catalog.open_mesh(minimesh).upstreams("marketing.customer_risk") == {"retail.customers", "risk.scores"}


def test_a_published_restricted_product_is_not_previewed_to_a_role_that_cannot_see_it(minimesh):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["mesh_path"] = str(minimesh)
    at.session_state["role"] = "steward"
    at.switch_page("views/publish.py")
    at = fill(at.run(), pub_domain="risk", pub_name="limit_view",
              pub_sql="SELECT customer_id, credit_limit FROM risk.limits")
    assert not at.exception, at.exception
    assert any("restricted to the roles they all allow" in c.value for c in at.caption)
    button(at, "Publish").click()
    at.run()
    assert not at.exception, at.exception
    assert catalog.open_mesh(minimesh).products["risk.limit_view"].descriptor.access.roles == ["risk_officer",
                                                                                            "steward"]
    at.session_state["role"] = "analyst"
    at.run()
    assert not at.exception, at.exception
    assert any("Not queryable as role analyst" in c.value for c in at.caption)


def test_a_publisher_off_the_domain_team_is_refused_named_the_people_who_may_and_audited(minimesh, monkeypatch):
    monkeypatch.setenv("MESHWORK_USER", "bo@mail.example")
    before = sorted((p, p.read_bytes()) for p in minimesh.rglob("*") if p.is_file() and ".meshwork" not in p.parts)
    at = fill(open_publish(minimesh), pub_domain="risk", pub_name="contact_scores", pub_sql=SQL,
              pub_owner="bo@mail.example")
    assert not at.exception, at.exception
    assert any("You publish as **bo@mail.example**" in c.value for c in at.caption)
    button(at, "Publish").click()
    at.run()
    assert not at.exception, at.exception
    assert any("only risk-team@bank.example, the risk team, or a steward may publish a new product in risk"
               in e.value for e in at.error)
    after = sorted((p, p.read_bytes()) for p in minimesh.rglob("*") if p.is_file() and ".meshwork" not in p.parts)
    assert after == before
    audit = catalog.open_mesh(minimesh).access.audit(actor="bo@mail.example")
    assert audit.filter((audit["action"] == "product.publish") & (audit["outcome"] == "refused")).height == 1

"""The one visibility policy (catalog/access/policy.py): roles, restrictions, live grants, discovery."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import catalog
from catalog.errors import MeshError, UnknownProduct
from catalog.access.identity import default_role
from catalog.access.policy import LockedProduct, Viewers
from tests.grants import granted

EXPOSURE = "risk.customer_exposure"  # restricted to steward and risk_officer
ACCOUNTS = "retail.accounts"


@pytest.fixture
def banking(sample_copy):
    root = sample_copy("banking")
    mesh = catalog.open_mesh(root)
    yield mesh
    mesh.close()


def test_analyst_sees_restricted_product_locked_and_steward_open(banking):
    analyst, steward = banking.policy("analyst"), banking.policy("steward")
    assert analyst.is_locked(EXPOSURE) and not analyst.can_query(EXPOSURE) and analyst.is_listed(EXPOSURE)
    assert steward.can_query(EXPOSURE) and not steward.is_locked(EXPOSURE)
    assert analyst.can_query(ACCOUNTS) and not analyst.is_locked(ACCOUNTS)
    assert banking.visible_products("analyst") == sorted(analyst.visible)
    assert EXPOSURE not in banking.visible_products("analyst")


def test_no_viewer_keeps_the_stewards_meaning(banking):
    every = banking.policy()
    assert every.visible == frozenset(pid for pid, p in banking.products.items() if not p.broken)
    assert not every.locked and not every.hidden
    assert every.sees_pii("retail.customers")


def test_unknown_role_is_refused(banking):
    with pytest.raises(MeshError, match="unknown role"):
        banking.policy("root")


def test_pii_masked_for_analyst_unmasked_for_steward(banking):
    masked = [c.name for c in banking.policy("analyst").masked_columns("retail.customers")]
    assert masked and all(banking.product("retail.customers").column(c).pii for c in masked)
    assert banking.policy("steward").masked_columns("retail.customers") == []


def test_hidden_and_unknown_ids_give_the_same_refusal(sample_copy):
    root = sample_copy("banking")
    text = (root / "mesh.yaml").read_text()
    (root / "mesh.yaml").write_text(text + "discovery: hidden\n")
    mesh = catalog.open_mesh(root)
    policy = mesh.policy("analyst")
    assert policy.is_hidden(EXPOSURE) and not policy.is_listed(EXPOSURE)
    with pytest.raises(UnknownProduct) as hidden:
        mesh.product_for(EXPOSURE, policy)
    with pytest.raises(UnknownProduct) as unknown:
        mesh.product_for("risk.no_such_thing", policy)
    assert str(hidden.value).replace(EXPOSURE, "X") == str(unknown.value).replace("risk.no_such_thing", "X")
    assert policy.alias(EXPOSURE).startswith("restricted:")
    mesh.close()


def test_locked_card_shows_who_and_what_but_no_columns(banking):
    card = banking.product_for(EXPOSURE, banking.policy("analyst"))
    assert isinstance(card, LockedProduct)
    assert card.owner == banking.product(EXPOSURE).owner and card.title
    assert not hasattr(card, "columns")
    assert banking.product_for(EXPOSURE, banking.policy("steward")) is banking.product(EXPOSURE)


def test_a_grant_opens_the_product_and_lapses_at_expiry(banking):
    now = [datetime(2026, 12, 1, 12, tzinfo=timezone.utc)]
    banking.access.clock = lambda: now[0]
    owner = banking.product(EXPOSURE).owner
    granted(banking, "ana@example.com", EXPOSURE, "capital planning for Q1 review", owner, 1)
    assert banking.policy("analyst", "ana@example.com").can_query(EXPOSURE)
    assert banking.policy("analyst", "bob@example.com").is_locked(EXPOSURE)
    now[0] += timedelta(days=2)
    assert banking.policy("analyst", "ana@example.com").is_locked(EXPOSURE)


def _add_product(root, domain: str, name: str, body: str) -> None:
    (root / domain / "products" / f"{name}.yaml").write_text(f"name: {name}\nowner: eve@bank.example\n"
                                                               f"description: a second door\n{body}")


def test_a_product_over_a_restricted_products_source_is_restricted_too(sample_copy):
    root = sample_copy("banking")
    dsr = catalog.open_mesh(root).product("privacy.data_subject_requests")
    path = (dsr.path.parent.parent / dsr.source.path).resolve().relative_to((root / "retail").resolve().parent)
    _add_product(root, "retail", "copy_of_requests", f"source: {{kind: {dsr.kind}, path: ../{path}}}\n")
    mesh = catalog.open_mesh(root)
    assert "retail.copy_of_requests" in mesh.products and not mesh.products["retail.copy_of_requests"].broken
    analyst = mesh.policy("analyst")
    assert analyst.is_locked("retail.copy_of_requests") and not analyst.can_query("retail.copy_of_requests")
    assert mesh.policy("privacy_officer").can_query("retail.copy_of_requests")
    assert not mesh.can_see("analyst", mesh.product("retail.copy_of_requests"))


def test_a_product_reading_a_restricted_product_is_restricted_too(sample_copy):
    root = sample_copy("banking")
    _add_product(root, "marketing", "exposure_echo",
                 f"source: {{kind: sql, sql: 'SELECT customer_id, expected_loss FROM {EXPOSURE}'}}\n")
    mesh = catalog.open_mesh(root)
    assert mesh.upstreams("marketing.exposure_echo") == {EXPOSURE}
    assert mesh.policy("analyst").is_locked("marketing.exposure_echo")
    assert mesh.policy("risk_officer").can_query("marketing.exposure_echo")
    with pytest.raises(catalog.QueryRejected):
        mesh.session(role="analyst").sql("SELECT * FROM marketing.exposure_echo")


def test_a_broken_restricted_descriptor_keeps_its_restriction(sample_copy):
    root = sample_copy("banking")
    path = root / "risk" / "products" / "customer_exposure.yaml"
    path.write_text(path.read_text() + "\nnot_a_field: true\n")
    mesh = catalog.open_mesh(root)
    assert mesh.product(EXPOSURE).broken
    card = mesh.product_for(EXPOSURE, mesh.policy("analyst"))
    assert isinstance(card, LockedProduct)
    assert not any(c["id"] == EXPOSURE and c.get("columns") for c in mesh.summary("analyst").to_dicts())


def test_a_broken_product_is_refused_as_broken_not_as_restricted(sample_copy):
    root = sample_copy("banking")
    path = root / "retail" / "products" / "accounts.yaml"
    path.write_text(path.read_text() + "\nnot_a_field: true\n")
    exposure = root / "risk" / "products" / "customer_exposure.yaml"
    exposure.write_text(exposure.read_text() + "\nnot_a_field: true\n")
    mesh = catalog.open_mesh(root)
    for role in ("steward", "analyst"):
        with pytest.raises(MeshError) as refused:
            mesh.session(role=role).sql(f"SELECT * FROM {ACCOUNTS}")
        assert f"{ACCOUNTS} is broken" in str(refused.value) and "not_a_field" in str(refused.value)
    with pytest.raises(MeshError) as refused:  # broken and restricted: the analyst learns only that it is restricted
        mesh.session(role="analyst").sql(f"SELECT * FROM {EXPOSURE}")
    assert "restricted" in str(refused.value) and "not_a_field" not in str(refused.value)
    mesh.close()


def test_a_revoked_grant_lapses_at_once(banking):
    owner = banking.product(EXPOSURE).owner
    agreement = granted(banking, "ana@example.com", EXPOSURE, "capital planning for Q1 review", owner, 30)
    assert EXPOSURE in banking.visible_products("analyst", "ana@example.com")
    banking.agreements.revoke(agreement.id, owner, "project over")
    assert EXPOSURE not in banking.visible_products("analyst", "ana@example.com")
    assert banking.policy("analyst", "ana@example.com").is_locked(EXPOSURE)


def test_a_pii_grant_unmasks_only_its_product(banking):
    owner = banking.product("retail.customers").owner
    granted(banking, "ana@example.com", "retail.customers", "verify mailing addresses", owner, 3, kind="pii")
    policy = banking.policy("analyst", "ana@example.com")
    assert policy.sees_pii("retail.customers") and policy.masked_columns("retail.customers") == []
    assert policy.masked_columns("marketing.customer_360")


def test_enforced_mesh_refuses_a_role_the_user_does_not_hold(sample_copy):
    from typer.testing import CliRunner

    from catalog.cli import app as cli
    from catalog.errors import AccessDenied

    root = sample_copy("banking")
    (root / "mesh.yaml").write_text((root / "mesh.yaml").read_text()
                                    + "identity: {mode: enforced}\nusers:\n  rita@bank.example: {roles: [risk_officer]}\n")
    mesh = catalog.open_mesh(root)
    with pytest.raises(AccessDenied):
        mesh.policy("steward", "ana@bank.example")
    assert mesh.policy("risk_officer", "rita@bank.example").can_query(EXPOSURE)
    result = CliRunner().invoke(cli, ["search", str(root), "exposure", "--role", "steward", "--user",
                                      "ana@bank.example"])
    assert result.exit_code == 2 and "does not hold the role" in result.output
    default = CliRunner().invoke(cli, ["search", str(root), "credit exposure", "--user", "ana@bank.example",
                                       "--format", "json"])
    hits = {h["product_id"]: h for h in __import__("json").loads(default.stdout)["hits"]}
    assert hits[EXPOSURE]["locked"]  # the least-privileged role by default


def test_typo_correction_never_offers_a_word_only_a_locked_product_holds(banking):
    # "computed" appears only in risk.customer_exposure's column descriptions
    assert "computed" in banking.search("computd", role="steward").corrections.get("computd", [])
    analyst = banking.search("computd", role="analyst")
    assert "computed" not in analyst.corrections.get("computd", [])
    assert EXPOSURE not in analyst.ids


def test_viewers_build_policies_from_the_declared_mesh_and_keep_only_grants_that_change_something(banking):
    live = {("risk.customer_exposure", "access"), ("retail.accounts", "access"), ("retail.customers", "pii")}
    viewers = Viewers(banking.declared, lambda role, user: frozenset(live), cache=banking.cache)
    assert viewers.resolve(None, None) is None
    assert viewers.resolve(None, "ana@example.com").role == default_role(banking.declared)
    assert viewers.effective_grants("analyst", "ana@example.com") == frozenset(
        {("risk.customer_exposure", "access"), ("retail.customers", "pii")})  # accounts is open to analysts anyway
    assert viewers.effective_grants("steward", "ana@example.com") == frozenset()
    assert viewers.effective_grants("analyst", None) == frozenset()
    analyst = viewers.policy("analyst", "ana@example.com")
    assert analyst.can_query(EXPOSURE) and analyst.sees_pii("retail.customers")
    assert EXPOSURE in viewers.restrictions()[EXPOSURE] and not viewers.restrictions()[ACCOUNTS]

"""The one visibility policy (catalog/policy.py): roles, restrictions, live grants, discovery."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

import catalog
from catalog.errors import MeshError, UnknownProduct
from catalog.policy import LockedProduct

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
    request = banking.access.request("ana@example.com", EXPOSURE, "capital planning for Q1 review")
    banking.access.approve(request.id, owner, timedelta(days=1))
    assert banking.policy("analyst", "ana@example.com").can_query(EXPOSURE)
    assert banking.policy("analyst", "bob@example.com").is_locked(EXPOSURE)
    now[0] += timedelta(days=2)
    assert banking.policy("analyst", "ana@example.com").is_locked(EXPOSURE)

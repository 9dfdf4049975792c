"""The consuming domain's scorecard counts the active access agreements it holds (as the consumer, or through
its products), on products its viewer may list: an agreement on a product hidden from them is not counted."""

from __future__ import annotations

import catalog
from tests.access.test_identity import configure
from tests.lineage.test_agreement_edges import ANA, RUI, hide_limits


def held(mesh, role=None, user=None) -> dict[str, int]:
    return dict(mesh.scorecard(role=role, user=user).select("domain", "agreements_held").iter_rows())


def test_a_domain_holds_its_products_and_its_own_agreements_on_listed_products(minimesh):
    mesh = catalog.open_mesh(hide_limits(configure(minimesh)))
    assert held(mesh) == {"retail": 0, "risk": 0}
    desk = mesh.agreements
    by_product = desk.request(RUI, "retail.customers", "sql", "limits follow the customer's segment", 30,
                              consumer="product:risk.limits")
    desk.approve(by_product.id, ANA)
    by_domain = desk.request(RUI, "retail.branches", "sql", "branch network for the regional risk map", 30,
                             consumer="domain:risk")
    assert by_domain.status == "active"  # an unrestricted product without personal data: approved at once
    desk.request(RUI, "retail.customers", "sql", "a personal request, held by nobody's domain", 30, kind="pii")
    assert held(mesh) == {"retail": 0, "risk": 2}

    on_hidden = desk.request(ANA, "risk.limits", "sql", "retail credit offers need the limits", 30,
                             consumer="product:retail.customers")
    desk.approve(on_hidden.id, RUI)
    assert held(mesh, role="steward", user="ana.silva@bank.example")["retail"] == 1
    assert held(mesh, role="analyst", user="bo@bank.example") == {"retail": 0, "risk": 2}  # risk.limits unlisted
    desk.revoke(by_domain.id, RUI, "map finished")
    assert held(mesh)["risk"] == 1

"""Ports and agreements in lineage: each product node carries its output ports; a consuming product's active
agreement is an `agreement` edge from the provider (cross-domain when the domains differ) that appears when the
agreement begins and goes when it ends; a viewer who may not list the consumer sees only an anonymous node."""

from __future__ import annotations

import yaml

import catalog
from tests.access.test_identity import configure

ANA, RUI = "ana.silva@bank.example", "rui.costa@bank.example"  # owners of retail.*, of risk.*


def hide_limits(root):
    spec = yaml.safe_load((root / "mesh.yaml").read_text())
    spec["discovery"] = "hidden"  # restricted products are not listed at all to those who may not read them
    (root / "mesh.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


def test_a_consuming_products_agreement_is_a_cross_domain_edge_while_it_is_active(minimesh):
    mesh = catalog.open_mesh(hide_limits(configure(minimesh)))
    assert mesh.lineage().nodes["retail.customers"]["ports"] == [{"name": "sql", "kind": "sql_view",
                                                                  "approval": "owner"}]
    assert not mesh.lineage().has_edge("retail.customers", "risk.limits")
    made = mesh.agreements.request(RUI, "retail.customers", "sql", "limits follow the customer's segment", 30,
                                   consumer="product:risk.limits")
    assert not mesh.lineage().has_edge("retail.customers", "risk.limits")  # requested: no edge yet
    mesh.agreements.approve(made.id, ANA)
    edge = mesh.lineage().edges["retail.customers", "risk.limits"]
    assert (edge["kind"], edge["cross_domain"], edge["agreement"], edge["port"]) == ("agreement", True, made.id, "sql")
    assert mesh.lineage(level="domain").has_edge("domain:retail", "domain:risk")
    assert "risk.limits" in mesh.impact("retail.customers", columns=False).frame()["id"].to_list()

    analyst = mesh.lineage(role="analyst", user="bo@bank.example")  # may not list risk.limits
    assert "risk.limits" not in analyst
    hidden = [d for _, d, data in analyst.out_edges("retail.customers", data=True) if data.get("kind") == "agreement"]
    assert len(hidden) == 1 and analyst.nodes[hidden[0]]["kind"] == "restricted"
    assert "risk.limits" not in str(dict(analyst.nodes(data=True))) + str(list(analyst.edges(data=True)))

    mesh.agreements.revoke(made.id, ANA, "segment model retired")
    assert not mesh.lineage().has_edge("retail.customers", "risk.limits")


def test_an_agreement_beside_a_sql_read_names_itself_on_that_edge(minimesh):
    mesh = catalog.open_mesh(configure(minimesh))
    read = next((u, d) for u, d, data in mesh.lineage().edges(data=True)
                if data.get("cross_domain") and u == "retail.customers")
    made = mesh.agreements.request(RUI, read[0], "sql", "the risk view reads customers every night", 30,
                                   consumer=f"product:{read[1]}")
    mesh.agreements.approve(made.id, ANA)
    edge = mesh.lineage().edges[read]
    assert edge.get("kind") != "agreement" and edge["agreements"] == [made.id]

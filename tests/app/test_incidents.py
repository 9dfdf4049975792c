"""The Incidents page through Streamlit's AppTest: an owner sees and acknowledges their incident, an outsider
is refused with the reason (and nothing changes), and a restricted product's incidents stay out of sight."""

from __future__ import annotations

import pytest

import catalog
from apptest import open_app, plain
from incidentmesh import OUTSIDER, OWNER, build, write_orders


@pytest.fixture(autouse=True)
def _no_env_user(monkeypatch):
    monkeypatch.delenv("MESHWORK_USER", raising=False)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = build(tmp_path_factory.mktemp("incidents_view") / "shop")
    write_orders(root, null_emails=3)
    mesh = catalog.open_mesh(root)
    mesh.monitor_pass()
    mesh.close()
    return root


def _incident(root, product_id: str) -> dict:
    return catalog.open_mesh(root).incident_list(state=None, product_id=product_id).row(0, named=True)


def _act(at, incident: int, action: str):
    at.selectbox(key="inc_pick").set_value(incident)
    at.radio(key="inc_action").set_value(action)
    at.text_area(key="inc_note").input("looking into it")
    next(b for b in at.button if b.label == "Apply").click()
    return at.run()


def test_an_outsider_is_refused_with_the_reason_and_nothing_changes(shop):
    at = open_app(shop, "views/incidents.py", user=OUTSIDER)
    assert not at.exception
    shown = at.dataframe[0].value
    assert "shop.orders" in shown["product_id"].tolist()
    assert "hr.salaries" not in shown["product_id"].tolist()  # restricted: an analyst sees none of it
    incident = _incident(shop, "shop.orders")
    at = _act(at, incident["id"], "Acknowledge")
    assert any(f"{OUTSIDER} may not acknowledge incidents of shop.orders" in plain(e.value) for e in at.error)
    assert _incident(shop, "shop.orders")["state"] == "new"


def test_the_owner_acknowledges_and_the_history_shows_it(shop):
    at = open_app(shop, "views/incidents.py", user=OWNER)
    incident = _incident(shop, "shop.orders")
    at = _act(at, incident["id"], "Acknowledge")
    assert not at.exception and not at.error
    assert any("acknowledged by" in plain(s.value) for s in at.success)
    assert _incident(shop, "shop.orders")["state"] == "acknowledged"
    at.selectbox(key="inc_state").set_value("acknowledged")
    at = at.run()
    assert at.dataframe[0].value["id"].tolist() == [incident["id"]]

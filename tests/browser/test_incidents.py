"""The Incidents page in Chromium: the owner opens it, sees the open incident and its history, and acknowledges
it; the page is screenshotted (test-artifacts/screenshots/incidents.png)."""

from __future__ import annotations

import pytest

import catalog
from conftest import wait_for_app
from incidentmesh import OWNER, build, write_orders

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-incidents")]


def test_the_owner_acknowledges_an_incident_in_the_browser(tmp_path, app_server, page, screenshot):
    root = build(tmp_path / "shop")
    write_orders(root, null_emails=3)
    mesh = catalog.open_mesh(root)
    mesh.monitor_pass()
    incident = mesh.incident_list(product_id="shop.orders")["id"][0]
    server = app_server(root, env={"MESHWORK_USER": OWNER})
    page.goto(f"{server.url}/incidents")
    wait_for_app(page)
    page.get_by_text("Work on an incident").wait_for()
    page.get_by_text("Acknowledge", exact=True).click()
    page.get_by_role("button", name="Apply").click()
    wait_for_app(page)
    page.get_by_text(f"#{incident} acknowledged by {OWNER}").wait_for()
    screenshot(page, "incidents")
    assert catalog.open_mesh(root).incidents.get(incident)["state"] == "acknowledged"

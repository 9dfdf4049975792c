"""In Chromium, on a mesh in `enforced` identity mode: a user who holds only `analyst` cannot pick `steward` in
the sidebar, nor get it from `?role=steward` (the link falls back with a note, personal data stays masked).
One app server for the module."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests import harness
from conftest import AppServer, wait_for_app
from minimesh import build_minimesh

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-identity")]

ENFORCED = """
identity:
  mode: enforced
users:
  ana@bank.example: {roles: [analyst]}
  sam@bank.example: {roles: [steward]}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = build_minimesh(tmp_path_factory.mktemp("enforced") / "mini")
    (root / "mesh.yaml").write_text((root / "mesh.yaml").read_text() + ENFORCED)
    app = AppServer(root, env={"MESHWORK_USER": "ana@bank.example"})
    yield app
    app.stop()


def test_an_enforced_analyst_cannot_pick_steward_nor_get_it_by_link(server, page, screenshot):
    page.goto(f"{server.url}/workbench?role=steward&sql={quote('SELECT email FROM retail.customers ORDER BY age')}")
    wait_for_app(page)
    main, sidebar = page.get_by_test_id("stMain"), page.get_by_test_id("stSidebar")
    main.get_by_text("This link asks for a role you may not act as").wait_for()
    assert "role=analyst" in page.url
    assert "anyone may choose any role" not in sidebar.inner_text()
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Role").first.click()
    options = page.get_by_role("option")
    options.first.wait_for()
    assert [o.strip() for o in options.all_inner_texts()] == ["analyst"], "steward is not offered"
    page.keyboard.press("Escape")
    harness.run_cell(page)
    cells = page.locator("[data-testid='stDataFrame'] td[role='gridcell']")
    cells.filter(has_text="***@bank.example").first.wait_for(state="attached")
    assert cells.filter(has_text="ana@bank.example").count() == 0, "personal data stays masked"
    screenshot(page, "enforced-analyst-refused-steward")

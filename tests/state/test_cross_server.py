"""What one app server stores, the other shows at once, without a restart: two servers (app/serve.py) on two
ports over one PostgreSQL state and one mesh folder, as behind a load balancer. A usage event, a pinned tile, an
owner review and an incident action made through one server's pages are seen on the other's, and so is a
person's workbench history.

The sessions speak the app's websocket protocol (tests/state/appsession.py): a real app session per page visit,
without a browser, which adds nothing to what is asserted here (the grant journey in a browser is
tests/state/test_two_servers.py). The servers and the mesh are shared by the module; each test says what the
other server showed before and after.
"""

from __future__ import annotations

import os
import re

import pytest

import catalog
from conftest import AppServer
from incidentmesh import OWNER, build, write_orders
from tests.state.appsession import AppError, AppSession, Page, run_sessions
from tests.statebackends import fresh_schema

# one worker for the module (`make test` runs --dist loadgroup), so its pair of servers starts once
pytestmark = pytest.mark.xdist_group("cross-server")

COUNT = "SELECT count(*) AS n FROM shop.orders"


@pytest.fixture(scope="module")
def servers(tmp_path_factory, state_pg_database):
    """Two servers over one fresh PostgreSQL schema, both serving the shop mesh as its owner (the local user);
    the monitor has opened an incident on shop.orders (three orders without an email)."""
    url = fresh_schema(state_pg_database)
    root = build(tmp_path_factory.mktemp("cross") / "shop")
    write_orders(root, null_emails=3)
    previous = os.environ.get("MESHWORK_STATE_URL")
    os.environ["MESHWORK_STATE_URL"] = url
    try:
        mesh = catalog.open_mesh(root)
        mesh.monitor_pass()
        mesh.close()
    finally:
        if previous is None:
            os.environ.pop("MESHWORK_STATE_URL")
        else:
            os.environ["MESHWORK_STATE_URL"] = previous
    env = {"MESHWORK_STATE_URL": url, "MESHWORK_USER": OWNER}
    pair = [AppServer(root, env), AppServer(root, env)]
    yield pair
    for server in pair:
        server.stop()


def visit(server: AppServer, page: str, params: dict | None = None, then=None) -> Page:
    """A fresh session opens `page` on `server` (and does `then(session, page)` in it)."""

    async def go() -> Page:
        async with AppSession(server.url) as app:
            shown = await app.open(page, params)
            if then is not None:
                shown = await then(app, shown)
            assert shown.exceptions == [], shown.exceptions
            return shown

    return run_sessions(go())


def run_count(app: AppSession, page: Page):
    return app.submit_editor(page, COUNT)


def queries_on_home(server: AppServer) -> int:
    shown = [t for t in visit(server, "").texts() if re.fullmatch(r"[\d,]+ queries · \d+ users", t)]
    return int(shown[0].split()[0].replace(",", "")) if shown else 0


def test_a_usage_event_recorded_on_one_server_is_counted_on_the_other(servers):
    one, other = servers
    before = queries_on_home(other)
    answer = visit(one, "workbench", {"sql": COUNT}, then=run_count)
    assert answer.has_text("1 row") and answer.has_text("read shop.orders")
    assert queries_on_home(other) == before + 1


def test_a_tile_pinned_on_one_server_is_on_the_dashboard_page_of_the_other(servers):
    one, other = servers
    assert not visit(other, "dashboards").has_text("Order count")

    async def pin(app: AppSession, page: Page) -> Page:
        page = await app.submit_editor(page, COUNT)
        page = await app.act(page, {"Pin to dashboard": True})  # open the popover
        page = await app.act(page, {"Dashboard": "A new dashboard…"})
        return await app.act(page, {"Domain": "shop", "Dashboard title": "Order count", "Tile title": "Orders"},
                             click="Pin")

    pinned = visit(one, "workbench", {"sql": COUNT}, then=pin)
    assert pinned.has_text("Pinned to `shop.order_count`")
    boards = visit(other, "dashboards")
    assert boards.has_text("Order count") and boards.has_text("1 tiles")


def test_an_owner_review_recorded_on_one_server_is_the_baseline_on_the_other(servers):
    one, other = servers
    assert visit(other, "review").has_text("no earlier review was recorded")

    async def sign_off(app: AppSession, page: Page) -> Page:
        return await app.act(page, click="Mark as reviewed")

    done = visit(one, "review", then=sign_off)
    assert done.has_text("Changes since the last review on")
    assert visit(other, "review").has_text("Changes since the last review on")


def test_an_incident_acknowledged_on_one_server_is_acknowledged_on_the_other(servers):
    one, other = servers

    async def acknowledged(app: AppSession, page: Page) -> Page:
        return await app.act(page, {"State": "acknowledged"})

    with pytest.raises(AppError):  # nothing acknowledged yet: no incident to pick
        visit(other, "incidents", then=acknowledged).options("Incident")

    async def acknowledge(app: AppSession, page: Page) -> Page:
        [incident] = [o for o in page.options("Incident") if "shop.orders" in o]
        return await app.act(page, {"Incident": incident, "Action": "Acknowledge", "Note": "looking into it"},
                             click="Apply")

    done = visit(one, "incidents", then=acknowledge)
    assert done.has_text(f"acknowledged by {OWNER}")
    seen = visit(other, "incidents", then=acknowledged)
    assert any("shop.orders" in o for o in seen.options("Incident"))


def test_a_query_run_on_one_server_is_in_the_persons_history_on_the_other(servers):
    one, other = servers
    marked = "SELECT count(*) AS history_probe FROM shop.orders"
    assert not any("history_probe" in t for t in visit(other, "workbench").texts())

    async def run(app: AppSession, page: Page) -> Page:
        return await app.submit_editor(page, marked)

    visit(one, "workbench", {"sql": marked}, then=run)
    assert any("history_probe" in t and "1 row" in t for t in visit(other, "workbench").texts())

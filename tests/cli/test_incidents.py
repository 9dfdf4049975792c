"""`meshwork monitor --once`, `meshwork incidents` and `meshwork notifications` from the shell: exit codes and
plain messages, never a traceback."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from catalog.cli import app
from incidentmesh import OUTSIDER, OWNER, build, dead_port, write_orders

# One worker per module (`make test` runs --dist loadgroup): its tests follow one incident through the CLI, in order.
pytestmark = pytest.mark.xdist_group("incidents_cli")

runner = CliRunner()


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = build(tmp_path_factory.mktemp("cli_incidents") / "shop",
                 channels=f"channels:\n  - {{kind: webhook, name: dead, url: 'http://127.0.0.1:{dead_port()}/x', "
                          "retries: 1, backoff_s: 0.01}\n")
    write_orders(root, null_emails=3)
    return root


@pytest.fixture(scope="module")
def monitored(shop):
    """One `meshwork monitor --once` over the shop, whichever of this module's tests runs first; its output."""
    previous = os.environ.pop("MESHWORK_USER", None)
    try:
        done = runner.invoke(app, ["monitor", str(shop), "--once", "--json", "--send-timeout", "120"])
    finally:
        if previous is not None:
            os.environ["MESHWORK_USER"] = previous
    return done


def test_monitor_once_then_list_ack_and_refusal(shop, monitored, monkeypatch):
    monkeypatch.delenv("MESHWORK_USER", raising=False)
    done = monitored
    assert done.exit_code == 0, done.output
    passed = json.loads(done.stdout.splitlines()[0])
    assert passed["due"] == 3 and {t["product_id"] for t in passed["transitions"]} == {"shop.orders", "hr.salaries"}
    listed = runner.invoke(app, ["incidents", "list", str(shop), "--json", "--user", OWNER])
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [r["product_id"] for r in rows] == ["shop.orders"]  # hr.salaries is restricted: not an analyst's
    incident = str(rows[0]["id"])
    refused = runner.invoke(app, ["incidents", "ack", str(shop), incident, "--user", OUTSIDER])
    assert refused.exit_code == 2 and "may not acknowledge incidents of shop.orders" in refused.output
    assert "Traceback" not in refused.output
    acked = runner.invoke(app, ["incidents", "ack", str(shop), incident, "--note", "on it", "--user", OWNER])
    assert acked.exit_code == 0 and "now acknowledged" in acked.output
    shown = runner.invoke(app, ["incidents", "show", str(shop), incident, "--user", OWNER])
    assert "acknowledged (new -> acknowledged): on it" in shown.output
    unknown = runner.invoke(app, ["incidents", "resolve", str(shop), "999", "--user", OWNER])
    assert unknown.exit_code == 2 and "no incident #999" in unknown.output


def test_notifications_show_the_failed_delivery_and_its_reason(shop, monitored):
    out = runner.invoke(app, ["notifications", str(shop), "--status", "failed"])
    assert out.exit_code == 0
    assert "dead incident.opened" in out.output and "cannot reach 127.0.0.1" in out.output

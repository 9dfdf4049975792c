"""The monitor over a real tiny mesh: schedules, one incident per (product, cause) that auto-resolves and
reopens, freshness against the SLA, volume against its history, unchanged data not scanned again, and a
long-running `meshwork monitor` that stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

import catalog
from incidentmesh import OWNER, build, write_orders
from minimesh import write

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return build(tmp_path / "shop")


def test_a_malformed_schedule_or_channel_is_a_problem_with_file_and_line(tmp_path: Path):
    root = build(tmp_path / "bad", channels="channels:\n  - {kind: webhook, name: ops, url: 'ftp://x'}\n")
    product = root / "shop/products/orders.yaml"
    product.write_text(product.read_text().replace("every: 15m", "every: soon"))
    mesh = catalog.open_mesh(root)
    schedule = [p for p in mesh.problems if p.field == "schedule.every"]
    assert schedule and schedule[0].path.endswith("orders.yaml") and schedule[0].line == 4
    assert "'soon' is not a duration" in schedule[0].message and "1h" in schedule[0].message
    channel = [p for p in mesh.problems if p.field.startswith("channels")]
    assert channel and channel[0].path.endswith("mesh.yaml") and channel[0].line == 6
    assert "must be an http:// or https:// URL" in channel[0].message


def test_a_failing_check_opens_one_incident_that_resolves_and_reopens(shop: Path):
    mesh = catalog.open_mesh(shop)
    first = mesh.monitor_pass()
    assert first.due == 3 and first.scanned == 3
    assert [(t.product_id, t.action) for t in first.transitions] == [("hr.salaries", "opened")]
    write_orders(shop, null_emails=4)
    opened = mesh.monitor_pass(force=True)
    assert [(t.product_id, t.cause, t.action) for t in opened.transitions] == [
        ("shop.orders", "check:email not null", "opened")]
    again = mesh.monitor_pass(force=True)  # same data: counted, not scanned, no second incident
    assert again.scanned == 0 and again.reused == 3 and not again.transitions
    incidents = mesh.incident_list(state=None, product_id="shop.orders")
    assert incidents.height == 1
    row = incidents.row(0, named=True)
    assert row["state"] == "new" and row["runs"] == 2 and row["assignee"] == OWNER
    assert "4 of 100 rows fail" in row["summary"]
    write_orders(shop, null_emails=0)
    mended = mesh.monitor_pass(force=True)
    assert [t.action for t in mended.transitions] == ["auto-resolved"]
    write_orders(shop, null_emails=2)
    broken = mesh.monitor_pass(force=True)
    assert [(t.incident_id, t.action) for t in broken.transitions] == [(row["id"], "reopened")]
    assert mesh.incident_list(state=None, product_id="shop.orders").height == 1
    assert mesh.incidents.history(row["id"])["action"].to_list() == ["opened", "auto-resolved", "reopened"]


def test_unchanged_data_is_not_scanned(shop: Path, monkeypatch):
    mesh = catalog.open_mesh(shop)
    mesh.monitor_pass(force=True)
    runs = mesh.quality_history().height
    checked: list[str] = []
    real_check = mesh.monitor.check
    monkeypatch.setattr(mesh.monitor, "check", lambda pid: checked.append(pid) or real_check(pid))
    done = mesh.monitor_pass(force=True)
    assert done.scanned == 0 and done.reused == 3
    assert checked == []  # no check ran over the data: the earlier results are reused
    assert mesh.quality_history().height == runs  # nothing scanned, nothing stored
    write_orders(shop, null_emails=1)
    assert mesh.monitor_pass(force=True).scanned >= 1 and "shop.orders" in checked  # the spy sees a real scan


def test_a_missed_freshness_sla_is_an_incident(shop: Path):
    write_orders(shop, age_hours=48)  # the SLA is 24 h
    mesh = catalog.open_mesh(shop)
    done = mesh.monitor_pass()
    assert ("shop.orders", "freshness") in {(t.product_id, t.cause) for t in done.transitions}
    summary = mesh.incident_list().filter(cause="freshness")["summary"][0]
    assert "the SLA is 1 day" in summary


def test_a_row_count_outside_mean_k_sigma_of_earlier_versions_is_a_volume_incident(shop: Path):
    mesh = catalog.open_mesh(shop)
    for rows in (100, 104, 97, 101):
        write_orders(shop, rows=rows)
        assert not mesh.monitor_pass(products=["shop.orders"]).transitions
    write_orders(shop, rows=160)
    done = mesh.monitor_pass(products=["shop.orders"])
    assert [(t.cause, t.action) for t in done.transitions] == [("volume", "opened")]
    assert "160 rows; the last 4 versions predict" in done.transitions[0].summary
    write_orders(shop, rows=99)
    assert [t.action for t in mesh.monitor_pass(products=["shop.orders"]).transitions] == ["auto-resolved"]


def test_each_product_runs_on_its_own_schedule_or_its_domains(shop: Path):
    mesh = catalog.open_mesh(shop)
    mesh.monitor_pass()
    now = mesh.monitor.clock()
    assert mesh.monitor.due(now + timedelta(minutes=5)) == []
    assert mesh.monitor.due(now + timedelta(minutes=16)) == ["shop.orders"]  # its own 15m
    assert mesh.monitor.due(now + timedelta(hours=2)) == ["hr.salaries", "shop.orders"]  # mesh.yaml's 1h
    assert mesh.monitor.due(now + timedelta(days=1, minutes=1)) == ["hr.salaries", "ops.daily", "shop.orders"]
    assert 0 < mesh.monitor.next_due_in(now) <= 15 * 60


def test_the_long_running_monitor_stops_cleanly_on_sigterm(shop: Path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", "from catalog.cli import main; main()", "monitor", str(shop), "--max-sleep", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while "products due" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
        assert "3 products due" in line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert "monitor stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

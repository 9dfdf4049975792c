"""Session.interrupt: another thread stops the running query within a second; the session stays usable and
the stop is on record as a cancelled query, not an error or a time-out."""

from __future__ import annotations

import threading
import time

import catalog
from catalog.errors import QueryCancelled

SLOW = ("SELECT count(*) AS n FROM retail.transactions a, retail.transactions b, retail.transactions c "
        "WHERE a.amount + b.amount > c.amount")


def test_interrupt_stops_the_running_query_within_a_second(tmp_path):
    from conftest import SAMPLES

    mesh = catalog.open_mesh(SAMPLES / "banking", state_dir=tmp_path / "state")
    session = mesh.session("analyst", "ana@bank.example", timeout_s=60)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = session.run(SLOW)
        except Exception as exc:  # noqa: BLE001 - the test reads what ended it
            outcome["error"] = exc
        outcome["ended"] = time.perf_counter()

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(1.0)
    assert worker.is_alive(), "the query is still running when Cancel is pressed"
    asked = time.perf_counter()
    session.interrupt()
    worker.join(5)
    assert isinstance(outcome.get("error"), QueryCancelled), outcome
    assert outcome["ended"] - asked < 1.0
    assert "cancelled" in str(outcome["error"])
    assert session.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] > 0, "the session runs the next one"
    statuses = mesh.usage().filter(mesh.usage()["user"] == "ana@bank.example")["status"].to_list()
    assert "cancelled" in statuses


def test_interrupt_with_nothing_running_does_not_cancel_the_next_query(tmp_path):
    from conftest import SAMPLES

    mesh = catalog.open_mesh(SAMPLES / "banking", state_dir=tmp_path / "state")
    session = mesh.session("analyst", "ana@bank.example")
    session.interrupt()
    assert session.run("SELECT 1 AS one").frame["one"][0] == 1

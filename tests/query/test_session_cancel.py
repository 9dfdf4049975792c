"""Session.interrupt: another thread stops the running query; the session stays usable and
the stop is on record as a cancelled query, not an error or a time-out."""

from __future__ import annotations

import threading
import time

import catalog
from catalog.errors import QueryCancelled

SLOW = ("SELECT count(*) AS n FROM retail.transactions a, retail.transactions b, retail.transactions c "
        "WHERE a.amount + b.amount > c.amount")


def _query_workers(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in set(threading.enumerate()) - before if t.name.startswith("meshwork-query-")]


def test_interrupt_stops_the_running_query(tmp_path):
    """SLOW reads 8 * 10^12 row combinations: it never ends on its own in a test, so a QueryCancelled and
    the end of the thread DuckDB ran it on show that the interrupt stopped it."""
    from conftest import SAMPLES

    mesh = catalog.open_mesh(SAMPLES / "banking", state_dir=tmp_path / "state")
    session = mesh.session("analyst", "ana@bank.example", timeout_s=60)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = session.run(SLOW)
        except Exception as exc:  # noqa: BLE001 - the test reads what ended it
            outcome["error"] = exc

    before = set(threading.enumerate())
    caller = threading.Thread(target=run)
    caller.start()
    deadline = time.monotonic() + 30
    while not _query_workers(before) and caller.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _query_workers(before)
    assert workers and caller.is_alive(), "the query is running when Cancel is pressed"
    session.interrupt()
    caller.join(30)  # waits for the caller, and below for DuckDB's worker: neither is a bound on them
    assert isinstance(outcome.get("error"), QueryCancelled), outcome
    assert "cancelled" in str(outcome["error"])
    for worker in workers:
        worker.join(30)
    assert not any(w.is_alive() for w in workers), "DuckDB stopped the query, not only the caller's wait"
    assert session.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] > 0, "the session runs the next one"
    statuses = mesh.usage().filter(mesh.usage()["user"] == "ana@bank.example")["status"].to_list()
    assert "cancelled" in statuses


def test_interrupt_with_nothing_running_does_not_cancel_the_next_query(tmp_path):
    from conftest import SAMPLES

    mesh = catalog.open_mesh(SAMPLES / "banking", state_dir=tmp_path / "state")
    session = mesh.session("analyst", "ana@bank.example")
    session.interrupt()
    assert session.run("SELECT 1 AS one").frame["one"][0] == 1

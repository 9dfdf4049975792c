"""Governed sessions: capped results with a count, streamed exports, time limits, and usage events that are
all recorded under 20 concurrent sessions and survive a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import catalog
from catalog.errors import MeshError, QueryFailed, QueryRejected, QueryTimeout

JOIN = ("SELECT c.age, s.score FROM retail.customers c JOIN risk.scores s ON c.customer_id = s.customer_id "
        "ORDER BY c.age")


def test_run_caps_the_rows_shown_but_counts_them_all(minimesh):
    session = catalog.open_mesh(minimesh).session("analyst", "ana@bank.example")
    result = session.run("SELECT * FROM range(2500) t(i), retail.branches", max_rows=1000)
    assert result.frame.height == 1000 and result.total_rows == 5000 and result.truncated
    assert result.note() == "showing first 1,000 of 5,000 rows"
    small = session.run("SELECT * FROM retail.branches")
    assert not small.truncated and small.note() == "2 rows" and small.products == ["retail.branches"]
    assert small.duration_ms > 0


def test_export_streams_the_full_result_to_csv_and_parquet(minimesh, tmp_path):
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    session = catalog.open_mesh(minimesh).session("analyst", "ana@bank.example")
    query = "SELECT i, c.email FROM range(100000) t(i), retail.customers c"
    assert session.export(query, tmp_path / "out.csv", "csv") == 300_000
    assert session.export(query, tmp_path / "out.parquet", "parquet") == 300_000
    csv = pl.read_csv(tmp_path / "out.csv")
    parquet = pl.read_parquet(tmp_path / "out.parquet")
    assert csv.height == parquet.height == 300_000
    assert set(parquet["email"].drop_nulls()) == {"***@bank.example", "***@mail.example"}, "exports are masked too"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.parquet"], "no partial files left"


def test_a_failed_export_leaves_no_file_and_bad_formats_are_refused(minimesh, tmp_path):
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    session = catalog.open_mesh(minimesh).session("analyst", "ana@bank.example", timeout_s=0.5)
    with pytest.raises(QueryTimeout):
        session.export("SELECT count(*) FROM range(100000) a, range(100000) b", tmp_path / "x.csv")
    with pytest.raises(MeshError, match="csv or parquet"):
        session.export("SELECT 1", tmp_path / "x.xlsx", "xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_timeout_is_reported_recorded_and_the_session_stays_usable(minimesh):
    """A query that would stream for ever (10^18 rows) ends in QueryTimeout, and DuckDB really stops it: the
    worker thread running it ends, rather than being left behind to burn a core."""
    mesh = catalog.open_mesh(minimesh)
    session = mesh.session("analyst", "ana@bank.example", timeout_s=0.5)
    before = set(threading.enumerate())
    with pytest.raises(QueryTimeout, match="0.5 s time limit"):
        session.sql("SELECT count(*) FROM retail.customers, range(1000000000000000000) a")
    workers = [t for t in set(threading.enumerate()) - before if t.name.startswith("meshwork-query-")]
    for worker in workers:
        worker.join(30)  # a wait for the background worker, not a bound on it
    assert not any(worker.is_alive() for worker in workers), "the interrupted query still runs"
    assert session.sql(JOIN)["score"].to_list() == [580, 700, 640]
    statuses = mesh.usage("retail.customers")["status"].to_list()
    assert statuses == ["timeout", "ok"]


def test_a_failing_query_is_recorded_with_its_status_and_a_clear_message(minimesh):
    mesh = catalog.open_mesh(minimesh)
    with pytest.raises(QueryFailed, match="age_in_days"):
        mesh.session("analyst", "ana@bank.example").sql("SELECT age_in_days FROM retail.customers")
    events = mesh.usage()
    assert events.select("product_id", "status", "rows").rows() == [("retail.customers", "error", 0)]


def test_one_usage_event_per_product_touched(minimesh):
    mesh = catalog.open_mesh(minimesh)
    session = mesh.session("analyst", "ana@bank.example", consumer_domain="marketing")
    session.sql(JOIN)
    session.sql("WITH c AS (SELECT * FROM retail.customers) SELECT count(*) FROM c, c AS d")
    events = mesh.usage().sort("product_id")
    assert events.height == 3
    first = events.filter(pl.col("query_id") == events["query_id"][0])
    assert events.group_by("query_id").len()["len"].sort().to_list() == [1, 2]
    assert set(events["user"]) == {"ana@bank.example"} and set(events["role"]) == {"analyst"}
    assert set(events["consumer_domain"]) == {"marketing"}
    assert first["rows"].to_list()[0] in (1, 3) and events["duration_ms"].min() > 0


def test_a_refused_query_records_no_usage(minimesh):
    mesh = catalog.open_mesh(minimesh)
    with pytest.raises(QueryRejected):
        mesh.session("analyst").sql("SELECT * FROM risk.limits")
    assert mesh.usage().height == 0


def state_digest(mesh, user: str) -> tuple:
    """What a query puts on record: usage events, the access audit, the user's query history."""
    return mesh.usage().height, mesh.access.audit().height, len(mesh.query_history(user).recent())


def test_prepare_builds_the_views_a_run_needs_and_puts_nothing_on_record(minimesh):
    mesh = catalog.open_mesh(minimesh)
    session = mesh.session("analyst", "ana@bank.example")
    before = state_digest(mesh, "ana@bank.example")
    texts = [JOIN, "SELECT * FROM risk.limits",  # restricted for an analyst
             "not a query at all", "SELECT * FROM retail.customers WHERE", ""]
    assert session.prepare(texts) == {"retail.customers", "risk.scores"}
    database = mesh.engine.database_for("analyst", "ana@bank.example")
    assert {"retail.customers", "risk.scores"} <= database.views.views_ready
    assert "risk.limits" not in database.views.views_ready
    assert state_digest(mesh, "ana@bank.example") == before == (0, 0, 0)

    built: list[str] = []
    create_view = database.create_view
    database.create_view = lambda pid, masked, select: (built.append(pid), create_view(pid, masked, select))[1]
    assert session.run(JOIN).total_rows == 3
    assert built == [], "the run found its views made"
    assert session.prepare(["SELECT * FROM retail.branches"]) == {"retail.branches"}
    assert built == ["retail.branches"]
    mesh.close()


def test_prepare_over_an_ended_grant_prepares_nothing_and_records_no_refusal(minimesh):
    from tests.grants import granted

    mesh = catalog.open_mesh(minimesh)
    owner, consumer = "rui.costa@bank.example", "bo@bank.example"  # risk.limits' owner; an analyst
    agreement = granted(mesh, consumer, "risk.limits", "Credit line review for the Q3 campaign", owner, 30)
    mesh.agreements.revoke(agreement.id, owner, "campaign cancelled")
    session = mesh.session("analyst", consumer)
    before = state_digest(mesh, consumer)
    assert session.prepare(["SELECT * FROM risk.limits"]) == set()
    assert state_digest(mesh, consumer) == before
    assert "risk.limits" not in mesh.engine.database_for("analyst", consumer).views.views_ready
    with pytest.raises(QueryRejected, match="revoked"):  # Run, by contrast, refuses on record
        session.run("SELECT * FROM risk.limits")
    assert state_digest(mesh, consumer)[1] == before[1] + 1
    mesh.close()


def test_twenty_concurrent_sessions_record_every_usage_event(minimesh):
    mesh = catalog.open_mesh(minimesh)
    sessions = [mesh.session("analyst" if i % 2 else "steward", f"user{i}@bank.example") for i in range(20)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def work(session: catalog.Mesh) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                assert session.sql(JOIN).height == 3
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors[:3]
    events = mesh.usage()
    assert events.height == 20 * 5 * 2
    assert events["query_id"].n_unique() == 100
    assert events.group_by("user").len()["len"].to_list() == [10] * 20
    assert set(events["status"]) == {"ok"}


def test_usage_survives_a_crash_mid_run(minimesh):
    """A process killed while querying leaves every finished query's events, each query whole or absent."""
    script = (f"import catalog\nmesh = catalog.open_mesh({str(minimesh)!r})\n"
              "s = mesh.session('analyst', 'crash@bank.example')\nprint('ready', flush=True)\n"
              f"while True:\n    s.sql({JOIN!r})\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).parent)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.5)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)
    events = catalog.open_mesh(minimesh).usage()
    assert events.height >= 2
    assert set(events.group_by("query_id").len()["len"]) == {2}, "no query is half recorded"

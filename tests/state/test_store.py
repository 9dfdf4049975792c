"""The state store survives a SIGKILL mid-write and concurrent writers lose nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap

from catalog.quality.runs import QualityRuns
from catalog.query.usage_log import UsageEvent, UsageLog
from catalog.state.store import StateStore

WRITER = textwrap.dedent("""
    import sys
    from catalog.quality.runs import QualityRuns
    from catalog.query.usage_log import UsageEvent, UsageLog
    from catalog.state.store import StateStore
    store = StateStore(sys.argv[1], url=sys.argv[2] or None)
    usage, runs = UsageLog(store), QualityRuns(store)
    i = 0
    while True:
        i += 1
        usage.record([UsageEvent(user=f"u{i}", role="analyst", product_id="retail.customers",
                                 rows=i, duration_ms=1.0, status="ok")] * 3)
        runs.record("retail.customers", "1.0.0", "fp", 90.0, True, 5.0, [{"name": "x", "n": i}] * 20)
        print(i, flush=True)
""")


def test_sigkill_mid_write_keeps_every_committed_event(tmp_path, state_url):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), state_url or ""], stdout=subprocess.PIPE,
                            text=True)
    committed = 0
    for line in proc.stdout:
        committed = int(line)
        if committed >= 300:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if state_url is None:
        con = sqlite3.connect(tmp_path / "state.sqlite")
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
    store = StateStore(tmp_path, url=state_url)
    usage = UsageLog(store).frame()
    runs = QualityRuns(store).runs("retail.customers")
    # Everything acknowledged before the kill is there; at most the one in flight after it.
    assert usage.height >= committed * 3 and usage.height % 3 == 0
    assert len(runs) >= committed
    assert all(len(r["results"]) == 20 for r in runs)
    store.close()


WRITE_MANY = textwrap.dedent("""
    import sys
    from pathlib import Path
    from catalog.query.usage_log import UsageEvent, UsageLog
    from catalog.state.store import StateStore
    usage = UsageLog(StateStore(Path(sys.argv[1]), url=sys.argv[4] or None))
    worker, count = sys.argv[2], int(sys.argv[3])
    for i in range(count):
        usage.record([UsageEvent(user=f"w{worker}", role="analyst", product_id=f"d.p{i % 5}",
                                 rows=i, duration_ms=0.5, status="ok")])
""")


def test_concurrent_processes_lose_no_event(tmp_path, state_url):
    # Separate interpreters (not multiprocessing): a spawn child re-imports whatever script the
    # parent ran as __main__, which under pytest can be an app page. On PostgreSQL all six also race to migrate
    # the new schema: the advisory lock lets one do it.
    workers = [subprocess.Popen([sys.executable, "-c", WRITE_MANY, str(tmp_path), str(w), "150", state_url or ""],
                                stderr=subprocess.PIPE, text=True) for w in range(6)]
    for w in workers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    store = StateStore(tmp_path, url=state_url)
    usage = UsageLog(store).frame()
    assert usage.height == 6 * 150
    assert usage.group_by("user").len()["len"].to_list() == [150] * 6
    store.close()


def test_revision_changes_exactly_when_a_row_is_stored(tmp_path, state_url):
    store = StateStore(tmp_path / "state", url=state_url)
    empty = store.revision("usage_events", "quality_runs", "no_such_table")
    assert empty == (None, None, None)
    UsageLog(store).record([UsageEvent(user="u", role="analyst", product_id="retail.customers", rows=1,
                                            duration_ms=1.0, status="ok")])
    once = store.revision("usage_events", "quality_runs")
    assert once[0] is not None and once[1] is None
    assert store.revision("usage_events", "quality_runs") == once  # reading does not move it
    QualityRuns(store).record("retail.customers", "1.0.0", "fp", 90.0, True, 5.0, [])
    assert store.revision("usage_events", "quality_runs")[0] == once[0]
    assert store.revision("usage_events", "quality_runs")[1] is not None
    store.close()


def test_revision_sees_a_rating_changed_in_place(tmp_path, state_url):
    """Ratings are one row per person and product, updated where they stand: a changed rating still moves the
    revision, so a cache of trust signals shows the new stars."""
    store = StateStore(tmp_path / "state", url=state_url)
    assert store.revision("ratings") == (None,)
    with store.transaction() as con:
        con.execute("INSERT INTO ratings (product_id, user, stars, ts) VALUES (?,?,?,?)",
                    ("retail.customers", "bo", 3, "2026-01-01T00:00:00.000+00:00"))
    first = store.revision("ratings")
    with store.transaction() as con:
        con.execute("UPDATE ratings SET stars = 5, ts = ? WHERE user = 'bo'", ("2026-01-02T00:00:00.000+00:00",))
    assert first[0] is not None and store.revision("ratings") != first
    store.close()

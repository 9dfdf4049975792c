"""The state schema grows only by appended migrations: a state file of the previous schema opens, keeps its rows
and gains what is new; applied migrations never run twice and never change meaning. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from catalog.quality.runs import QualityRuns
from catalog.query.usage_log import UsageEvent, UsageLog
import psycopg

from catalog.state import dialect, migrations
from catalog.state.migrations import MIGRATIONS, OWNERS
from catalog.state.store import StateStore
from tests.statebackends import fresh_schema

# sha256 (first 16 hex digits) of every migration shipped so far. A state file stores only how many migrations it
# ran, so editing or reordering one of these would silently give old and new files different schemas.
SHIPPED = ["8f02ab4f6985ef1a", "691fe1f182438535", "ca5fe36251bb12cc", "e84b150e20b0327c", "0e199d12de40e0de",
           "943e34aaaba8ad0b"]

# What the previous version ran: its five migrations, and review.py's own table, created on first review.
PREVIOUS_REVIEW_TABLE = """CREATE TABLE IF NOT EXISTS owner_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, subject TEXT NOT NULL, reviewer TEXT NOT NULL,
    snapshot TEXT NOT NULL)"""


class _PostgresScript:
    """Just enough of a sqlite3 connection to write a previous-version state into a PostgreSQL schema."""

    def __init__(self, url: str):
        self.con = psycopg.connect(url, autocommit=True)

    def execute(self, sql: str, params: tuple = ()) -> None:
        if sql.lstrip().upper().startswith(("CREATE", "PRAGMA")):
            for statement in ([] if sql.lstrip().upper().startswith("PRAGMA") else dialect.postgres_ddl(sql)):
                self.con.execute(statement)
        else:
            self.con.execute(dialect.postgres(sql, many=True).sql, params)

    def close(self) -> None:
        self.con.close()


def _previous_state(directory: Path, reviewed: bool, url: str | None = None) -> Path:
    """A state.sqlite as the previous version left it: 5 migrations, some rows, owner_reviews if it reviewed."""
    directory.mkdir(parents=True)
    con = _PostgresScript(url) if url else sqlite3.connect(directory / "state.sqlite", isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    for script in MIGRATIONS[:5]:
        for statement in migrations.statements(script):
            con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('migrations', '5')")
    con.execute("INSERT INTO meta VALUES ('history_seeded', '2026-11-26T00:00:00+00:00')")
    con.execute("INSERT INTO usage_events (ts, user, role, product_id, rows, duration_ms, status) "
                "VALUES ('2026-11-20T10:00:00.000+00:00', 'ana@x', 'analyst', 'retail.customers', 3, 1.5, 'ok')")
    con.execute("INSERT INTO quality_runs (ts, product_id, version, fingerprint, score, complete, duration_ms, "
                "results) VALUES ('2026-11-20T05:00:00.000+00:00', 'retail.customers', '1.0.0', 'fp', 97.5, 1, "
                "4.0, ?)", (json.dumps([{"name": "ids unique", "status": "pass"}]),))
    con.execute("INSERT INTO audit_log (ts, actor, action, outcome) VALUES ('2026-11-20', 'ana@x', 'query', 'ok')")
    if reviewed:
        con.execute(PREVIOUS_REVIEW_TABLE)
        con.execute("INSERT INTO owner_reviews (ts, subject, reviewer, snapshot) VALUES "
                    "('2026-11-21T09:00:00+00:00', 'owner:ana@x', 'ana@x', '{}')")
    con.close()
    return directory


def _tables(store: StateStore) -> set[str]:
    return store.tables()


def test_shipped_migrations_are_never_edited_only_appended():
    assert [hashlib.sha256(m.encode()).hexdigest()[:16] for m in MIGRATIONS[:len(SHIPPED)]] == SHIPPED, (
        "a shipped migration changed: append a new migration instead (and add its digest here)")
    assert len(MIGRATIONS) >= len(SHIPPED)


def test_a_new_store_has_exactly_the_owned_tables(tmp_path, state_url):
    store = StateStore(tmp_path / "state", url=state_url)
    assert _tables(store) == set(OWNERS)
    assert store.meta("migrations") == str(len(MIGRATIONS))


def test_a_store_of_the_previous_schema_migrates_and_keeps_its_rows(tmp_path, backend, request):
    for reviewed in (True, False):  # owner_reviews existed only where someone had recorded a review
        url = request.getfixturevalue("state_url") if backend == "postgresql" else None
        if url:
            url = fresh_schema(request.getfixturevalue("state_pg_database"))  # one schema per pass
        store = StateStore(_previous_state(tmp_path / f"reviewed-{reviewed}", reviewed, url), url=url)
        assert _tables(store) == set(OWNERS)
        assert store.meta("migrations") == str(len(MIGRATIONS))
        assert store.meta("history_seeded") == "2026-11-26T00:00:00+00:00"  # a seeded sample is not seeded again
        usage = UsageLog(store).frame()
        assert usage.height == 1 and usage.row(0, named=True)["user"] == "ana@x"
        run = QualityRuns(store).runs("retail.customers")[0]
        assert run["score"] == 97.5 and run["results"] == [{"name": "ids unique", "status": "pass"}]
        reviews = store.query("SELECT subject FROM owner_reviews")
        assert reviews == ([("owner:ana@x",)] if reviewed else [])
        UsageLog(store).record([UsageEvent(user="bo@x", role="analyst", product_id="risk.scores", rows=1,
                                           duration_ms=1.0, status="ok")])
        assert UsageLog(store).frame().height == 2
        store.close()


def test_reopening_runs_no_migration_twice(tmp_path, state_url):
    first = StateStore(tmp_path, url=state_url)
    assert first.meta("migrations") == str(len(MIGRATIONS))  # the first open created and migrated the file
    first.close()
    if state_url:
        from catalog.state.postgres import PostgresDatabase
        again = PostgresDatabase(state_url)
        assert again.migrate() == 0
        again.close()
        return
    con = sqlite3.connect(tmp_path / "state.sqlite", isolation_level=None)
    assert migrations.apply(con) == 0  # nothing pending: the count says every migration ran
    con.close()


def test_a_file_a_newer_version_migrated_keeps_its_count(tmp_path, state_url):
    store = StateStore(tmp_path, url=state_url)
    store.set_meta("migrations", str(len(MIGRATIONS) + 2))  # opened (and migrated) before the write
    store.close()
    again = StateStore(tmp_path, url=state_url)
    assert again.meta("migrations") == str(len(MIGRATIONS) + 2)

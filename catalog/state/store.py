"""Runtime state of a mesh (usage events, quality runs): SQLite in WAL mode.

SQLite's journal makes each write atomic, so a crash mid-write loses nothing that
was committed; WAL plus a busy timeout lets several app sessions and the CLI write
at once. The store lives in the state folder, never among the descriptors.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import polars as pl

SCHEMA_VERSION = 1

# Each entry is applied once, in order; append new ones, never edit old ones.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS usage_events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        user        TEXT NOT NULL,
        role        TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        rows        INTEGER,
        duration_ms REAL,
        status      TEXT NOT NULL,
        query_id    TEXT,
        consumer_domain TEXT
    );
    CREATE INDEX IF NOT EXISTS usage_by_product ON usage_events(product_id, ts);
    CREATE TABLE IF NOT EXISTS quality_runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        version     TEXT,
        fingerprint TEXT,
        score       REAL,
        complete    INTEGER NOT NULL DEFAULT 1,
        duration_ms REAL,
        results     TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS runs_by_product ON quality_runs(product_id, ts);
    """,
    # catalog.access.ledger: requests, grants and the append-only audit log (triggers refuse UPDATE/DELETE).
    """
    CREATE TABLE IF NOT EXISTS access_requests (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        user        TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        kind        TEXT NOT NULL,
        purpose     TEXT NOT NULL,
        status      TEXT NOT NULL,
        decided_by  TEXT,
        decided_at  TEXT,
        reason      TEXT,
        expires_at  TEXT
    );
    CREATE INDEX IF NOT EXISTS requests_by_product ON access_requests(product_id, status);
    CREATE TABLE IF NOT EXISTS grants (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id  INTEGER,
        user        TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        kind        TEXT NOT NULL,
        granted_by  TEXT NOT NULL,
        granted_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        revoked_by  TEXT,
        revoked_at  TEXT
    );
    CREATE INDEX IF NOT EXISTS grants_by_user ON grants(user, expires_at);
    CREATE TABLE IF NOT EXISTS audit_log (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        product_id  TEXT,
        kind        TEXT,
        subject     TEXT,
        role        TEXT,
        reason      TEXT,
        request_id  INTEGER,
        grant_id    INTEGER,
        query_id    TEXT
    );
    CREATE INDEX IF NOT EXISTS audit_by_ts ON audit_log(ts);
    CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: its rows cannot be changed'); END;
    CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: its rows cannot be deleted'); END;
    """,
    # catalog.governance.changes: descriptor snapshots, changelog, subscriptions, inbox alerts.
    """
    CREATE TABLE IF NOT EXISTS descriptor_snapshots (
        product_id  TEXT PRIMARY KEY,
        ts          TEXT NOT NULL,
        version     TEXT,
        digest      TEXT NOT NULL,
        descriptor  TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS changelog (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        change_set  TEXT NOT NULL,
        old_version TEXT,
        new_version TEXT,
        severity    TEXT NOT NULL,
        kind        TEXT NOT NULL,
        column_name TEXT,
        message     TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS changelog_by_product ON changelog(product_id, ts);
    CREATE TABLE IF NOT EXISTS subscriptions (
        user        TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        ts          TEXT NOT NULL,
        PRIMARY KEY (user, product_id)
    );
    CREATE TABLE IF NOT EXISTS alerts (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        user        TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        change_set  TEXT NOT NULL,
        severity    TEXT NOT NULL,
        summary     TEXT NOT NULL,
        impact      TEXT NOT NULL,
        read_at     TEXT
    );
    CREATE INDEX IF NOT EXISTS alerts_by_user ON alerts(user, ts);
    """,
    # catalog.access.trust: certifications (history), ratings (one per user and product), comments.
    """
    CREATE TABLE IF NOT EXISTS certifications (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        note        TEXT
    );
    CREATE INDEX IF NOT EXISTS certifications_by_product ON certifications(product_id, id);
    CREATE TABLE IF NOT EXISTS ratings (
        product_id  TEXT NOT NULL,
        user        TEXT NOT NULL,
        stars       INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
        ts          TEXT NOT NULL,
        PRIMARY KEY (product_id, user)
    );
    CREATE TABLE IF NOT EXISTS comments (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        user        TEXT NOT NULL,
        text        TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS comments_by_product ON comments(product_id, ts);
    """,
    # catalog.dashboards.run: who opened which dashboard when (the list shows each one's last view).
    """
    CREATE TABLE IF NOT EXISTS dashboard_views (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        ts           TEXT NOT NULL,
        dashboard_id TEXT NOT NULL,
        user         TEXT NOT NULL,
        role         TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS dashboard_views_by_id ON dashboard_views(dashboard_id, id);
    """,
]


@dataclass(frozen=True)
class UsageEvent:
    user: str
    role: str
    product_id: str
    rows: int | None
    duration_ms: float | None
    status: str
    query_id: str | None = None
    consumer_domain: str | None = None
    ts: str | None = None


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements; the ';' inside a trigger's BEGIN ... END does not end one."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _use_wal(con: sqlite3.Connection, patience_s: float = 30.0) -> None:
    """Switch the file to write-ahead logging once. SQLite answers a journal-mode change with "database is
    locked" at once, without waiting, while another connection writes, so wait for it here; a file already in
    WAL mode (every open but the very first) needs no change at all."""
    deadline = time.monotonic() + patience_s
    while con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            con.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class StateStore:
    """One SQLite file per mesh; safe to open from many threads and processes."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.path = self.directory / "state.sqlite"
        self._local = threading.local()
        self._migrated = False
        self._migrate_lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            con.execute("PRAGMA busy_timeout=30000")
            _use_wal(con)
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        if not self._migrated:
            self._migrate(con)
        return con

    def _migrate(self, con: sqlite3.Connection) -> None:
        with self._migrate_lock:
            if self._migrated:
                return
            con.execute("BEGIN IMMEDIATE")
            try:
                con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
                row = con.execute("SELECT value FROM meta WHERE key='migrations'").fetchone()
                applied = int(row[0]) if row else 0
                for script in MIGRATIONS[applied:]:
                    for statement in _statements(script):
                        con.execute(statement)
                con.execute("INSERT OR REPLACE INTO meta VALUES ('migrations', ?)", (str(len(MIGRATIONS)),))
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            self._migrated = True

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; retried by SQLite's busy timeout under contention."""
        con = self._connect()
        for attempt in range(5):
            try:
                con.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 4:
                    raise
                time.sleep(0.05 * (attempt + 1))
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._connect().execute(sql, params).fetchall()

    def revision(self, *tables: str) -> tuple[int | None, ...]:
        """The newest row id of each table (None while it is empty or not created yet). Ids only grow, so this
        changes exactly when a row is stored: a cheap key for caches of what is read from these tables."""
        present = {row[0] for row in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return tuple(self.query(f'SELECT max(id) FROM "{table}"')[0][0] if table in present else None
                     for table in tables)

    def frame(self, sql: str, params: tuple[Any, ...] = (), schema: dict[str, Any] | None = None) -> pl.DataFrame:
        cursor = self._connect().execute(sql, params)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        return pl.DataFrame(rows, schema=schema or names, orient="row")

    # ------------------------------------------------------------------ usage

    def record_usage(self, events: list[UsageEvent]) -> None:
        if not events:
            return
        now = utc_now()
        with self.transaction() as con:
            con.executemany(
                "INSERT INTO usage_events (ts, user, role, product_id, rows, duration_ms, status, query_id, "
                "consumer_domain) VALUES (?,?,?,?,?,?,?,?,?)",
                [(e.ts or now, e.user, e.role, e.product_id, e.rows, e.duration_ms, e.status, e.query_id,
                  e.consumer_domain) for e in events],
            )

    def usage_frame(self, product_id: str | None = None) -> pl.DataFrame:
        schema = {"ts": pl.String, "user": pl.String, "role": pl.String, "product_id": pl.String,
                  "rows": pl.Int64, "duration_ms": pl.Float64, "status": pl.String, "query_id": pl.String,
                  "consumer_domain": pl.String}
        where, params = ("WHERE product_id = ?", (product_id,)) if product_id else ("", ())
        frame = self.frame(f"SELECT ts, user, role, product_id, rows, duration_ms, status, query_id, consumer_domain "
                           f"FROM usage_events {where} ORDER BY ts", params, schema)
        return frame.with_columns(pl.col("ts").str.to_datetime(time_zone="UTC"))

    # ------------------------------------------------------------------ quality runs

    def record_run(self, product_id: str, version: str, fingerprint: str | None, score: float | None,
                   complete: bool, duration_ms: float, results: list[dict[str, Any]], ts: str | None = None) -> None:
        with self.transaction() as con:
            con.execute(
                "INSERT INTO quality_runs (ts, product_id, version, fingerprint, score, complete, duration_ms, results) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (ts or utc_now(), product_id, version, fingerprint, score, int(complete), duration_ms,
                 json.dumps(results, default=str)),
            )

    def runs(self, product_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE product_id = ?", (product_id,)) if product_id else ("", ())
        tail = f"LIMIT {int(limit)}" if limit else ""
        rows = self.query(f"SELECT ts, product_id, version, fingerprint, score, complete, duration_ms, results "
                          f"FROM quality_runs {where} ORDER BY ts DESC, id DESC {tail}", params)
        return [
            {"ts": r[0], "product_id": r[1], "version": r[2], "fingerprint": r[3], "score": r[4],
             "complete": bool(r[5]), "duration_ms": r[6], "results": json.loads(r[7])}
            for r in rows
        ]

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

"""Every table of the state store, created here and nowhere else: the schema and its history.

`apply` brings a state file up to date: it creates `meta`, then runs the migrations not yet applied, in order,
inside the caller's transaction. `OWNERS` names the one module that reads and writes each table; no other
module runs SQL on it (tests/state/test_ownership.py holds the code to that).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)"
"""Key-value facts about the store itself: how many migrations ran, when the sample history was seeded."""

# Each entry is applied once, in order (`meta.migrations` counts the applied ones): append new ones, never edit
# or reorder old ones, or a state file written by an older version would skip or repeat a step.
MIGRATIONS: list[str] = [
    # catalog.query.usage_log (usage_events) and catalog.quality.runs (quality_runs).
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
    # catalog.scorecards.review: the snapshot each recorded review saw, which the next review compares with.
    # Before this migration review.py created the table itself on first use, hence IF NOT EXISTS.
    """
    CREATE TABLE IF NOT EXISTS owner_reviews (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        subject     TEXT NOT NULL,
        reviewer    TEXT NOT NULL,
        snapshot    TEXT NOT NULL
    );
    """,
    # catalog.lineage.events: OpenLineage run events, those ingested (a file, the app's endpoint, a dbt manifest)
    # and those this mesh emitted (with the delivery error, if the transport failed).
    """
    CREATE TABLE IF NOT EXISTS lineage_events (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        ts            TEXT NOT NULL,
        direction     TEXT NOT NULL,
        origin        TEXT NOT NULL,
        event_type    TEXT,
        event_time    TEXT,
        run_id        TEXT,
        job_namespace TEXT NOT NULL,
        job_name      TEXT NOT NULL,
        payload       TEXT NOT NULL,
        error         TEXT
    );
    CREATE INDEX IF NOT EXISTS lineage_events_by_direction ON lineage_events(direction, id);
    """,
    # catalog.glossary.proposals (glossary_proposals): new terms and changes a steward approves or rejects.
    """
    CREATE TABLE IF NOT EXISTS glossary_proposals (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        proposer    TEXT NOT NULL,
        term_id     TEXT NOT NULL,
        change      TEXT NOT NULL,
        body        TEXT NOT NULL,
        reason      TEXT,
        status      TEXT NOT NULL,
        decided_by  TEXT,
        decided_at  TEXT,
        decision    TEXT
    );
    CREATE INDEX IF NOT EXISTS glossary_proposals_term ON glossary_proposals (term_id, id);
    """,
    # catalog.access.agreements (agreements): purpose-bound access to one port of a product, with a lifecycle.
    """
    CREATE TABLE IF NOT EXISTS agreements (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        ts                  TEXT NOT NULL,
        requested_by        TEXT NOT NULL,
        consumer            TEXT NOT NULL,
        consumer_kind       TEXT NOT NULL,
        product_id          TEXT NOT NULL,
        port                TEXT NOT NULL,
        kind                TEXT NOT NULL,
        purpose             TEXT NOT NULL,
        days                REAL NOT NULL,
        approval            TEXT NOT NULL,
        status              TEXT NOT NULL,
        owner_approved_by   TEXT,
        steward_approved_by TEXT,
        decided_by          TEXT,
        decided_at          TEXT,
        reason              TEXT,
        activated_at        TEXT,
        expires_at          TEXT,
        grant_id            INTEGER
    );
    CREATE INDEX IF NOT EXISTS agreements_product ON agreements (product_id, status);
    """,
    # catalog.incidents.desk (incidents, incident_events: every transition, append-only), catalog.monitor.state
    # (monitor_state: when each product was last monitored and on what data; monitor_volumes: its row count per
    # data version), catalog.notify.outbox (notify_outbox: every notification until it is sent or failed).
    """
    CREATE TABLE IF NOT EXISTS incidents (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        product_id  TEXT NOT NULL,
        cause       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        summary     TEXT NOT NULL,
        state       TEXT NOT NULL,
        assignee    TEXT,
        first_seen  TEXT NOT NULL,
        last_seen   TEXT NOT NULL,
        runs        INTEGER NOT NULL DEFAULT 1,
        reopened    INTEGER NOT NULL DEFAULT 0,
        resolved_at TEXT,
        resolved_by TEXT
    );
    CREATE INDEX IF NOT EXISTS incidents_by_product ON incidents(product_id, cause, state);
    CREATE INDEX IF NOT EXISTS incidents_by_state ON incidents(state);
    CREATE TABLE IF NOT EXISTS incident_events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        incident_id INTEGER NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        from_state  TEXT,
        to_state    TEXT,
        assignee    TEXT,
        note        TEXT
    );
    CREATE INDEX IF NOT EXISTS incident_events_by_incident ON incident_events(incident_id, id);
    CREATE TRIGGER IF NOT EXISTS incident_events_no_update BEFORE UPDATE ON incident_events
    BEGIN SELECT RAISE(ABORT, 'incident history is append-only: its rows cannot be changed'); END;
    CREATE TRIGGER IF NOT EXISTS incident_events_no_delete BEFORE DELETE ON incident_events
    BEGIN SELECT RAISE(ABORT, 'incident history is append-only: its rows cannot be deleted'); END;
    CREATE TABLE IF NOT EXISTS monitor_state (
        product_id  TEXT PRIMARY KEY,
        checked_at  TEXT NOT NULL,
        fingerprint TEXT,
        run_ts      TEXT
    );
    CREATE TABLE IF NOT EXISTS monitor_volumes (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        product_id  TEXT NOT NULL,
        fingerprint TEXT,
        rows        INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS monitor_volumes_by_product ON monitor_volumes(product_id, id);
    CREATE TABLE IF NOT EXISTS notify_outbox (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        channel     TEXT NOT NULL,
        kind        TEXT NOT NULL,
        event       TEXT NOT NULL,
        recipient   TEXT,
        status      TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        next_try_at TEXT NOT NULL,
        last_error  TEXT,
        sent_at     TEXT
    );
    CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox(status, next_try_at);
    """,
    # catalog.query.masking: the mesh's keys (the masking salt), in the store so every server over one state
    # masks alike; written once, under the store's write lock, by whichever process needs it first.
    """
    CREATE TABLE IF NOT EXISTS mesh_keys (
        name        TEXT PRIMARY KEY,
        value       TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        origin      TEXT NOT NULL
    );
    """,
    # catalog.workbench.history: each person's recent workbench runs, shown by every server over one store.
    """
    CREATE TABLE IF NOT EXISTS workbench_history (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ts          TEXT NOT NULL,
        user        TEXT NOT NULL,
        role        TEXT NOT NULL,
        status      TEXT NOT NULL,
        rows        INTEGER,
        duration_ms REAL,
        sql_text    TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS workbench_history_by_user ON workbench_history(user, id);
    """,
]


REPLACED_IN_PLACE: dict[str, str] = {"ratings": "ts"}
"""Tables whose rows are updated where they stand (no growing id): `StateStore.revision` stamps each by its row
count and newest value of the named timestamp column, which an upsert moves."""

OWNERS: dict[str, str] = {
    "meta": "catalog.state.store",
    "usage_events": "catalog.query.usage_log",
    "quality_runs": "catalog.quality.runs",
    "access_requests": "catalog.access.ledger",
    "grants": "catalog.access.ledger",
    "audit_log": "catalog.access.ledger",
    "certifications": "catalog.access.trust",
    "ratings": "catalog.access.trust",
    "comments": "catalog.access.trust",
    "descriptor_snapshots": "catalog.governance.changes",
    "changelog": "catalog.governance.changes",
    "subscriptions": "catalog.governance.changes",
    "alerts": "catalog.governance.changes",
    "dashboard_views": "catalog.dashboards.run",
    "owner_reviews": "catalog.scorecards.review",
    "lineage_events": "catalog.lineage.events",
    "glossary_proposals": "catalog.glossary.proposals",
    "agreements": "catalog.access.agreements",
    "incidents": "catalog.incidents.desk",
    "incident_events": "catalog.incidents.desk",
    "monitor_state": "catalog.monitor.state",
    "monitor_volumes": "catalog.monitor.state",
    "notify_outbox": "catalog.notify.outbox",
    "mesh_keys": "catalog.query.masking",
    "workbench_history": "catalog.workbench.history",
}
"""Table -> the module that owns it (the only one that reads or writes it)."""


def statements(script: str) -> Iterator[str]:
    """Split a migration into statements; the ';' inside a trigger's BEGIN ... END does not end one."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending
            pending = ""


def applied(con: sqlite3.Connection) -> int:
    """How many migrations this state file has run (0 for a new file)."""
    row = con.execute("SELECT value FROM meta WHERE key = 'migrations'").fetchone()
    return int(row[0]) if row else 0


def apply(con: sqlite3.Connection) -> int:
    """Create `meta` and run the pending migrations; the caller holds the transaction. Returns how many ran."""
    con.execute(META)
    done = applied(con)
    for script in MIGRATIONS[done:]:
        for statement in statements(script):
            con.execute(statement)
    if done < len(MIGRATIONS):  # a file a newer version migrated further keeps its count
        con.execute("INSERT OR REPLACE INTO meta VALUES ('migrations', ?)", (str(len(MIGRATIONS)),))
    return max(0, len(MIGRATIONS) - done)

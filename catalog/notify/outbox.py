"""The durable outbox (`notify_outbox`): every notification from the moment it is raised until it is sent
or has failed for good. This module is the only reader and writer of the table.

A row is `pending` (waiting for its next try), `digest` (an e-mail held for its recipient's next digest),
`sent` or `failed` (with `last_error`). A sender claims a row by moving its `next_try_at` a lease ahead in
the same statement that checks it is still due, so two senders (the app and a CLI monitor) never send one
row twice, and a sender that dies mid-delivery leaves the row due again once the lease ends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from catalog.notify.event import Event
from catalog.state.store import StateStore, iso

LEASE = timedelta(minutes=2)
_COLUMNS = "id, ts, channel, kind, event, recipient, status, attempts, next_try_at, last_error, sent_at"



@dataclass(frozen=True)
class OutboxRow:
    id: int
    ts: str
    channel: str
    kind: str
    event: Event
    recipient: str | None
    status: str
    attempts: int
    next_try_at: str
    last_error: str | None
    sent_at: str | None


def _row(r: tuple[Any, ...]) -> OutboxRow:
    return OutboxRow(r[0], r[1], r[2], r[3], Event.from_dict(json.loads(r[4])), r[5], r[6], r[7], r[8], r[9], r[10])


class Outbox:
    """Queue (`put`), claim due rows (`claim_due`, `claim_digests`), and settle them (`sent`, `retry`, `failed`)."""

    def __init__(self, state: StateStore):
        self.state = state

    def put(self, items: list[tuple[str, Event, str | None, bool]], now: datetime) -> list[int]:
        """Queue (channel, event, recipient, held for a digest) rows in one transaction; returns their ids."""
        ids = []
        with self.state.transaction() as con:
            for channel, event, recipient, digest in items:
                cursor = con.execute(
                    "INSERT INTO notify_outbox (ts, channel, kind, event, recipient, status, attempts, next_try_at) "
                    "VALUES (?,?,?,?,?,?,0,?)", (iso(now), channel, event.kind, json.dumps(event.to_dict(), default=str),
                                               recipient, "digest" if digest else "pending", iso(now)))
                ids.append(int(cursor.lastrowid))
        return ids

    def claim_due(self, now: datetime, limit: int = 50) -> list[OutboxRow]:
        """Pending rows whose time has come, each claimed for one lease (attempts counted now)."""
        with self.state.transaction() as con:
            rows = con.execute(f"SELECT {_COLUMNS} FROM notify_outbox WHERE status = 'pending' AND next_try_at <= ? "
                               "ORDER BY next_try_at, id LIMIT ?", (iso(now), limit)).fetchall()
            con.executemany("UPDATE notify_outbox SET next_try_at = ?, attempts = attempts + 1 WHERE id = ?",
                            [(iso(now + LEASE), r[0]) for r in rows])
        return [_row((*r[:7], r[7] + 1, *r[8:])) for r in rows]

    def claim_digests(self, channel: str, older_than: datetime, now: datetime) -> dict[str, list[OutboxRow]]:
        """Recipient -> the digest rows of `channel` held for them, if the oldest was queued before
        `older_than`; they become pending rows of one delivery (claimed for one lease)."""
        with self.state.transaction() as con:
            rows = con.execute(f"SELECT {_COLUMNS} FROM notify_outbox WHERE status = 'digest' AND channel = ? "
                               "ORDER BY id", (channel,)).fetchall()
            groups: dict[str, list[tuple[Any, ...]]] = {}
            for r in rows:
                groups.setdefault(r[5] or "", []).append(r)
            due = {k: v for k, v in groups.items() if v[0][1] <= iso(older_than)}
            con.executemany("UPDATE notify_outbox SET status = 'pending', next_try_at = ?, attempts = attempts + 1 "
                            "WHERE id = ?", [(iso(now + LEASE), r[0]) for v in due.values() for r in v])
        return {k: [_row((*r[:6], "pending", r[7] + 1, *r[8:])) for r in v] for k, v in due.items()}

    def sent(self, ids: list[int], now: datetime) -> None:
        with self.state.transaction() as con:
            con.executemany("UPDATE notify_outbox SET status = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                            [(iso(now), i) for i in ids])

    def retry(self, ids: list[int], at: datetime, error: str) -> None:
        with self.state.transaction() as con:
            con.executemany("UPDATE notify_outbox SET next_try_at = ?, last_error = ? WHERE id = ?",
                            [(iso(at), error, i) for i in ids])

    def failed(self, ids: list[int], error: str) -> None:
        with self.state.transaction() as con:
            con.executemany("UPDATE notify_outbox SET status = 'failed', last_error = ? WHERE id = ?",
                            [(error, i) for i in ids])

    def newest_event_ts(self, kind: str) -> str | None:
        """The event time of the newest queued event of `kind` (where notifying it left off)."""
        rows = self.state.query("SELECT event FROM notify_outbox WHERE kind = ? ORDER BY id DESC LIMIT 1", (kind,))
        return json.loads(rows[0][0]).get("ts") if rows else None

    def count(self, status: str) -> int:
        return int(self.state.query("SELECT count(*) FROM notify_outbox WHERE status = ?", (status,))[0][0])

    def next_due(self) -> str | None:
        row = self.state.query("SELECT min(next_try_at) FROM notify_outbox WHERE status = 'pending'")
        return row[0][0] if row else None

    def frame(self, status: str | None = None, limit: int = 200) -> pl.DataFrame:
        """The outbox, newest first: id, ts, channel, kind, recipient, status, attempts, last_error, sent_at."""
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        return self.state.frame(
            f"SELECT id, ts, channel, kind, recipient, status, attempts, last_error, sent_at FROM notify_outbox "
            f"{where} ORDER BY id DESC LIMIT {int(limit)}", params,
            schema={"id": pl.Int64, "ts": pl.String, "channel": pl.String, "kind": pl.String,
                    "recipient": pl.String, "status": pl.String, "attempts": pl.Int64, "last_error": pl.String,
                    "sent_at": pl.String})

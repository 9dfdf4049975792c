"""The usage log: one usage event per product a governed query read (table `usage_events`).

This module is the only reader and writer of `usage_events`: sessions record events here, usage metrics and
`mesh.usage()` read them back as one polars frame.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from catalog.state.store import StateStore, utc_now

TABLE = "usage_events"

SCHEMA = {"ts": pl.String, "user": pl.String, "role": pl.String, "product_id": pl.String, "rows": pl.Int64,
          "duration_ms": pl.Float64, "status": pl.String, "query_id": pl.String, "consumer_domain": pl.String}


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
    ts: str | None = None  # ISO-8601 UTC; None = when it is recorded


class UsageLog:
    """`record` usage events and read them back with `frame`."""

    def __init__(self, state: StateStore):
        self.state = state

    def record(self, events: Sequence[UsageEvent], con: sqlite3.Connection | None = None) -> None:
        """Append `events` in one transaction (or inside the caller's, given its connection `con`)."""
        if not events:
            return
        now = utc_now()
        rows = [(e.ts or now, e.user, e.role, e.product_id, e.rows, e.duration_ms, e.status, e.query_id,
                 e.consumer_domain) for e in events]
        sql = ("INSERT INTO usage_events (ts, user, role, product_id, rows, duration_ms, status, query_id, "
               "consumer_domain) VALUES (?,?,?,?,?,?,?,?,?)")
        if con is not None:
            con.executemany(sql, rows)
            return
        with self.state.transaction() as own:
            own.executemany(sql, rows)

    def frame(self, product_id: str | None = None) -> pl.DataFrame:
        """Every event (of one product), oldest first; `ts` as a UTC datetime."""
        where, params = ("WHERE product_id = ?", (product_id,)) if product_id else ("", ())
        frame = self.state.frame(f"SELECT ts, user, role, product_id, rows, duration_ms, status, query_id, "
                                 f"consumer_domain FROM usage_events {where} ORDER BY ts", params, SCHEMA)
        return frame.with_columns(pl.col("ts").str.to_datetime(time_zone="UTC"))

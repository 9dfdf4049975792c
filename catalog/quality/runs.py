"""The stored quality runs: one row per run of a product's checks, with its score and results (`quality_runs`).

This module is the only reader and writer of `quality_runs`. A run reads back as a dict: ts, product_id,
version, fingerprint, score, complete, duration_ms and results (the check results as stored, a list of dicts).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from catalog.state.store import StateStore, utc_now

TABLE = "quality_runs"

_COLUMNS = "ts, product_id, version, fingerprint, score, complete, duration_ms, results"


@dataclass(frozen=True)
class QualityRun:
    """A run to store; `ts` None means now."""

    product_id: str
    version: str | None
    fingerprint: str | None
    score: float | None
    complete: bool
    duration_ms: float | None
    results: list[dict[str, Any]] = field(default_factory=list)
    ts: str | None = None


def _read(row: tuple[Any, ...]) -> dict[str, Any]:
    return {"ts": row[0], "product_id": row[1], "version": row[2], "fingerprint": row[3], "score": row[4],
            "complete": bool(row[5]), "duration_ms": row[6], "results": json.loads(row[7])}


class QualityRuns:
    """Store runs (`record`, `record_many`) and read them back: newest first, oldest first, latest per product."""

    def __init__(self, state: StateStore):
        self.state = state

    def record(self, product_id: str, version: str | None, fingerprint: str | None, score: float | None,
               complete: bool, duration_ms: float | None, results: list[dict[str, Any]],
               ts: str | None = None) -> None:
        """Store one run."""
        self.record_many([QualityRun(product_id, version, fingerprint, score, complete, duration_ms, results, ts)])

    def record_many(self, runs: Sequence[QualityRun], con: sqlite3.Connection | None = None) -> None:
        """Store `runs` in one transaction (or inside the caller's, given its connection `con`)."""
        if not runs:
            return
        now = utc_now()
        encoded: dict[int, str] = {}  # runs sharing one results list (a sample's history) encode it once
        rows = [(r.ts or now, r.product_id, r.version, r.fingerprint, r.score, int(r.complete), r.duration_ms,
                 encoded.get(id(r.results)) or encoded.setdefault(id(r.results), json.dumps(r.results, default=str)))
                for r in runs]
        sql = f"INSERT INTO quality_runs ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)"
        if con is not None:
            con.executemany(sql, rows)
            return
        with self.state.transaction() as own:
            own.executemany(sql, rows)

    def runs(self, product_id: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Stored runs (of one product), newest first; at most `limit`."""
        where, params = ("WHERE product_id = ?", (product_id,)) if product_id else ("", ())
        tail = f"LIMIT {int(limit)}" if limit else ""
        return [_read(r) for r in self.state.query(
            f"SELECT {_COLUMNS} FROM quality_runs {where} ORDER BY ts DESC, id DESC {tail}", params)]

    def history(self, product_id: str | None = None) -> list[dict[str, Any]]:
        """Stored runs (of one product), oldest first."""
        where, params = ("WHERE product_id = ?", (product_id,)) if product_id else ("", ())
        return [_read(r) for r in self.state.query(
            f"SELECT {_COLUMNS} FROM quality_runs {where} ORDER BY ts, id", params)]

    def latest(self) -> dict[str, dict[str, Any]]:
        """Product id -> its latest run, in product id order."""
        rows = self.state.query(
            f"SELECT {_COLUMNS} FROM ("
            " SELECT *, row_number() OVER (PARTITION BY product_id ORDER BY ts DESC, id DESC) AS n FROM quality_runs"
            ") AS ranked WHERE n = 1 ORDER BY product_id")
        return {r[1]: _read(r) for r in rows}

    def latest_at(self, product_id: str, ts: str) -> dict[str, Any] | None:
        """The product's newest run stored at or before `ts` (ISO-8601 UTC), or None."""
        rows = self.state.query(f"SELECT {_COLUMNS} FROM quality_runs WHERE product_id = ? AND ts <= ? "
                                "ORDER BY ts DESC, id DESC LIMIT 1", (product_id, ts))
        return _read(rows[0]) if rows else None

"""The one owner of `monitor_state` (when each product was last monitored, on which data version) and
`monitor_volumes` (its row count per data version, the history a volume anomaly is judged against)."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.state.store import StateStore


@dataclass(frozen=True)
class Watched:
    product_id: str
    checked_at: str
    fingerprint: str | None
    run_ts: str | None


class MonitorState:
    def __init__(self, state: StateStore):
        self.state = state

    def load(self) -> dict[str, Watched]:
        return {r[0]: Watched(*r) for r in self.state.query(
            "SELECT product_id, checked_at, fingerprint, run_ts FROM monitor_state")}

    def save(self, watched: list[Watched], volumes: list[tuple[str, str, str | None, int]]) -> None:
        """Record one pass: each product's new state, and (ts, product, data version, rows) of new versions."""
        with self.state.transaction() as con:
            con.executemany("INSERT OR REPLACE INTO monitor_state (product_id, checked_at, fingerprint, run_ts) "
                            "VALUES (?,?,?,?)", [(w.product_id, w.checked_at, w.fingerprint, w.run_ts) for w in watched])
            con.executemany("INSERT INTO monitor_volumes (ts, product_id, fingerprint, rows) VALUES (?,?,?,?)",
                            volumes)

    def volumes(self, keep: int) -> dict[str, list[tuple[str | None, int]]]:
        """Product -> its newest `keep` (data version, rows), oldest first."""
        out: dict[str, list[tuple[str | None, int]]] = {}
        for pid, fingerprint, rows in self.state.query(
                "SELECT product_id, fingerprint, rows FROM (SELECT product_id, fingerprint, rows, id, row_number() "
                "OVER (PARTITION BY product_id ORDER BY id DESC) AS n FROM monitor_volumes) AS newest WHERE n <= ? "
                "ORDER BY product_id, id", (int(keep),)):
            out.setdefault(pid, []).append((fingerprint, int(rows)))
        return out

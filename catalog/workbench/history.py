"""One person's recent workbench queries (text, role, rows, time, status), in the state store: every app server
over one store shows the same history, so a person sent to another replica keeps theirs.

Each run is one row of `workbench_history`, committed before `add` returns. A history still kept by an older
version as the JSON-lines file `notebooks/<user>/history.jsonl` of this host's state folder is carried into the
store the first time this person's history is used here (under the store's write lock, once per host and file;
the file is then renamed `history.jsonl.imported`).
"""

from __future__ import annotations

import json
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.errors import MeshError, StateUnavailable
from catalog.state.store import StateStore
from catalog.workbench.notebook import NotebookStore  # the per-person folder (an older version's file)

if TYPE_CHECKING:
    from catalog.query.session import QueryResult, Session

MAX_KEPT = 500  # newest runs kept per person
FILE = "history.jsonl"
COLUMNS = "ts, role, status, rows, duration_ms, sql_text"


class QueryHistory:
    """`state` is the mesh's store, which the facade passes (`mesh.query_history(user)`) and closes with the
    mesh; `state_dir` is where an older version kept this person's history file."""

    MAX_KEPT = MAX_KEPT

    def __init__(self, state_dir: Path, user: str, state: StateStore):
        self.user = NotebookStore(state_dir, user).user
        self.path = NotebookStore(state_dir, user).folder / FILE
        self.state = state
        self._carried = False

    def add(self, sql: str, role: str, rows: int | None, duration_ms: float | None, status: str) -> None:
        """Record one run (committed when this returns); only this person's newest MAX_KEPT are kept."""
        self._carry_over()
        with self.state.transaction() as con:
            con.execute("INSERT INTO workbench_history (ts, user, role, status, rows, duration_ms, sql_text) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (_now(), self.user, role, status, rows,
                         round(duration_ms, 1) if duration_ms is not None else None, sql.strip()))
            con.execute("DELETE FROM workbench_history WHERE user = ? AND id <= (SELECT id FROM workbench_history "
                        "WHERE user = ? ORDER BY id DESC LIMIT 1 OFFSET ?)", (self.user, self.user, MAX_KEPT))

    def run(self, session: Session, sql: str, max_rows: int | None) -> QueryResult | MeshError:
        """Run `sql` in the governed session and record it whatever happens: the result, or the refusal or
        failure (returned, not raised, so a notebook of cells can show each cell's own outcome). A history the
        store cannot take (its database lost) does not hide the result: it carries a warning saying so."""
        try:
            result = session.run(sql, max_rows=max_rows)
        except MeshError as exc:
            try:
                self.add(sql, session.role, None, None, type(exc).__name__)
            except StateUnavailable:
                pass  # the refusal or error is what the person needs to see
            return exc
        try:
            self.add(sql, session.role, result.total_rows, result.duration_ms, "ok")
        except StateUnavailable as exc:
            result.warnings.append(f"This run is not in your query history: {exc}")
        return result

    def recent(self, limit: int = 50) -> list[dict]:
        """This person's newest runs, newest first."""
        self._carry_over()
        rows = self.state.query(f"SELECT {COLUMNS} FROM workbench_history WHERE user = ? ORDER BY id DESC LIMIT ?",
                                (self.user, int(limit)))
        return [{"ts": ts, "role": role, "status": status, "rows": n, "duration_ms": ms, "sql": text}
                for ts, role, status, n, ms, text in rows]

    def _carry_over(self) -> None:
        """Move this host's older history file into the store, once (a meta key names host and file)."""
        if self._carried:
            return
        if self.path.is_file():
            marker = f"workbench_history_file:{socket.gethostname()}:{self.path.resolve()}"
            with self.state.transaction() as con:
                if self.state.meta(marker, con) is None:
                    entries = _read_file(self.path)
                    con.executemany("INSERT INTO workbench_history (ts, user, role, status, rows, duration_ms, "
                                    "sql_text) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                    [(e.get("ts") or _now(), self.user, e.get("role") or "", e.get("status") or "ok",
                                      e.get("rows"), e.get("duration_ms"), e.get("sql") or "")
                                     for e in entries[-MAX_KEPT:]])
                    self.state.set_meta(marker, _now(), con)
            try:
                self.path.rename(self.path.with_name(FILE + ".imported"))
            except OSError:
                pass  # another process here renamed it first; the marker keeps it from being read twice
        self._carried = True


def _read_file(path: Path) -> list[dict]:
    """The file's entries, oldest first; a line cut short by a crash is skipped."""
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("sql"), str):
            out.append(entry)
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

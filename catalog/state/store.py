"""Runtime state of a mesh (usage events, quality runs, grants, reviews ...): one SQLite file in WAL mode,
or, for several app servers sharing one state, a PostgreSQL database (`url`, see `catalog.state.location`).

SQLite's journal makes each write atomic, so a crash mid-write loses nothing that
was committed; WAL plus a busy timeout lets several app sessions and the CLI write
at once. The store lives in the state folder, never among the descriptors.
On PostgreSQL (`catalog.state.postgres`) the same schema and the same SQL text run through a connection pool;
`catalog.state.dialect` translates what differs. Either way a write is committed before `transaction()` returns.
The store is the connection: the schema is `catalog.state.migrations`, and each table is read and written
by its one owner module (`migrations.OWNERS`), which receives this store. The store owns only `meta`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl

from catalog.state import migrations
from catalog.state.postgres import PostgresDatabase


def iso(moment: datetime) -> str:
    """A moment as the ISO-8601 UTC text every state table stores its timestamps in (milliseconds, `+00:00`):
    one format, so both backends compare stored times as text correctly."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def utc_now() -> str:
    """Now, as stored text."""
    return iso(datetime.now(timezone.utc))


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
    """One SQLite file per mesh; safe to open from many threads and processes.

    `seed`, when given, runs once per process right after the store is first opened and migrated, before any
    caller reads: the facade passes the sample history's seeder, which itself decides (a `meta` key) whether
    this file still needs it, so a sample's history is written when its state is created, never by a read.
    """

    def __init__(self, directory: Path, seed: Callable[[StateStore], object] | None = None, url: str | None = None):
        self.directory = Path(directory)
        self.path = self.directory / "state.sqlite"
        self.url = url or None
        self.backend = "postgresql" if self.url else "sqlite"
        self._pg: Any = None
        self._local = threading.local()
        self._seed = seed
        self._ready = False
        self._opening = False
        self._open_lock = threading.RLock()

    def _postgres(self) -> Any:
        """The PostgreSQL database, opened and migrated (and seeded) on first use."""
        if self._pg is None:
            with self._open_lock:
                if self._pg is None:
                    self._pg = PostgresDatabase(self.url or "")
        if not self._ready:
            self._open(None)
        return self._pg

    def _connect(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            con.execute("PRAGMA busy_timeout=30000")
            _use_wal(con)
            con.execute("PRAGMA synchronous=NORMAL")
            self._local.con = con
        if not self._ready:
            self._open(con)
        return con

    def _open(self, con: sqlite3.Connection | None) -> None:
        """Migrate, then seed; other threads wait, the seeder's own calls (same thread) pass through."""
        with self._open_lock:
            if self._ready or self._opening:
                return
            self._opening = True
            try:
                if con is None:
                    self._pg.migrate()
                else:
                    con.execute("BEGIN IMMEDIATE")
                    try:
                        migrations.apply(con)
                        con.execute("COMMIT")
                    except BaseException:
                        con.execute("ROLLBACK")
                        raise
                if self._seed is not None:
                    self._seed(self)
                self._ready = True
            finally:
                self._opening = False

    def open(self) -> StateStore:
        """Connect and migrate now (the app and CLI call this at start-up, so an unreachable state database is
        an error at once, naming its URL, rather than at the first read)."""
        if self.url:
            self._postgres()
        else:
            self._connect()
        return self

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; retried by SQLite's busy timeout under contention. On PostgreSQL: BEGIN,
        the store's write lock, COMMIT; the connection given speaks the same SQL (`catalog.state.dialect`)."""
        if self.url:
            with self._postgres().transaction() as pg:
                yield pg
            return
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

    def _read(self, sql: str, params: tuple[Any, ...]) -> tuple[list[str], list[tuple[Any, ...]]]:
        if self.url:
            return self._postgres().read(sql, params)
        cursor = self._connect().execute(sql, params)
        return [d[0] for d in cursor.description or ()], cursor.fetchall()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self._read(sql, params)[1]

    def tables(self) -> set[str]:
        """The tables the store holds (the owned ones, once migrated)."""
        if self.url:
            return self._postgres().tables()
        return {row[0] for row in self.query("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not row[0].startswith("sqlite_")}

    def revision(self, *tables: str) -> tuple[object, ...]:
        """The newest row id of each table (None while it is empty or not created yet). Ids only grow, so this
        changes exactly when a row is stored: a cheap key for caches of what is read from these tables. A table
        updated in place (`migrations.REPLACED_IN_PLACE`) is stamped (rows, newest timestamp) instead. It is
        read from the store, so on a shared PostgreSQL state a row another server stored moves it too."""
        present = self.tables() & set(tables)
        if not present:
            return tuple(None for _ in tables)
        in_place = sorted(present & set(migrations.REPLACED_IN_PLACE))
        grown = sorted(present - set(in_place))
        newest: dict[str, object] = {}
        if grown:
            union = " UNION ALL ".join(f"SELECT '{t}', max(id) FROM \"{t}\"" for t in grown)
            newest.update(self.query(union))
        for table in in_place:
            stamp = migrations.REPLACED_IN_PLACE[table]
            rows, latest = self.query(f'SELECT count(*), max("{stamp}") FROM "{table}"')[0]
            newest[table] = (rows, latest) if rows else None
        return tuple(newest.get(table) for table in tables)

    def frame(self, sql: str, params: tuple[Any, ...] = (), schema: dict[str, Any] | None = None) -> pl.DataFrame:
        names, rows = self._read(sql, params)
        return pl.DataFrame(rows, schema=schema or names, orient="row")

    # ------------------------------------------------------------------ meta (facts about the store itself)

    def meta(self, key: str, con: sqlite3.Connection | None = None) -> str | None:
        """The value stored under `key` in `meta`, or None; `con` reads inside a caller's transaction."""
        if con is not None:
            row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        else:
            row = next(iter(self.query("SELECT value FROM meta WHERE key = ?", (key,))), None)
        return row[0] if row else None

    def set_meta(self, key: str, value: str, con: sqlite3.Connection | None = None) -> None:
        """Store `value` under `key`; `con` writes inside a caller's transaction (else in one of its own)."""
        if con is not None:
            con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
            return
        with self.transaction() as own:
            own.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()
            self._pg = None
            self._ready = False
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

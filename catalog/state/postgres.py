"""The state store on PostgreSQL: a psycopg 3 connection pool, writes serialised as SQLite serialises them.

Several app servers share one database, so each write transaction first takes a transaction-scoped advisory
lock of the store's schema: writers queue as they do on SQLite's one write lock, and the owner modules' read-
then-write steps (one pending request per user, a change recorded once) stay correct across processes. The
transaction is committed before `transaction()` returns, so a write the caller saw succeed is durable. The
migrations run once under a session advisory lock, by whichever process gets it first; the others wait, then
find nothing pending. A database that cannot be reached raises `StateUnavailable`, naming the URL with its
password hidden; the pool checks each connection before lending it, so the store recovers by itself once the
database is back.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types.numeric import FloatLoader
from psycopg_pool import ConnectionPool, PoolTimeout

from catalog.errors import StateUnavailable
from catalog.state import dialect, migrations

CONNECT_TIMEOUT_S = 5
POOL_SIZE = 8
_DDL = re.compile(r"^\s*(CREATE|ALTER|DROP)\b", re.IGNORECASE)
_LOCK = "hashtext('meshwork-state:' || current_schema())"


def hide_password(url: str) -> str:
    """`url` as it may be shown: the password, if any, replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


class _BoolAsInt(Dumper):
    """Python bools into the integer columns SQLite stored them in (`complete`, flags), as 1 and 0."""
    oid = psycopg.adapters.types["int8"].oid
    format = Format.TEXT

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


def _configure(con: psycopg.Connection) -> None:
    con.adapters.register_dumper(bool, _BoolAsInt)
    con.adapters.register_loader("numeric", FloatLoader)  # avg() and sum() come back as floats, as on SQLite


class Cursor:
    """What an owner module gets back from `execute` inside a transaction: the rows, `rowcount`, and
    `lastrowid` (the id an INSERT returned), as a sqlite3 cursor offers them."""

    def __init__(self, cursor: psycopg.Cursor, returns_id: bool):
        self._cursor = cursor
        self.lastrowid: int | None = None
        self.rowcount = cursor.rowcount
        if returns_id:
            row = cursor.fetchone()
            self.lastrowid = int(row[0]) if row else None

    @property
    def description(self) -> Any:
        return self._cursor.description

    def fetchone(self) -> tuple[Any, ...] | None:
        return None if self.lastrowid is not None else self._cursor.fetchone()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [] if self.lastrowid is not None else self._cursor.fetchall()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.fetchall())


class Connection:
    """A pooled connection inside one write transaction, speaking the store's one SQL text."""

    def __init__(self, con: psycopg.Connection, url: str):
        self._con = con
        self._url = url

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if _DDL.match(sql):  # the migrations' statements (no owner module runs DDL)
            with _unavailable(self._url):
                cursor = None
                for translated in dialect.postgres_ddl(sql):
                    cursor = self._con.execute(translated)
                return Cursor(cursor, False)  # type: ignore[arg-type]
        statement = dialect.postgres(sql)
        with _unavailable(self._url):
            return Cursor(self._con.execute(statement.sql, tuple(params)), statement.returns_id)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        statement = dialect.postgres(sql, many=True)
        with _unavailable(self._url):
            cursor = self._con.cursor()
            cursor.executemany(statement.sql, [tuple(r) for r in rows])
            return Cursor(cursor, False)


ReadOnly = psycopg.errors.ReadOnlySqlTransaction


@contextmanager
def _unavailable(url: str) -> Iterator[None]:
    """Connection failures as `StateUnavailable` naming the database; SQL errors pass through unchanged."""
    try:
        yield
    except psycopg.errors.ReadOnlySqlTransaction as exc:  # a standby, or a database set read-only
        raise StateUnavailable(f"the state database {hide_password(url)} cannot be written: it is read-only") from exc
    except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
        if isinstance(exc, psycopg.errors.QueryCanceled) or getattr(exc, "sqlstate", None) == "40P01":
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StateUnavailable(f"the state database {hide_password(url)} cannot be reached: {reason}") from exc


class PostgresDatabase:
    """One pool per store; `read` and `transaction` lend a connection from it."""

    def __init__(self, url: str, pool_size: int = POOL_SIZE):
        self.url = url
        with _unavailable(url):  # a clear error at start-up, before any pool retries quietly
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        self._pool_size = pool_size
        self._renew = threading.Lock()
        self._renew_before_write = False
        self._pool = self._new_pool()

    def _new_pool(self) -> ConnectionPool:
        return ConnectionPool(self.url, min_size=1, max_size=self._pool_size, open=True, timeout=CONNECT_TIMEOUT_S,
                              kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                              configure=_configure, check=ConnectionPool.check_connection,
                              reconnect_timeout=24 * 3600, name="meshwork-state")

    @contextmanager
    def _lend(self) -> Iterator[psycopg.Connection]:
        """A pooled connection. After an outage the pool retries with growing pauses; if it has none to lend
        but the database answers again, a fresh pool replaces it, so the store recovers at once."""
        pool = self._pool
        try:
            con = pool.getconn()
        except PoolTimeout:
            psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT_S).close()  # still down: raises, reported
            with self._renew:
                if self._pool is pool:
                    self._pool = self._new_pool()
                    pool.close(timeout=0)
                pool = self._pool
            con = pool.getconn()
        try:
            yield con
        except Exception as exc:
            # connections made while the database was read-only (a standby, a database set read-only) stay so
            # after it is writable again: this one is dropped, and the next write starts from a fresh pool
            if isinstance(exc, ReadOnly) or isinstance(exc.__cause__, ReadOnly):
                con.close()
                self._renew_before_write = True
            raise
        finally:
            pool.putconn(con)

    def read(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of one statement run outside any transaction (autocommit)."""
        statement = dialect.postgres(sql)
        with _unavailable(self.url), self._lend() as con:
            cursor = con.execute(statement.sql, tuple(params))
            names = [column.name for column in cursor.description or ()]
            return names, cursor.fetchall() if cursor.description else []

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """BEGIN; the store's write lock; the caller's statements; COMMIT (ROLLBACK on any error)."""
        if self._renew_before_write:  # the last write found the database read-only: maybe it is writable now
            with self._renew:
                if self._renew_before_write:
                    old, self._pool, self._renew_before_write = self._pool, self._new_pool(), False
                    old.close(timeout=0)
        with _unavailable(self.url), self._lend() as con, con.transaction():
            con.execute(f"SELECT pg_advisory_xact_lock({_LOCK})")
            yield Connection(con, self.url)

    def migrate(self) -> int:
        """Run the pending migrations once, under the schema's session advisory lock; returns how many ran."""
        with _unavailable(self.url), self._lend() as con:
            con.execute(f"SELECT pg_advisory_lock({_LOCK})")
            try:
                with con.transaction():
                    return migrations.apply(Connection(con, self.url))  # type: ignore[arg-type]
            finally:
                con.execute(f"SELECT pg_advisory_unlock({_LOCK})")

    def tables(self) -> set[str]:
        return {row[0] for row in self.read("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = current_schema()")[1]}

    def close(self) -> None:
        self._pool.close()

"""A PostgreSQL table, read through DuckDB's postgres scanner (read-only) on a bridge connection.

A role's DuckDB connection runs with external access switched off (so user SQL can reach no file and no
network), and DuckDB refuses to attach PostgreSQL once that is off. So each PostgreSQL database is
attached lazily, on the first query that names one of its products, on a separate *bridge* connection
that no user SQL ever reaches; the product's rows are handed to the role connection as Arrow. The attach
and each read are bounded: libpq's `connect_timeout` and a timer that abandons a call past the caller's
time limit, so a database that does not answer breaks only the products that read it.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import duckdb
import pyarrow as pa
from sqlglot import exp

from catalog.descriptors.dsn import expand as expand_dsn
from catalog.descriptors.dsn import redact as redact_dsn
from catalog.descriptors.dsn import scrub
from catalog.errors import SourceUnavailable
from catalog.descriptors.model import DataProduct
from catalog.sources.context import SourceContext, string_literal

CONNECT_TIMEOUT_S = 10.0  # without a caller's limit
RETRY_AFTER_S = 30.0  # an unreachable database is not tried again by every query
FRESH_S = 0.0  # rows read within this long are reused (0: every query reads the database now)


def dsn_of(product: DataProduct) -> str:
    """The connection string with ${MESHWORK_...} expanded (catalog.descriptors.dsn), so secrets stay out of descriptors."""
    return expand_dsn(product.source.dsn)


def redact(text: str) -> str:
    return redact_dsn(text)


def with_connect_timeout(dsn: str, seconds: float) -> str:
    """`dsn` with libpq's connect_timeout set (whole seconds, at least 2: libpq's minimum)."""
    value = max(2, math.ceil(seconds))
    if "://" in dsn:
        return f"{dsn}{'&' if '?' in dsn else '?'}connect_timeout={value}"
    return f"{dsn} connect_timeout={value}"


def relation(product: DataProduct, ctx: SourceContext) -> exp.Select:
    """The SELECT a bridge connection runs for the product's rows."""
    table = exp.table_(product.source.table, db=product.source.db_schema, catalog="pg", quoted=True)
    return exp.select("*").from_(table)


def arrow_name(product: DataProduct) -> str:
    return f"__meshwork_pg__{product.id.replace('.', '__')}"


def fingerprint(product: DataProduct, ctx: SourceContext) -> str | None:
    return None  # a live database gives no cheap change marker; results are never cached


def _bounded(call: Callable[[], Any], seconds: float, on_timeout: Callable[[], None], what: str) -> Any:
    """Run `call` in a worker thread; past `seconds`, interrupt and give up (the worker ends on its own)."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the caller
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="meshwork-postgres", daemon=True).start()
    if not done.wait(seconds):
        on_timeout()
        raise SourceUnavailable(f"{what} did not answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass
class _Database:
    con: duckdb.DuckDBPyConnection | None = None
    alias: str = "pg"
    failed: str = ""
    failed_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Bridge:
    """The engine's PostgreSQL connections (one bridge per database), attached on first use."""

    def __init__(self, memory_limit: str, threads: int, load_extension: Callable[[duckdb.DuckDBPyConnection, str], None]):
        self.memory_limit = memory_limit
        self.threads = threads
        self.load_extension = load_extension
        self._lock = threading.Lock()
        self._databases: dict[str, _Database] = {}
        self._rows: dict[str, tuple[float, pa.Table]] = {}

    def _database(self, dsn: str) -> _Database:
        with self._lock:
            return self._databases.setdefault(dsn, _Database())

    def rows(self, product: DataProduct, timeout_s: float | None = None) -> pa.Table:
        """The product's rows now (read at most FRESH_S ago); SourceUnavailable says why not, within timeout_s."""
        cached = self._rows.get(product.id)
        if cached is not None and time.monotonic() - cached[0] < FRESH_S:
            return cached[1]
        seconds = timeout_s if timeout_s is not None else CONNECT_TIMEOUT_S
        dsn = dsn_of(product)
        database = self._database(dsn)
        shown = redact(dsn)
        if not database.lock.acquire(timeout=seconds):
            raise SourceUnavailable(f"{product.id}: PostgreSQL at {shown} is busy with another read past "
                                    f"{seconds:g} s")
        try:
            if database.failed and time.monotonic() - database.failed_at < RETRY_AFTER_S:
                raise SourceUnavailable(database.failed)
            started = time.monotonic()
            try:
                if database.con is None:
                    database.con = self._attach(product, dsn, seconds)
                left = max(0.5, seconds - (time.monotonic() - started))
                table = self._read(database, product, left)
            except SourceUnavailable as exc:
                database.failed = f"{product.id}: cannot reach PostgreSQL at {shown}: {exc}"
                database.failed_at = time.monotonic()
                self._drop(database)
                raise SourceUnavailable(database.failed) from None
            except duckdb.Error as exc:
                message = scrub(str(exc), product.source.dsn, dsn)
                if database.con is None:
                    database.failed, database.failed_at = (f"{product.id}: cannot reach PostgreSQL at {shown}: "
                                                           f"{message}"), time.monotonic()
                    raise SourceUnavailable(database.failed) from None
                raise SourceUnavailable(f"{product.id}: cannot read its postgres source: {message}") from None
            database.failed = ""
            self._rows[product.id] = (time.monotonic(), table)
            return table
        finally:
            database.lock.release()

    def _attach(self, product: DataProduct, dsn: str, seconds: float) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(":memory:", config={"threads": self.threads, "memory_limit": self.memory_limit,
                                                 "autoinstall_known_extensions": False,
                                                 "autoload_known_extensions": False})
        self.load_extension(con, "postgres_scanner")
        statement = exp.Attach(
            this=exp.alias_(string_literal(with_connect_timeout(dsn, seconds)), "pg"),
            expressions=[exp.AttachOption(this=exp.var("TYPE"), expression=exp.var("postgres")),
                         exp.AttachOption(this=exp.var("READ_ONLY"))])
        try:
            _bounded(lambda: con.execute(statement.sql("duckdb")), seconds, con.interrupt, "the database")
        except duckdb.Error:
            con.close()  # refused at once (a timed-out attach is left to end on its own)
            raise
        con.execute("SET enable_external_access = false")  # the bridge itself reads no file either
        con.execute("SET lock_configuration = true")
        return con

    def _read(self, database: _Database, product: DataProduct, seconds: float) -> pa.Table:
        con = database.con
        assert con is not None
        sql = relation(product, SourceContext(root=product.path, load_extension=lambda _: None)).sql("duckdb")
        cursor = con.cursor()
        return _bounded(lambda: cursor.execute(sql).to_arrow_table(), seconds, cursor.interrupt, "the database")

    def _drop(self, database: _Database) -> None:
        database.con = None  # a hung call may still hold it; it is closed when that call ends

    def close(self) -> None:
        with self._lock:
            for database in self._databases.values():
                if database.con is not None and database.lock.acquire(timeout=1):
                    try:
                        database.con.close()
                    finally:
                        database.con = None
                        database.lock.release()
            self._databases.clear()
            self._rows.clear()


def reads(product: DataProduct, forbidden: list) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """No file: a live database is read through no path a connection must be allowed."""
    return [], [], {}


def modified_at(product: DataProduct) -> float | None:
    return None  # a live database has no modification time of its own


def keys(product: DataProduct) -> set[str]:
    """What the data is, whatever descriptor names it: the server's table."""
    return {f"pg:{dsn_of(product)}:{str(getattr(product.source, 'table', '')).lower()}"}


def place(product: DataProduct, root: Path) -> tuple[str, str]:
    """(where the data lies, short label): `postgres:<DSN without its password>/<table>` and the table."""
    source = product.source
    table = f"{source.db_schema}.{source.table}" if source.db_schema else source.table
    return f"postgres:{redact(source.dsn)}/{table}", table

"""DuckDB for a mesh: one locked-down in-memory database per role (the default engine).

Each domain is a schema and each product a view named by its id; the view a role
sees masks the PII that role may not read and projects the declared columns only
(catalog/query/role_views.py decides it; this module creates what it is handed). Views
are created lazily, on the first query that names a product, so opening a mesh never
scans data.

Each connection may read only the exact files (and glob folders) its products need,
never the state folder; external access is off and the configuration locked before
any user query runs. PostgreSQL is read through the engine's bridge (sources/postgres.py).
A query runs on a fresh cursor in a worker thread that the time limit interrupts.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from sqlglot import exp

from catalog.access.policy import Policy
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import DataProduct
from catalog.engines.base import RUNNING_FOR, Engine, Record, RoleDatabase, unique_names
from catalog.engines.extensions import load_extension
from catalog.engines.tokens import register_duckdb
from catalog.errors import QueryCancelled, QueryFailed, QueryTimeout, SourceUnavailable
from catalog.sources import adapter_for, extensions, is_live_database
from catalog.sources.context import RAW_CATALOG, SourceContext, raw_table
from catalog.sources.postgres import Bridge, arrow_name
from catalog.text import neutralize_batch

BATCH_ROWS = 65_536
ABANDON_AFTER_S = 1.0  # after the time limit, how long to wait for DuckDB to honour the interrupt
T = TypeVar("T")


def _identifier(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def role_table(product_id: str) -> exp.Table:
    """A product's role view (what user SQL reads) on a role connection."""
    domain, name = product_id.split(".", 1)
    return exp.table_(name, db=domain, catalog="memory", quoted=True)


MASKED_CATALOG = "__meshwork_masked"


def masked_table(product_id: str) -> exp.Table:
    """A product's fully masked view (what a derived product is computed over for a viewer who may not read
    all its inputs' PII), in a hidden catalog user SQL cannot name."""
    domain, name = product_id.split(".", 1)
    return exp.table_(name, db=domain, catalog=MASKED_CATALOG, quoted=True)


def connection_reads(mesh: DeclaredMesh, state_dir: Path, products: set[str] | frozenset[str] | None = None
                     ) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(files, folders, expanded globs) a role connection may read: the sources of `products` (default:
    every product) and of what they are computed from, nothing else; never the state folder."""
    forbidden = [Path(state_dir).resolve()]
    files: list[str] = []
    folders: list[str] = []
    expanded: dict[str, list[str]] = {}
    wanted = set(mesh.products if products is None else products)
    stack = list(wanted)
    while stack:
        for upstream in mesh.upstreams(stack.pop()):
            if upstream not in wanted:
                wanted.add(upstream)
                stack.append(upstream)
    for product in (mesh.products[pid] for pid in sorted(wanted) if pid in mesh.products):
        if product.broken:
            continue
        f, d, e = adapter_for(product.kind).reads(product, forbidden)
        files += f
        folders += d
        expanded.update(e)
    state = str(forbidden[0])
    files = [f for f in dict.fromkeys(files) if not (f == state or f.startswith(state + "/"))]
    return files, list(dict.fromkeys(folders)), expanded


class DuckDBRoleDatabase(RoleDatabase):
    """The in-memory database one viewer's sessions query.

    Raw views live in a hidden catalog, fully masked views in another; the role views user SQL reads are
    `memory.<domain>.<name>`."""

    ERRORS = (duckdb.Error,)
    engine: "DuckDBEngine"

    def __init__(self, engine: "DuckDBEngine", policy: Policy):
        mesh = engine.mesh
        self.raw_ready: set[str] = set()
        self.failures: dict[str, str] = {}
        self.con = duckdb.connect(":memory:", config={
            "threads": mesh.descriptor.threads,
            "memory_limit": mesh.descriptor.memory_limit,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        })
        self.ctx = SourceContext(root=mesh.root, load_extension=self._load_extension,
                                 product_domains={pid: p.domain for pid, p in mesh.products.items()})
        self._loaded_extensions: set[str] = set()
        self._registered: set[str] = set()  # PostgreSQL products whose rows are stored
        super().__init__(engine, policy)
        self._build()

    def _load_extension(self, name: str) -> None:
        if name not in self._loaded_extensions:
            load_extension(self.con, name)
            self._loaded_extensions.add(name)

    def _build(self) -> None:
        con = self.con
        register_duckdb(con, self.engine.salt)
        con.execute(f"ATTACH ':memory:' AS {_identifier(RAW_CATALOG)}")
        con.execute(f"ATTACH ':memory:' AS {_identifier(MASKED_CATALOG)}")
        for domain in self.mesh.domains:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_identifier(RAW_CATALOG)}.{_identifier(domain)}")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_identifier(MASKED_CATALOG)}.{_identifier(domain)}")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS memory.{_identifier(domain)}")
        for name in sorted({e for p in self.mesh.products.values() if not p.broken for e in extensions(p)}):
            self._load_extension(name)
        files, folders, self.ctx.expanded = connection_reads(self.mesh, self.engine.state_dir, self.visible)
        con.execute("SET allowed_paths = $paths", {"paths": files})
        con.execute("SET allowed_directories = $dirs", {"dirs": folders})
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")

    # ---------------------------------------------------------------- primitives of the views

    def prefetch(self, product_ids: set[str], timeout_s: float | None) -> None:
        """PostgreSQL rows are read first, outside the database lock and within `timeout_s`, so a database
        that does not answer delays only the queries that read it."""
        for product_id in sorted(self._postgres_closure(product_ids)):
            rows = self.engine.postgres.rows(self.mesh.product(product_id), timeout_s)
            with self.lock:
                self._store_rows(self.mesh.product(product_id), rows)

    def _postgres_closure(self, product_ids: set[str]) -> set[str]:
        out: set[str] = set()
        stack = list(product_ids)
        while stack:
            product_id = stack.pop()
            product = self.mesh.products.get(product_id)
            if product is None or product.broken:
                continue
            if is_live_database(product):
                out.add(product_id)
            stack += self.mesh.upstreams(product_id)
        return out

    def raw(self, product: DataProduct) -> exp.Expression:
        self._create_raw(product)
        return raw_table(product.id)

    def _create_raw(self, product: DataProduct) -> None:
        if product.id in self.raw_ready:
            return
        if product.id in self.failures:
            raise SourceUnavailable(self.failures[product.id])
        if product.broken:
            raise SourceUnavailable(f"{product.id} is broken: {self.mesh.problem_summary(product.id)}")
        for upstream in sorted(self.mesh.upstreams(product.id)):
            self._create_raw(self.mesh.product(upstream))
        if is_live_database(product):
            if product.id not in self._registered:
                self._store_rows(product, self.engine.postgres.rows(product))
            self.raw_ready.add(product.id)
            return
        adapter = adapter_for(product.kind)
        try:
            if hasattr(adapter, "attach"):
                adapter.attach(self.con, product, self.ctx)
            select = adapter.relation(product, self.ctx)
            target = raw_table(product.id).sql("duckdb")
            self.con.execute(f"CREATE OR REPLACE VIEW {target} AS {select.sql('duckdb')}")
        except duckdb.Error as exc:
            message = f"{product.id}: cannot read its {product.kind} source: {str(exc).splitlines()[0]}"
            self.failures[product.id] = message
            raise SourceUnavailable(message) from None
        self.raw_ready.add(product.id)

    def _store_rows(self, product: DataProduct, rows: object) -> None:
        """A PostgreSQL product's raw relation: the rows the bridge read, as a table in the raw catalog
        (replaced on each query that names it; queries already running keep the rows they started with)."""
        name = arrow_name(product)
        self.con.register(name, rows)
        try:
            self.con.execute(f"CREATE OR REPLACE TABLE {raw_table(product.id).sql('duckdb')} AS "
                             f"SELECT * FROM {_identifier(name)}")
        finally:
            self.con.unregister(name)
        self._registered.add(product.id)

    def _columns(self, relation: exp.Expression) -> list[str]:
        query = relation if isinstance(relation, exp.Table) else exp.paren(relation, copy=False)
        described = self.con.execute(f"DESCRIBE SELECT * FROM {query.sql('duckdb')}").fetchall()
        return [row[0] for row in described]

    def raw_columns(self, product: DataProduct) -> list[str]:
        return self._columns(raw_table(product.id))

    def derived_source(self, product: DataProduct, over_masked: bool) -> tuple[exp.Expression, list[str]]:
        inner = adapter_for(product.kind).relation(product, self.ctx,
                                                   target=masked_table if over_masked else role_table)
        source = exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier("__derived")))
        return source, self._columns(inner)

    def create_view(self, product_id: str, masked: bool, select: exp.Select) -> None:
        target = (masked_table if masked else role_table)(product_id).sql("duckdb")
        self.con.execute(f"CREATE OR REPLACE VIEW {target} AS {select.sql('duckdb')}")

    def describe_error(self, exc: BaseException) -> str:
        return str(exc).splitlines()[0]

    # ---------------------------------------------------------------- running

    def run(self, products: set[str], sql: str, max_rows: int | None, timeout_s: float, label: str,
            record: Record) -> tuple[pa.Table, int, float]:
        def collect(reader: pa.RecordBatchReader, run: _Run) -> pa.Table:
            batches: list[pa.RecordBatch] = []
            kept = 0
            for batch in reader:
                if run.abandoned:
                    break
                run.rows += batch.num_rows
                if max_rows is None or kept < max_rows:
                    take = batch if max_rows is None else batch.slice(0, max_rows - kept)
                    batches.append(take)
                    kept += take.num_rows
            return pa.Table.from_batches(batches, schema=reader.schema)

        table, total, duration_ms = self._execute(products, sql, collect, timeout_s, label, record)
        return unique_names(table), total, duration_ms

    def export(self, products: set[str], sql: str, path: Path, fmt: str, timeout_s: float, label: str,
               record: Record) -> int:
        """Batches go straight from DuckDB to the file, so memory stays flat whatever the result's size; the
        file appears only once complete (a failed or timed-out export leaves nothing behind)."""
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")

        def write(reader: pa.RecordBatchReader, run: _Run) -> None:
            schema = unique_names(reader.schema.empty_table()).schema
            writer = pq.ParquetWriter(tmp, schema) if fmt == "parquet" else pacsv.CSVWriter(tmp, schema)
            try:
                with writer:
                    for batch in reader:
                        if run.abandoned:
                            raise QueryTimeout("abandoned")
                        out = pa.RecordBatch.from_arrays(batch.columns, schema=schema)
                        writer.write_batch(neutralize_batch(out) if fmt == "csv" else out)
                        run.rows += batch.num_rows
                tmp.replace(path)
            finally:
                tmp.unlink(missing_ok=True)

        _, total, _ = self._execute(products, sql, write, timeout_s, label, record)
        return total

    def _execute(self, products: set[str], sql: str, consume: Callable[[pa.RecordBatchReader, "_Run"], T],
                 timeout_s: float, label: str, record: Record) -> tuple[T, int, float]:
        """Run `sql` on a fresh cursor in a worker thread and `consume` its batches there.

        The time limit interrupts DuckDB; if DuckDB is inside a step it cannot interrupt, the caller still
        gets QueryTimeout on time and the worker finishes (and cleans up) on its own."""
        try:
            self.ensure(products, timeout_s=timeout_s)
        except SourceUnavailable as exc:
            raise QueryFailed(f"A product in this query cannot be read: {exc}") from None
        run = _Run(self.cursor())
        started = time.perf_counter()

        def work() -> None:
            try:
                run.cursor.execute(sql)
                run.result = consume(run.cursor.to_arrow_reader(BATCH_ROWS), run)
            except BaseException as exc:  # handed to the caller's thread
                run.error = exc
            finally:
                run.cursor.close()
                run.done.set()

        worker = threading.Thread(target=work, name=f"meshwork-query-{label}", daemon=True)
        timer = threading.Timer(timeout_s, run.interrupt)
        timer.daemon = True
        cancellation = RUNNING_FOR.get()
        detach = cancellation.attach(run.cancel) if cancellation is not None else None
        if cancellation is not None and cancellation.cancelled:  # cancelled before it started
            run.cancel()
        worker.start()
        timer.start()
        try:
            finished = _wait(run, timeout_s + ABANDON_AFTER_S)
        finally:
            timer.cancel()
            if detach is not None:
                detach()
        duration_ms = (time.perf_counter() - started) * 1000
        if not finished:
            run.abandoned = True
            run.interrupt()
        error = None if finished and run.error is None else (run.error or duckdb.InterruptException("abandoned"))
        status = "ok" if error is None else ("cancelled" if run.cancelled else
                                             "timeout" if run.timed_out or not finished else "error")
        record(run.rows if error is None else 0, duration_ms, status)
        if error is not None:
            if run.cancelled:
                raise QueryCancelled(f"The query was cancelled after {duration_ms / 1000:,.1f} s; "
                                     "nothing it read is shown.") from None
            if run.timed_out or not finished:
                raise QueryTimeout(f"The query ran past the {timeout_s:g} s time limit and was stopped. "
                                   "Filter or aggregate more, or ask for a longer limit.") from None
            if isinstance(error, duckdb.Error):
                raise QueryFailed(f"The query failed: {_first_part(error)}") from None
            raise error
        return run.result, run.rows, duration_ms

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()

    def close(self) -> None:
        self.con.close()


def _wait(run: "_Run", limit_s: float) -> bool:
    """Wait for the run to end, at most `limit_s`; a cancelled run that DuckDB cannot stop is given up
    ABANDON_AFTER_S after the cancel, so Cancel answers within about a second whatever DuckDB does."""
    deadline = time.monotonic() + limit_s
    while not run.done.wait(0.05):
        now = time.monotonic()
        if now >= deadline or (run.cancelled_at is not None and now - run.cancelled_at >= ABANDON_AFTER_S):
            return False
    return True


class _Run:
    """One query in flight: its cursor, progress, and whether the time limit or a cancel stopped it."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection):
        self.cursor = cursor
        self.done = threading.Event()
        self.rows = 0
        self.result: Any = None
        self.error: BaseException | None = None
        self.timed_out = False
        self.abandoned = False
        self.cancelled = False
        self.cancelled_at: float | None = None

    def cancel(self) -> None:
        """Stop the query on request (not the time limit)."""
        self.cancelled, self.cancelled_at = True, time.monotonic()
        self._interrupt_cursor()

    def interrupt(self) -> None:
        self.timed_out = True
        self._interrupt_cursor()

    def _interrupt_cursor(self) -> None:
        if not self.done.is_set():
            try:
                self.cursor.interrupt()
            except duckdb.Error:
                pass  # the cursor finished and closed in the meantime


def _first_part(exc: duckdb.Error) -> str:
    return str(exc).split("\n\nLINE")[0].strip()


class DuckDBEngine(Engine):
    """DuckDB in this process: one locked-down connection per viewer, PostgreSQL through a bridge."""

    name = "duckdb"
    DIALECT = "duckdb"
    STARTS_IN_PROCESS = True
    BITMAP_COUNTS = True

    def __init__(self, mesh: DeclaredMesh, **deps: Any):
        super().__init__(mesh, **deps)
        self.postgres = Bridge(mesh.descriptor.memory_limit, mesh.descriptor.threads, load_extension)

    def new_database(self, policy: Policy) -> RoleDatabase:
        return DuckDBRoleDatabase(self, policy)

    def close(self) -> None:
        super().close()
        self.postgres.close()

"""A governed session: one user, one role, queries vetted, timed out, and counted.

`Session.sql` returns a polars DataFrame; `Session.run` also says how many rows
there were when the result is capped for display; `Session.export` streams the
full result to a file. Every run records one usage event per product it read.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, TypeVar

import duckdb
import polars as pl
import pyarrow as pa

from catalog.query import gate as sandbox
from catalog.query import vetting
from catalog.errors import MeshError, QueryFailed, QueryRejected, QueryTimeout, SourceUnavailable
from catalog.query.usage_log import UsageEvent

if TYPE_CHECKING:
    from catalog.mesh import Mesh

BATCH_ROWS = 65_536
ABANDON_AFTER_S = 1.0  # after the time limit, how long to wait for DuckDB to honour the interrupt
T = TypeVar("T")


@dataclass
class QueryResult:
    frame: pl.DataFrame
    total_rows: int
    truncated: bool
    duration_ms: float
    products: list[str] = field(default_factory=list)

    @property
    def shown_rows(self) -> int:
        return self.frame.height

    def note(self) -> str:
        if self.truncated:
            return f"showing first {self.shown_rows:,} of {self.total_rows:,} rows"
        return f"{self.total_rows:,} rows"

    def _repr_html_(self) -> str:
        return f"<p><small>{self.note()} · {self.duration_ms:.0f} ms</small></p>" + self.frame._repr_html_()


class Session:
    """Runs governed SQL for `user` as `role`; usable from many threads one query at a time."""

    def __init__(self, mesh: "Mesh", role: str, user: str, timeout_s: float = 30.0,
                 consumer_domain: str | None = None):
        self.mesh = mesh
        self.role = role
        self.user = user or "anonymous"
        self.timeout_s = timeout_s
        self.consumer_domain = consumer_domain
        self.database = mesh.engine.database_for(role, self.user)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Session {self.user} as {self.role} on {self.mesh.name}, timeout {self.timeout_s}s>"

    def visible_products(self) -> list[str]:
        return sorted(self.mesh.engine.database_for(self.role, self.user).visible)

    def schema(self) -> pl.DataFrame:
        """One row per column of every product this session may query: what the schema browser and the
        editor's autocomplete show, with how each PII column appears to this role (`masked`, `mask`)."""
        from catalog.query.masking import describe_mask

        database = self.mesh.engine.database_for(self.role, self.user)
        rows = []
        for product_id in sorted(database.visible):
            product = self.mesh.products[product_id]
            unmasked = self.mesh.role_sees_pii(self.role, product) or (product_id, "pii") in database.grants
            for column in product.columns:
                masked = column.pii and not unmasked
                rows.append({"product_id": product_id, "domain": product.domain, "title": product.title,
                             "column": column.name, "type": column.type, "description": column.description,
                             "pii": column.pii, "masked": masked, "mask": describe_mask(column) if masked else ""})
        return pl.DataFrame(rows, schema={"product_id": pl.String, "domain": pl.String, "title": pl.String,
                                          "column": pl.String, "type": pl.String, "description": pl.String,
                                          "pii": pl.Boolean, "masked": pl.Boolean, "mask": pl.String})

    def vet(self, text: str) -> sandbox.VettedQuery:
        # The user's grants are re-resolved on every query: one approved mid-session applies at once,
        # one past its expiry stops applying (and naming its product is a refusal on record).
        self.database = self.mesh.engine.database_for(self.role, self.user)
        return vetting.vet(text, mesh=self.mesh.declared, viewers=self.mesh.viewers, ledger=self.mesh.access,
                           role=self.role, user=self.user, visible=self.database.visible,
                           grants=self.database.grants,
                           dialect="spark" if self.mesh.engine.name == "spark" else "duckdb",
                           deadline=time.monotonic() + self.timeout_s)

    def sql(self, text: str) -> pl.DataFrame:
        """Run one governed query and return the whole result."""
        return self.run(text, max_rows=None).frame

    def run(self, text: str, max_rows: int | None = 1000) -> QueryResult:
        """Run one governed query; keep at most `max_rows` rows but count them all."""
        vetted = self.vet(text)

        def collect(reader: pa.RecordBatchReader, run: "_Run") -> pa.Table:
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

        table, total, duration_ms = self._execute(vetted, collect)
        frame = pl.from_arrow(_unique_names(table))
        assert isinstance(frame, pl.DataFrame)
        return QueryResult(frame=frame, total_rows=total, truncated=frame.height < total, duration_ms=duration_ms,
                           products=sorted(vetted.products))

    def record_cached(self, text: str, rows: int) -> None:
        """Count a result served from a cache as a read of its products: usage metrics and the access audit
        see every read a person makes, not only the ones that reached the engine. The query is vetted
        again, so a cache never serves what this user may no longer read."""
        self._record(self.vet(text), rows, 0.0, "ok")

    def export(self, text: str, path: str | Path, fmt: str = "csv") -> int:
        """Stream the full result of a governed query to a CSV or Parquet file; returns the row count.

        Batches go straight from DuckDB to the file, so memory stays flat whatever the result's size; the file
        appears only once complete (a failed or timed-out export leaves nothing behind)."""
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        from catalog.text import neutralize_batch  # a spreadsheet opening the CSV runs no formula

        if fmt not in ("csv", "parquet"):
            raise MeshError(f"cannot export as {fmt!r}: choose csv or parquet")
        vetted = self.vet(text)
        path = Path(path)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")

        def write(reader: pa.RecordBatchReader, run: "_Run") -> None:
            schema = _unique_names(reader.schema.empty_table()).schema
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

        _, total, _ = self._execute(vetted, write)
        return total

    # ---------------------------------------------------------------- internals

    def _execute(self, vetted: sandbox.VettedQuery,
                 consume: Callable[[pa.RecordBatchReader, "_Run"], T]) -> tuple[T, int, float]:
        """Run the vetted SQL on a fresh cursor in a worker thread and `consume` its batches there.

        The time limit interrupts DuckDB; if DuckDB is inside a step it cannot interrupt, the caller still
        gets QueryTimeout on time and the worker finishes (and cleans up) on its own. Records usage."""
        refuse_engine_functions(vetted)
        try:
            self.database.ensure(set(vetted.products), timeout_s=self.timeout_s)
        except SourceUnavailable as exc:
            raise QueryFailed(f"A product in this query cannot be read: {exc}") from None
        run = _Run(self.database.cursor())
        sql = vetted.sql or vetted.tree.sql("duckdb")
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

        worker = threading.Thread(target=work, name=f"meshwork-query-{self.user}", daemon=True)
        timer = threading.Timer(self.timeout_s, run.interrupt)
        timer.daemon = True
        worker.start()
        timer.start()
        finished = run.done.wait(self.timeout_s + ABANDON_AFTER_S)
        timer.cancel()
        duration_ms = (time.perf_counter() - started) * 1000
        if not finished:
            run.abandoned = True
            run.interrupt()
        error = None if finished and run.error is None else (run.error or duckdb.InterruptException("abandoned"))
        status = "ok" if error is None else ("timeout" if run.timed_out or not finished else "error")
        self._record(vetted, run.rows if error is None else 0, duration_ms, status)
        if error is not None:
            if run.timed_out or not finished:
                raise QueryTimeout(f"The query ran past the {self.timeout_s:g} s time limit and was stopped. "
                                   "Filter or aggregate more, or ask for a longer limit.") from None
            if isinstance(error, duckdb.Error):
                raise QueryFailed(f"The query failed: {_first_part(error)}") from None
            raise error
        return run.result, run.rows, duration_ms

    def _record(self, vetted: sandbox.VettedQuery, rows: int, duration_ms: float, status: str) -> None:
        query_id = uuid.uuid4().hex[:12]
        events = [UsageEvent(user=self.user, role=self.role, product_id=p, rows=rows, duration_ms=duration_ms,
                             status=status, query_id=query_id, consumer_domain=self.consumer_domain)
                  for p in sorted(vetted.products)]
        self.mesh.usage_log.record(events)
        self.mesh.access.record_use(self.user, self.role, vetted.products, self.database.grants, query_id, status)


class _Run:
    """One query in flight: its cursor, progress, and whether the time limit stopped it."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection):
        self.cursor = cursor
        self.done = threading.Event()
        self.rows = 0
        self.result: Any = None
        self.error: BaseException | None = None
        self.timed_out = False
        self.abandoned = False

    def interrupt(self) -> None:
        self.timed_out = True
        if not self.done.is_set():
            try:
                self.cursor.interrupt()
            except duckdb.Error:
                pass  # the cursor finished and closed in the meantime


def refuse_engine_functions(vetted: sandbox.VettedQuery) -> None:
    """The second wall behind the gate's allow-list: the masking function the views call is never callable
    from user SQL (with it, tokens of guessed values could be computed and matched)."""
    from sqlglot import exp

    from catalog.query.masking import TOKEN_FUNCTION

    for node in vetted.tree.find_all(exp.Anonymous):
        if str(node.name).lower() == TOKEN_FUNCTION:
            raise QueryRejected(f"`{TOKEN_FUNCTION}` is not a function queries may call: it is the masking "
                                "function of the views")


def _first_part(exc: duckdb.Error) -> str:
    return str(exc).split("\n\nLINE")[0].strip()


def _unique_names(table: pa.Table) -> pa.Table:
    """DuckDB allows two result columns with one name (a join's keys); a DataFrame does not: number them
    the way DuckDB names such columns in a table (customer_id, customer_id_1)."""
    seen: set[str] = set()
    names = []
    for name in table.column_names:
        new, n = name, 0
        while new in seen:
            n += 1
            new = f"{name}_{n}"
        seen.add(new)
        names.append(new)
    return table if names == table.column_names else table.rename_columns(names)

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
from typing import TYPE_CHECKING

import duckdb
import polars as pl
import pyarrow as pa

from catalog import sandbox
from catalog.errors import QueryFailed, QueryTimeout, SourceUnavailable
from catalog.state import UsageEvent

if TYPE_CHECKING:
    from catalog.mesh import Mesh

BATCH_ROWS = 65_536


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

    def vet(self, text: str) -> sandbox.VettedQuery:
        # The user's grants are re-resolved on every query: one approved mid-session applies at once,
        # one past its expiry stops applying (and naming its product is a refusal on record).
        self.database = self.mesh.engine.database_for(self.role, self.user)
        return self.mesh.access.vet(text, self.role, self.user, self.database)

    def sql(self, text: str) -> pl.DataFrame:
        """Run one governed query and return the whole result."""
        return self.run(text, max_rows=None).frame

    def run(self, text: str, max_rows: int | None = 1000) -> QueryResult:
        """Run one governed query; keep at most `max_rows` rows but count them all."""
        vetted = self.vet(text)
        started = time.perf_counter()
        batches: list[pa.RecordBatch] = []
        kept = total = 0
        schema = None
        status = "ok"
        try:
            with self._query(vetted) as reader:
                schema = reader.schema
                for batch in reader:
                    total += batch.num_rows
                    if max_rows is None or kept < max_rows:
                        take = batch if max_rows is None else batch.slice(0, max_rows - kept)
                        batches.append(take)
                        kept += take.num_rows
        except BaseException:
            status = "error"
            raise
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            self._record(vetted, total if status == "ok" else 0, duration_ms, status)
        table = pa.Table.from_batches(batches, schema=schema)
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return QueryResult(frame=frame, total_rows=total, truncated=kept < total, duration_ms=duration_ms,
                           products=sorted(vetted.products))

    def export(self, text: str, path: str | Path, fmt: str = "csv") -> int:
        """Stream the full result of a governed query to a CSV or Parquet file; returns the row count."""
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        vetted = self.vet(text)
        started = time.perf_counter()
        total = 0
        status = "ok"
        path = Path(path)
        tmp = path.with_name(path.name + ".partial")
        try:
            with self._query(vetted) as reader:
                writer = (pq.ParquetWriter(tmp, reader.schema) if fmt == "parquet"
                          else pacsv.CSVWriter(tmp, reader.schema))
                with writer:
                    for batch in reader:
                        writer.write_batch(batch)
                        total += batch.num_rows
            tmp.replace(path)
        except BaseException:
            status = "error"
            tmp.unlink(missing_ok=True)
            raise
        finally:
            self._record(vetted, total, (time.perf_counter() - started) * 1000, status)
        return total

    # ---------------------------------------------------------------- internals

    def _query(self, vetted: sandbox.VettedQuery) -> "_RunningQuery":
        try:
            self.database.ensure(set(vetted.products))
        except SourceUnavailable as exc:
            raise QueryFailed(f"A product in this query cannot be read: {exc}") from None
        return _RunningQuery(self, vetted.tree.sql("duckdb"))

    def _record(self, vetted: sandbox.VettedQuery, rows: int, duration_ms: float, status: str) -> None:
        query_id = uuid.uuid4().hex[:12]
        events = [UsageEvent(user=self.user, role=self.role, product_id=p, rows=rows, duration_ms=duration_ms,
                             status=status, query_id=query_id, consumer_domain=self.consumer_domain)
                  for p in sorted(vetted.products)]
        self.mesh.state.record_usage(events)
        self.mesh.access.record_use(self.user, self.role, vetted.products, self.database.grants, query_id, status)


class _RunningQuery:
    """Context manager: a cursor running one query, interrupted when the time limit passes."""

    def __init__(self, session: Session, sql: str):
        self.session = session
        self.sql = sql
        self.cursor: duckdb.DuckDBPyConnection | None = None
        self.timer: threading.Timer | None = None
        self.timed_out = False

    def _interrupt(self) -> None:
        self.timed_out = True
        if self.cursor is not None:
            self.cursor.interrupt()

    def __enter__(self) -> pa.RecordBatchReader:
        self.cursor = self.session.database.cursor()
        self.timer = threading.Timer(self.session.timeout_s, self._interrupt)
        self.timer.daemon = True
        self.timer.start()
        try:
            self.cursor.execute(self.sql)
            return self.cursor.to_arrow_reader(BATCH_ROWS)
        except duckdb.Error as exc:
            self.__exit__(type(exc), exc, None)
            raise self._translate(exc) from None

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.cursor is not None:
            self.cursor.close()
            self.cursor = None
        if isinstance(exc, duckdb.Error):
            raise self._translate(exc) from None
        return False

    def _translate(self, exc: duckdb.Error) -> QueryFailed:
        if self.timed_out or isinstance(exc, duckdb.InterruptException):
            return QueryTimeout(f"The query ran past the {self.session.timeout_s:g} s time limit and was "
                                "stopped. Filter or aggregate more, or ask for a longer limit.")
        message = str(exc).split("\n\nLINE")[0].strip()
        return QueryFailed(f"The query failed: {message}")

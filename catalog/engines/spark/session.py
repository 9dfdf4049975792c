"""A governed session on Spark: the same gate, grants and usage events as `catalog.query.session.Session`;
the query runs as a Spark job group that the time limit cancels, and results come back capped.

`sql()` collects at most `spark.max_collect_rows` rows (mesh.yaml) and says so past that; `run()`
collects the shown rows and counts the rest on the cluster; `export()` has Spark write the result in
parallel and joins the parts into one file, so a large result never passes through driver memory whole.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import polars as pl
import pyarrow as pa

from catalog.query import gate as sandbox
from catalog.errors import MeshError, QueryFailed, QueryTimeout, SourceUnavailable
from catalog.query.session import QueryResult, Session, _unique_names, refuse_engine_functions
from catalog.engines.spark.runtime import first_line

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from catalog.engines.spark.engine import SparkRoleDatabase


class SparkSqlSession(Session):
    """`Session` whose queries run on the mesh's Spark engine."""

    database: "SparkRoleDatabase"

    def run(self, text: str, max_rows: int | None = 1000) -> QueryResult:
        """Run one governed query; keep at most `max_rows` rows (None: up to the collect cap) but count them all."""
        vetted = self.vet(text)
        started = time.perf_counter()
        total = 0
        status = "ok"
        try:
            frame, total = self._collect(vetted, max_rows)
        except BaseException as exc:
            status = "timeout" if isinstance(exc, QueryTimeout) else "error"
            raise
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            self._record(vetted, total if status == "ok" else 0, duration_ms, status)
        return QueryResult(frame=frame, total_rows=total, truncated=frame.height < total, duration_ms=duration_ms,
                           products=sorted(vetted.products))

    def export(self, text: str, path: str | Path, fmt: str = "csv") -> int:
        """Write the full result to a CSV or Parquet file (a folder of parts for a cluster URI); the row count."""
        if fmt not in ("csv", "parquet"):
            raise MeshError(f"cannot export as {fmt!r}: choose csv or parquet")
        vetted = self.vet(text)
        started = time.perf_counter()
        total = 0
        status = "ok"
        try:
            frame = self._frame(vetted)
            with self._job():
                total = _write(frame, str(path), fmt)
        except BaseException as exc:
            status = "timeout" if isinstance(exc, QueryTimeout) else "error"
            raise
        finally:
            self._record(vetted, total, (time.perf_counter() - started) * 1000, status)
        return total

    # ---------------------------------------------------------------- internals

    def _frame(self, vetted: sandbox.VettedQuery) -> "DataFrame":
        refuse_engine_functions(vetted)
        try:
            self.database.ensure(set(vetted.products))
        except SourceUnavailable as exc:
            raise QueryFailed(f"A product in this query cannot be read: {exc}") from None
        with self._job():
            frame = self.database.frame(vetted.tree)
        names = _unique_names(pa.table({f"c{i}": [] for i in range(len(frame.columns))})
                              .rename_columns(frame.columns)).column_names
        return frame if names == frame.columns else frame.toDF(*names)

    def _collect(self, vetted: sandbox.VettedQuery, max_rows: int | None) -> tuple[pl.DataFrame, int]:
        cap = self.mesh.descriptor.spark.max_collect_rows
        frame = self._frame(vetted)
        keep = cap if max_rows is None else max_rows
        with self._job():
            table = frame.limit(keep + 1).toArrow()
            if table.num_rows <= keep:
                total = table.num_rows
            elif max_rows is None:
                raise QueryFailed(f"The result has more than {cap:,} rows, the most this Spark mesh brings back "
                                  "to Python (spark.max_collect_rows in mesh.yaml). Aggregate or filter more, "
                                  "or export it to a path with session.export(query, path).")
            else:
                total = frame.count()
        result = pl.from_arrow(_plain(table.slice(0, keep)))
        assert isinstance(result, pl.DataFrame)
        return result, total

    @contextmanager
    def _job(self) -> Iterator[None]:
        """Run Spark work as one job group; past the time limit the group is cancelled."""
        context = self.database.session.sparkContext
        group = f"meshwork-{uuid.uuid4().hex[:12]}"
        timed_out = threading.Event()

        def cancel() -> None:
            timed_out.set()
            context.cancelJobGroup(group)

        context.setJobGroup(group, f"{self.user} as {self.role} on {self.mesh.name}", interruptOnCancel=True)
        timer = threading.Timer(self.timeout_s, cancel)
        timer.daemon = True
        timer.start()
        try:
            yield
        except MeshError:
            raise
        except Exception as exc:  # AnalysisException, Py4JJavaError, ...: all say what Spark refused
            if timed_out.is_set():
                raise QueryTimeout(f"The query ran past the {self.timeout_s:g} s time limit and its Spark jobs "
                                   "were cancelled. Filter or aggregate more, or ask for a longer limit.") from None
            raise QueryFailed(f"The query failed on Spark: {first_line(exc)}") from None
        finally:
            timer.cancel()
            context.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]


def _plain(table: pa.Table) -> pa.Table:
    """Drop the UTC zone Spark puts on timestamps; DuckDB's TIMESTAMP (and so our API) has none."""
    fields = [pa.field(f.name, pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) and f.type.tz == "UTC"
              else f for f in table.schema]
    return table.cast(pa.schema(fields)) if fields != list(table.schema) else table


def _write(frame: "DataFrame", path: str, fmt: str) -> int:
    """Spark writes the parts in parallel; a local path is then joined into one file, streamed part by part."""
    if "://" in path:
        frame.write.mode("overwrite").format(fmt).option("header", "true").save(path)
        return frame.sparkSession.read.format(fmt).option("header", "true").load(path).count()
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    target = Path(path)
    parts_dir = target.with_name(target.name + ".parts")
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(parts_dir, ignore_errors=True)
    total = 0
    try:
        frame.write.mode("overwrite").parquet(str(parts_dir))
        parts = sorted(parts_dir.glob("part-*.parquet"))
        schema = _plain(pq.read_schema(parts[0]).empty_table() if parts else frame.limit(0).toArrow()).schema
        writer = pq.ParquetWriter(tmp, schema) if fmt == "parquet" else pacsv.CSVWriter(tmp, schema)
        with writer:
            for part in parts:
                for batch in pq.ParquetFile(part).iter_batches(65_536):
                    table = pa.Table.from_arrays(_plain(pa.Table.from_batches([batch])).columns, schema=schema)
                    writer.write_table(table)
                    total += table.num_rows
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(parts_dir, ignore_errors=True)
    return total

"""Running work on Spark for a governed query: as one job group the time limit or the session's interrupt cancels, results brought back
without Spark's time zone, and exports written by Spark in parallel then joined into one file.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from catalog.engines.base import RUNNING_FOR
from catalog.engines.spark.runtime import first_line
from catalog.errors import MeshError, QueryCancelled, QueryFailed, QueryTimeout

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import DataFrame


def _cancelled(started: float) -> QueryCancelled:
    return QueryCancelled(f"The query was cancelled after {time.monotonic() - started:,.1f} s; its Spark jobs "
                          "were cancelled and nothing it read is shown.")


@contextmanager
def job(context: "SparkContext", description: str, timeout_s: float) -> Iterator[None]:
    """Run Spark work as one job group; past the time limit, or when the session is interrupted
    (`Session.interrupt`, the workbench's Cancel), the group is cancelled (and any job it still submits).
    Spark's errors become QueryFailed (QueryTimeout when the limit cancelled them, QueryCancelled when the
    session did)."""
    group = f"meshwork-{uuid.uuid4().hex[:12]}"
    timed_out = threading.Event()
    asked = threading.Event()
    done = threading.Event()
    started = time.monotonic()

    def cancel_group() -> None:
        while not done.is_set():  # and again: a job submitted past the limit (after a long plan) is cancelled too
            context.cancelJobGroup(group)
            done.wait(0.5)

    def time_limit() -> None:
        timed_out.set()
        cancel_group()

    def interrupt() -> None:  # called from the thread that asked: cancel there, not in the query's thread
        asked.set()
        threading.Thread(target=cancel_group, name="meshwork-spark-cancel", daemon=True).start()

    cancellation = RUNNING_FOR.get()
    if cancellation is not None and cancellation.cancelled:  # cancelled before this step started
        raise _cancelled(started)
    detach = cancellation.attach(interrupt) if cancellation is not None else None
    context.setJobGroup(group, description, interruptOnCancel=True)
    timer = threading.Timer(timeout_s, time_limit)
    timer.daemon = True
    timer.start()
    try:
        yield
        if asked.is_set():  # the work ended as the cancel came: what it read is not shown either
            raise _cancelled(started)
    except MeshError:
        raise
    except Exception as exc:  # AnalysisException, Py4JJavaError, ...: all say what Spark refused
        if asked.is_set():
            raise _cancelled(started) from None
        if timed_out.is_set():
            raise QueryTimeout(f"The query ran past the {timeout_s:g} s time limit and its Spark jobs "
                               "were cancelled. Filter or aggregate more, or ask for a longer limit.") from None
        raise QueryFailed(f"The query failed on Spark: {first_line(exc)}") from None
    finally:
        done.set()
        timer.cancel()
        if detach is not None:
            detach()
        context.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]


def plain(table: pa.Table) -> pa.Table:
    """Drop the UTC zone Spark puts on timestamps; DuckDB's TIMESTAMP (and so our API) has none."""
    fields = [pa.field(f.name, pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) and f.type.tz == "UTC"
              else f for f in table.schema]
    return table.cast(pa.schema(fields)) if fields != list(table.schema) else table


def write(frame: "DataFrame", path: str, fmt: str) -> int:
    """Spark writes the parts in parallel; a local path is then joined into one file, streamed part by part."""
    if "://" in path:
        frame.write.mode("overwrite").format(fmt).option("header", "true").save(path)
        return frame.sparkSession.read.format(fmt).option("header", "true").load(path).count()
    target = Path(path)
    parts_dir = target.with_name(target.name + ".parts")
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(parts_dir, ignore_errors=True)
    total = 0
    try:
        frame.write.mode("overwrite").parquet(str(parts_dir))
        parts = sorted(parts_dir.glob("part-*.parquet"))
        schema = plain(pq.read_schema(parts[0]).empty_table() if parts else frame.limit(0).toArrow()).schema
        writer = pq.ParquetWriter(tmp, schema) if fmt == "parquet" else pacsv.CSVWriter(tmp, schema)
        with writer:
            for part in parts:
                for batch in pq.ParquetFile(part).iter_batches(65_536):
                    table = pa.Table.from_arrays(plain(pa.Table.from_batches([batch])).columns, schema=schema)
                    writer.write_table(table)
                    total += table.num_rows
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(parts_dir, ignore_errors=True)
    return total

"""The Spark engine: the same products, views and masking as DuckDB, on a Spark cluster.

Raw views are global temporary views (one per product, shared by every role); each role (and each
set of grants) queries its own `newSession()`, whose temporary views are the role views that
catalog/query/role_views.py decides. Views are created on the first query that names a product, as on
DuckDB. A query runs as a Spark job group that the time limit cancels (catalog/engines/spark/jobs.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from catalog import sqlutil
from catalog.access.policy import Policy
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import DataProduct
from catalog.engines.base import Engine, Record, RoleDatabase, unique_names
from catalog.engines.duckdb import MASKED_CATALOG
from catalog.engines.extensions import load_extension
from catalog.engines.spark import jobs
from catalog.engines.spark.dialect import to_spark
from catalog.engines.spark.runtime import first_line, lock_session, spark_session
from catalog.engines.spark.sources import raw_frame
from catalog.engines.tokens import TOKEN_FUNCTION, register_spark
from catalog.errors import QueryCancelled, QueryFailed, QueryTimeout, SourceUnavailable
from catalog.sources import adapter_for, is_derived
from catalog.sources.context import RAW_CATALOG, SourceContext
from catalog.sources.postgres import Bridge

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


class SparkEngine(Engine):
    """One Spark session for the mesh, raw views once per product, a role database per role and grants."""

    name = "spark"
    DIALECT = "spark"
    STARTS_IN_PROCESS = False
    BITMAP_COUNTS = False

    def __init__(self, mesh: DeclaredMesh, master: str, conf: dict[str, Any] | None = None, **deps: Any):
        super().__init__(mesh, **deps)
        self.master = master
        self.spark = spark_session(master, conf, app_name=f"meshwork-{mesh.name}")
        self.postgres = Bridge(mesh.descriptor.memory_limit, mesh.descriptor.threads, load_extension)
        self.prefix = f"mw{uuid.uuid4().hex[:8]}"
        self.global_db = self.spark.conf.get("spark.sql.globalTempDatabase") or "global_temp"
        self._raw_lock = threading.RLock()
        self._raw: dict[str, str] = {}
        self._columns: dict[str, list[str]] = {}
        self.failures: dict[str, str] = {}
        self.ctx = SourceContext(root=mesh.root, load_extension=lambda _: None,
                                 product_domains={pid: p.domain for pid, p in mesh.products.items()})
        threading.Thread(target=self._warm_up, name="meshwork-spark-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        """Start Spark's Python workers (the masking function runs there) before the first masked query:
        their first start costs seconds a user would otherwise wait for."""
        try:
            session = self.spark.newSession()
            register_spark(session, "warm-up")  # not the mesh key: nothing of it needs to be right
            session.sql(f"SELECT {TOKEN_FUNCTION}('x') AS t").collect()
        except Exception:  # noqa: BLE001 - a failed warm-up only means a slower first query
            pass

    def new_database(self, policy: Policy) -> RoleDatabase:
        return SparkRoleDatabase(self, policy)

    # ---------------------------------------------------------------- raw views

    def raw_table(self, product_id: str) -> exp.Table:
        domain, name = product_id.split(".", 1)
        return exp.table_(f"{self.prefix}_raw__{domain}__{name}", db=self.global_db, quoted=True)

    def columns(self, product_id: str) -> list[str]:
        self.ensure_raw(product_id)
        return self._columns[product_id]

    def ensure_raw(self, product_id: str) -> exp.Table:
        """Create the raw view of a product (and of everything it reads) once for the mesh."""
        table = self.raw_table(product_id)
        with self._raw_lock:
            if product_id in self._raw:
                return table
            product = self.mesh.product(product_id)
            if product_id in self.failures:
                raise SourceUnavailable(self.failures[product_id])
            if product.broken:
                raise SourceUnavailable(f"{product.id} is broken: {self.mesh.problem_summary(product.id)}")
            for upstream in sorted(self.mesh.upstreams(product_id)):
                self.ensure_raw(upstream)
            try:
                if is_derived(product):
                    self.spark.sql(f"CREATE OR REPLACE GLOBAL TEMPORARY VIEW {table.this.sql('spark')} AS "
                                   f"{self._derived_sql(product)}")
                else:
                    raw_frame(self.spark, product, self.ctx, self.postgres).createOrReplaceGlobalTempView(table.name)
                self._columns[product_id] = self.spark.table(table.sql("spark")).columns
            except SourceUnavailable as exc:
                self.failures[product_id] = str(exc)
                raise
            except Exception as exc:  # Spark's analysis and IO errors come through py4j
                message = f"{product.id}: Spark cannot read its {product.kind} source: {first_line(exc)}"
                self.failures[product_id] = message
                raise SourceUnavailable(message) from None
            self._raw[product_id] = table.name
            return table

    def _derived_sql(self, product: DataProduct) -> str:
        """The derived product's SQL over its upstreams' raw views, transpiled to Spark SQL."""
        tree = adapter_for(product.kind).relation(product, self.ctx)

        def to_spark_raw(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.catalog == RAW_CATALOG:
                replacement = self.raw_table(f"{node.db}.{node.name}")
                replacement.set("alias", node.args.get("alias"))
                return replacement
            return node

        return to_spark(tree.transform(to_spark_raw))

    def close(self) -> None:
        super().close()
        self.postgres.close()
        with self._raw_lock:
            for name in self._raw.values():
                self.spark.catalog.dropGlobalTempView(name)
            self._raw.clear()


class SparkRoleDatabase(RoleDatabase):
    """What one role (widened by a user's grants) may query on Spark: its own session of role views."""

    LABEL = "Spark "
    ERRORS = (Exception,)  # py4j and Spark's analysis errors share no base worth naming
    engine: SparkEngine

    def __init__(self, engine: SparkEngine, policy: Policy):
        self.session = engine.spark.newSession()
        lock_session(self.session)
        register_spark(self.session, engine.salt)
        self._created: set[str] = set()
        super().__init__(engine, policy)

    @staticmethod
    def view_name(product_id: str) -> str:
        domain, name = product_id.split(".", 1)
        return f"mwv__{domain}__{name}"

    @staticmethod
    def masked_name(product_id: str) -> str:
        domain, name = product_id.split(".", 1)
        return f"mwm__{domain}__{name}"

    # ---------------------------------------------------------------- primitives of the views

    def raw(self, product: DataProduct) -> exp.Expression:
        return self.engine.ensure_raw(product.id)

    def raw_columns(self, product: DataProduct) -> list[str]:
        return self.engine.columns(product.id)

    def derived_source(self, product: DataProduct, over_masked: bool) -> tuple[exp.Expression, list[str]]:
        names = self.masked_name if over_masked else self.view_name
        inner = adapter_for(product.kind).relation(product, self.engine.ctx, target=lambda pid: exp.table_(
            names(pid), quoted=True))
        inner_sql = to_spark(inner)
        columns = self.session.sql(inner_sql).columns
        source = exp.Subquery(this=sqlglot.parse_one(inner_sql, read="spark"),
                              alias=exp.TableAlias(this=exp.to_identifier("__derived")))
        return source, columns

    def create_view(self, product_id: str, masked: bool, select: exp.Select) -> None:
        name = (self.masked_name if masked else self.view_name)(product_id)
        target = exp.to_identifier(name, quoted=True).sql("spark")
        self.session.sql(f"CREATE OR REPLACE TEMPORARY VIEW {target} AS {to_spark(select)}")
        self._created.add(name)

    def describe_error(self, exc: BaseException) -> str:
        return first_line(exc)

    # ---------------------------------------------------------------- running

    def render(self, tree: exp.Expression, vetted_sql: str) -> str:
        """The vetted query as Spark SQL over this role's views."""
        views = {pid: self.view_name(pid) for pid in self.visible}

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.name and node.db:
                name = sqlutil.table_name(node)
                if name in views:
                    replacement = exp.to_table(views[name])
                    replacement.this.set("quoted", True)
                    alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
                    replacement.set("alias", alias)
                    return replacement
            return node

        return to_spark(tree.copy().transform(swap))

    def run(self, products: set[str], sql: str, max_rows: int | None, timeout_s: float, label: str,
            record: Record) -> tuple[pa.Table, int, float]:
        """Collects at most `spark.max_collect_rows` rows (mesh.yaml) for `max_rows=None` and says so past
        that; with `max_rows`, collects those and counts the rest on the cluster."""
        started = time.perf_counter()
        total = 0
        status = "ok"
        try:
            table, total = self._collect(products, sql, max_rows, timeout_s, label)
        except BaseException as exc:
            status = ("cancelled" if isinstance(exc, QueryCancelled) else
                      "timeout" if isinstance(exc, QueryTimeout) else "error")
            raise
        finally:
            duration_ms = (time.perf_counter() - started) * 1000
            record(total if status == "ok" else 0, duration_ms, status)
        return table, total, duration_ms

    def export(self, products: set[str], sql: str, path: Path, fmt: str, timeout_s: float, label: str,
               record: Record) -> int:
        """Spark writes the result in parallel (a folder of parts for a cluster URI) and a local path is joined
        into one file, so a large result never passes through driver memory whole."""
        started = time.perf_counter()
        total = 0
        status = "ok"
        try:
            frame = self._frame(products, sql, timeout_s, label)
            with self._job(timeout_s, label):
                total = jobs.write(frame, str(path), fmt)
        except BaseException as exc:
            status = ("cancelled" if isinstance(exc, QueryCancelled) else
                      "timeout" if isinstance(exc, QueryTimeout) else "error")
            raise
        finally:
            record(total, (time.perf_counter() - started) * 1000, status)
        return total

    def _job(self, timeout_s: float, label: str) -> Any:
        return jobs.job(self.session.sparkContext, f"{label} as {self.role} on {self.mesh.name}", timeout_s)

    def _frame(self, products: set[str], sql: str, timeout_s: float, label: str) -> "DataFrame":
        try:
            self.ensure(products)
        except SourceUnavailable as exc:
            raise QueryFailed(f"A product in this query cannot be read: {exc}") from None
        with self._job(timeout_s, label):
            frame = self.session.sql(sql)
        names = unique_names(pa.table({f"c{i}": [] for i in range(len(frame.columns))})
                             .rename_columns(frame.columns)).column_names
        return frame if names == frame.columns else frame.toDF(*names)

    def _collect(self, products: set[str], sql: str, max_rows: int | None, timeout_s: float,
                 label: str) -> tuple[pa.Table, int]:
        cap = self.mesh.descriptor.spark.max_collect_rows
        frame = self._frame(products, sql, timeout_s, label)
        keep = cap if max_rows is None else max_rows
        with self._job(timeout_s, label):
            table = frame.limit(keep + 1).toArrow()
            if table.num_rows <= keep:
                total = table.num_rows
            elif max_rows is None:
                raise QueryFailed(f"The result has more than {cap:,} rows, the most this Spark mesh brings back "
                                  "to Python (spark.max_collect_rows in mesh.yaml). Aggregate or filter more, "
                                  "or export it to a path with session.export(query, path).")
            else:
                total = frame.count()
        return jobs.plain(table.slice(0, keep)), total

    def cursor(self) -> "SparkCursor":
        """A DB-API cursor for internal SQL over raw views (quality scans), so catalog.quality.run runs as is."""
        return SparkCursor(self)

    def close(self) -> None:
        for name in sorted(self._created):
            self.session.catalog.dropTempView(name)
        self._created.clear()


class SparkQueryError(duckdb.Error):
    """A Spark failure under a DB-API cursor: a duckdb.Error, so callers written for the default engine
    (catalog.quality.run's one-scan fallback) handle it unchanged."""


def _our_type(spark_type: str) -> str | None:
    """A Spark column type in our (DuckDB) spelling, as a DuckDB cursor describes it: `bigint` -> BIGINT."""
    try:
        return exp.DataType.build(spark_type, dialect="spark").sql("duckdb")
    except Exception:  # sqlglot raises several error types for a type it does not know
        return None


class SparkCursor:
    """The slice of DuckDB's cursor API that internal, trusted callers use (execute, description, fetch).

    It takes SQL that sqlglot generated in our dialect over raw views (`__meshwork_raw.domain.name`),
    renders it for Spark over the engine's raw views, and runs it in the role's session. User SQL never
    comes here: it goes through the gate, then `SparkRoleDatabase.run`.
    """

    def __init__(self, database: SparkRoleDatabase):
        self.database = database
        self.description: list[tuple[str, ...]] | None = None
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str, parameters: Any = None) -> "SparkCursor":
        if parameters:
            raise SparkQueryError("the Spark cursor takes no parameters")
        engine = self.database.engine
        tree = sqlglot.parse_one(sql, read="duckdb")

        def to_raw(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.catalog in ("memory", MASKED_CATALOG) and node.db:
                product_id = f"{node.db}.{node.name}"
                if node.catalog == "memory":
                    self.database.ensure({product_id})
                    replacement = exp.table_(self.database.view_name(product_id), quoted=True)
                else:
                    self.database.ensure_masked({product_id})
                    replacement = exp.table_(self.database.masked_name(product_id), quoted=True)
                replacement.set("alias", node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name)))
                return replacement
            if isinstance(node, exp.Table) and node.catalog == RAW_CATALOG:
                replacement = engine.ensure_raw(f"{node.db}.{node.name}").copy()
                replacement.set("alias", node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name)))
                return replacement
            return node

        try:
            frame = self.database.session.sql(to_spark(tree.transform(to_raw)))
            self._rows = [tuple(row) for row in frame.collect()]
        except SourceUnavailable:
            raise
        except Exception as exc:
            raise SparkQueryError(first_line(exc)) from None
        self.description = [(f.name, _our_type(f.dataType.simpleString()), None, None, None, None, None)
                             for f in frame.schema.fields]
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        self._rows = []

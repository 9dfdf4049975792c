"""The Spark engine: the same products, views and masking as DuckDB, on a Spark cluster.

Raw views are global temporary views (one per product, shared by every role); each role (and each
set of grants) queries its own `newSession()`, whose temporary views are the masked role views built
by catalog/query/role_views.py. Views are created on the first query that names a product, as on DuckDB.
"""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
from sqlglot import exp

from catalog.engines.duckdb import MASKED_CATALOG, Engine
from catalog.errors import SourceUnavailable
from catalog.descriptors.model import DataProduct
from catalog.sources import adapter_for
from catalog.sources.context import RAW_CATALOG, SourceContext
from catalog.engines.spark import gate
from catalog.engines.spark.dialect import to_spark
from catalog.query.masking import TOKEN_FUNCTION, register_spark
from catalog.engines.spark.runtime import first_line, lock_session, spark_session
from catalog.engines.spark.sources import raw_frame
from catalog.query.role_views import masked_columns, role_view_select, served_columns, visible_products

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from catalog.mesh import Mesh


class SparkEngine(Engine):
    """One Spark session for the mesh, raw views once per product, a role database per role and grants."""

    name = "spark"

    def __init__(self, mesh: "Mesh", master: str, conf: dict[str, Any] | None = None):
        super().__init__(mesh)
        self.master = master
        self.spark = spark_session(master, conf, app_name=f"meshwork-{mesh.name}")
        self.database_class = self._new_database  # type: ignore[assignment]
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

    def _new_database(self, mesh: "Mesh", role: str,
                      grants: frozenset[tuple[str, str]] = frozenset()) -> "SparkRoleDatabase":
        return SparkRoleDatabase(self, role, grants)

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
                if product.kind == "sql":
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
        tree = adapter_for("sql").relation(product, self.ctx)

        def to_spark_raw(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and node.catalog == RAW_CATALOG:
                replacement = self.raw_table(f"{node.db}.{node.name}")
                replacement.set("alias", node.args.get("alias"))
                return replacement
            return node

        return to_spark(tree.transform(to_spark_raw))

    def close(self) -> None:
        super().close()
        with self._raw_lock:
            for name in self._raw.values():
                self.spark.catalog.dropGlobalTempView(name)
            self._raw.clear()


class SparkRoleDatabase:
    """What one role (widened by a user's grants) may query on Spark: its own session of masked views.

    As on DuckDB, a view serves the declared columns only, and a derived product's view is computed over
    the role's views of its upstreams (their fully masked views when the role does not read them all)."""

    def __init__(self, engine: SparkEngine, role: str, grants: frozenset[tuple[str, str]] = frozenset()):
        self.engine = engine
        self.mesh = engine.mesh
        self.role = role
        self.grants = grants
        self.visible = visible_products(self.mesh, role, grants)
        self.lock = threading.RLock()
        self.views_ready: set[str] = set()
        self.masked_ready: set[str] = set()
        self.session = engine.spark.newSession()
        lock_session(self.session)
        register_spark(self.session, self.mesh.salt)

    @staticmethod
    def view_name(product_id: str) -> str:
        domain, name = product_id.split(".", 1)
        return f"mwv__{domain}__{name}"

    @staticmethod
    def masked_name(product_id: str) -> str:
        domain, name = product_id.split(".", 1)
        return f"mwm__{domain}__{name}"

    def ensure(self, product_ids: set[str], timeout_s: float | None = None) -> None:
        """Create the role views (and the raw views under them) for these products."""
        with self.lock:
            for product_id in sorted(product_ids):
                self._create_view(self.mesh.product(product_id))

    def ensure_masked(self, product_ids: set[str], timeout_s: float | None = None) -> None:
        with self.lock:
            for product_id in sorted(product_ids):
                self._create_view(self.mesh.product(product_id), masked_only=True)

    def _sees_all(self, product_id: str) -> bool:
        if masked_columns(self.mesh, self.mesh.product(product_id), self.role, self.grants):
            return False
        return all(self._sees_all(u) for u in self.mesh.upstreams(product_id))

    def _create_view(self, product: DataProduct, masked_only: bool = False) -> None:
        ready = self.masked_ready if masked_only else self.views_ready
        if product.id in ready:
            return
        raw = self.engine.ensure_raw(product.id)
        masked = list(product.pii_columns) if masked_only else masked_columns(
            self.mesh, product, self.role, self.grants)
        name = (self.masked_name if masked_only else self.view_name)(product.id)
        try:
            if product.kind == "sql":
                over_masked = masked_only or not self._sees_all(product.id)
                for upstream in sorted(self.mesh.upstreams(product.id)):
                    if upstream not in self.visible:
                        raise SourceUnavailable(f"{product.id} reads {upstream}, which the role {self.role!r} "
                                                "may not see")
                    self._create_view(self.mesh.product(upstream), masked_only=over_masked)
                names = self.masked_name if over_masked else self.view_name
                inner = adapter_for("sql").relation(product, self.engine.ctx, target=lambda pid: exp.table_(
                    names(pid), quoted=True))
                inner_sql = to_spark(inner)
                columns = self.session.sql(inner_sql).columns
                source: exp.Expression = exp.Subquery(this=sqlglot.parse_one(inner_sql, read="spark"),
                                                      alias=exp.TableAlias(this=exp.to_identifier("__derived")))
            else:
                source = raw
                columns = self.engine.columns(product.id)
            select = role_view_select(source, masked, served_columns(product, columns),
                                      keep_tokens=product.kind == "sql", typed=masked_only)
            target = exp.to_identifier(name, quoted=True).sql("spark")
            self.session.sql(f"CREATE OR REPLACE TEMPORARY VIEW {target} AS {to_spark(select)}")
        except SourceUnavailable:
            raise
        except Exception as exc:
            raise SourceUnavailable(f"{product.id}: cannot build its Spark view for role {self.role!r}: "
                                    f"{first_line(exc)}") from None
        ready.add(product.id)

    def spark_sql(self, tree: exp.Expression) -> str:
        """The vetted query as Spark SQL over this role's views."""
        return gate.render(tree, {pid: self.view_name(pid) for pid in self.visible})

    def frame(self, tree: exp.Expression) -> "DataFrame":
        """A lazy Spark DataFrame for a vetted query; its views must exist (`ensure`)."""
        return self.session.sql(self.spark_sql(tree))

    def cursor(self) -> "SparkCursor":
        """A DB-API cursor for internal SQL over raw views (quality scans), so catalog.quality.run runs as is."""
        return SparkCursor(self)

    def close(self) -> None:
        for product_id in self.views_ready:
            self.session.catalog.dropTempView(self.view_name(product_id))
        for product_id in self.masked_ready:
            self.session.catalog.dropTempView(self.masked_name(product_id))
        self.views_ready.clear()
        self.masked_ready.clear()


class SparkQueryError(duckdb.Error):
    """A Spark failure under a DB-API cursor: a duckdb.Error, so callers written for the default engine
    (catalog.quality.run's one-scan fallback) handle it unchanged."""


class SparkCursor:
    """The slice of DuckDB's cursor API that internal, trusted callers use (execute, description, fetch).

    It takes SQL that sqlglot generated in our dialect over raw views (`__meshwork_raw.domain.name`),
    renders it for Spark over the engine's raw views, and runs it in the role's session. User SQL never
    comes here: it goes through the gate in SparkSqlSession.
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
        self.description = [(name, None, None, None, None, None, None) for name in frame.columns]
        return self

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        self._rows = []

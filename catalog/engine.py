"""DuckDB for a mesh: one locked-down in-memory database per role.

Each domain is a schema and each product a view named by its id; the view a role
sees masks the PII that role may not read. Views are created lazily, on the first
query that names a product, so opening a mesh never scans data.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

from catalog.errors import MeshError, SourceUnavailable
from catalog.extensions import load_extension
from catalog.model import DataProduct
from catalog.sources import adapter_for
from catalog.sources.context import RAW_CATALOG, SourceContext, raw_table
from catalog.viewsql import masked_columns, role_view_select, visible_products

if TYPE_CHECKING:
    from catalog.mesh import Mesh


def _identifier(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


class RoleDatabase:
    """The in-memory database one role's sessions query; thread-safe view creation.

    `grants` ((product id, 'access' | 'pii') pairs from catalog.access) widen the role's view
    for the users who hold exactly those grants: more products visible, PII unmasked.
    """

    def __init__(self, mesh: "Mesh", role: str, grants: frozenset[tuple[str, str]] = frozenset()):
        self.mesh = mesh
        self.role = role
        self.grants = grants
        self.visible = visible_products(mesh, role, grants)
        self.lock = threading.RLock()
        self.raw_ready: set[str] = set()
        self.views_ready: set[str] = set()
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
        self._build()

    def _load_extension(self, name: str) -> None:
        if name not in self._loaded_extensions:
            load_extension(self.con, name)
            self._loaded_extensions.add(name)

    def _build(self) -> None:
        con = self.con
        con.execute(f"ATTACH ':memory:' AS {_identifier(RAW_CATALOG)}")
        for domain in self.mesh.domains:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_identifier(RAW_CATALOG)}.{_identifier(domain)}")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS memory.{_identifier(domain)}")
        # Network sources must be attached before external access is switched off.
        for product in self.mesh.products.values():
            if not product.broken and product.kind == "postgres":
                try:
                    adapter_for("postgres").attach(con, product, self.ctx)
                except (SourceUnavailable, MeshError) as exc:
                    self.failures[product.id] = str(exc)
        for extension in ("sqlite_scanner",):
            if any(p.kind == "sqlite" and not p.broken for p in self.mesh.products.values()):
                self._load_extension(extension)
        roots = [str(r) + "/" for r in self.mesh.data_roots]
        con.execute("SET allowed_directories = $dirs", {"dirs": roots})
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")

    # ---------------------------------------------------------------- views

    def ensure(self, product_ids: set[str]) -> None:
        """Create the role views (and the raw views under them) for these products."""
        with self.lock:
            for product_id in sorted(product_ids):
                if product_id not in self.views_ready:
                    self._create_view(self.mesh.product(product_id))

    def _create_raw(self, product: DataProduct) -> None:
        if product.id in self.raw_ready:
            return
        if product.id in self.failures:
            raise SourceUnavailable(self.failures[product.id])
        if product.broken:
            raise SourceUnavailable(f"{product.id} is broken: {self.mesh.problem_summary(product.id)}")
        for upstream in sorted(self.mesh.upstreams(product.id)):
            self._create_raw(self.mesh.product(upstream))
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

    def _create_view(self, product: DataProduct) -> None:
        self._create_raw(product)
        masked = masked_columns(self.mesh, product, self.role, self.grants)
        select = role_view_select(raw_table(product.id), masked, self.mesh.salt)
        target = exp.table_(product.name, db=product.domain, catalog="memory", quoted=True).sql("duckdb")
        try:
            self.con.execute(f"CREATE OR REPLACE VIEW {target} AS {select.sql('duckdb')}")
        except duckdb.Error as exc:
            message = f"{product.id}: cannot build its view for role {self.role!r}: {str(exc).splitlines()[0]}"
            raise SourceUnavailable(message) from None
        self.views_ready.add(product.id)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()

    def close(self) -> None:
        self.con.close()


class Engine:
    """Holds one RoleDatabase per role (and per role + set of grants), built on first use."""

    MAX_GRANTED = 64
    name = "duckdb"
    database_class: type = RoleDatabase  # catalog.spark swaps in its own role database

    def __init__(self, mesh: "Mesh"):
        self.mesh = mesh
        self._lock = threading.Lock()
        self._databases: dict[str, RoleDatabase] = {}
        self._granted: dict[tuple[str, frozenset[tuple[str, str]]], RoleDatabase] = {}

    def database(self, role: str) -> RoleDatabase:
        if role not in self.mesh.roles:
            raise MeshError(f"unknown role {role!r}; this mesh has roles: {', '.join(sorted(self.mesh.roles))}")
        with self._lock:
            if role not in self._databases:
                self._databases[role] = self.database_class(self.mesh, role)
            return self._databases[role]

    def database_for(self, role: str, user: str | None) -> RoleDatabase:
        """The database for `user` acting as `role`: the role's own, or one widened by the user's active
        grants. Sessions call this on every query, so a grant applies at once and ends at its expiry."""
        grants = self.mesh.access.effective_grants(role, user) if user else frozenset()
        if not grants:
            return self.database(role)
        if role not in self.mesh.roles:
            raise MeshError(f"unknown role {role!r}; this mesh has roles: {', '.join(sorted(self.mesh.roles))}")
        key = (role, grants)
        with self._lock:
            database = self._granted.pop(key, None) or self.database_class(self.mesh, role, grants)
            self._granted[key] = database  # most recently used last; the oldest is dropped past the limit
            while len(self._granted) > self.MAX_GRANTED:
                self._granted.pop(next(iter(self._granted)))
            return database

    def fingerprint(self, product_id: str) -> str | None:
        """Changes when the product's data may have changed (None: cannot tell cheaply)."""
        product = self.mesh.product(product_id)
        ctx = SourceContext(root=self.mesh.root, load_extension=lambda _: None)
        adapter = adapter_for(product.kind)
        if product.kind == "sql":
            upstream = [self.fingerprint(u) for u in sorted(self.mesh.upstreams(product_id))]
            return adapter.fingerprint(product, ctx, upstream)
        return adapter.fingerprint(product, ctx)

    def close(self) -> None:
        with self._lock:
            for database in [*self._databases.values(), *self._granted.values()]:
                database.close()
            self._databases.clear()
            self._granted.clear()

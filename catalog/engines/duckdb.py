"""DuckDB for a mesh: one locked-down in-memory database per role.

Each domain is a schema and each product a view named by its id; the view a role
sees masks the PII that role may not read and projects the declared columns only.
A derived product's view is computed over the role's views of its upstreams, so it
never shows more than they do. Views are created lazily, on the first query that
names a product, so opening a mesh never scans data.

Each connection may read only the exact files (and glob folders) its products need,
never the state folder; external access is off and the configuration locked before
any user query runs. PostgreSQL is read through the engine's bridge (sources/postgres.py).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

from catalog.errors import MeshError, SourceUnavailable
from catalog.engines.extensions import load_extension
from catalog.query.masking import register_duckdb
from catalog.descriptors.model import DataProduct
from catalog.sources import adapter_for
from catalog.sources.context import RAW_CATALOG, SourceContext, raw_table
from catalog.sources.postgres import Bridge, arrow_name
from catalog.query.role_views import masked_columns, role_view_select, served_columns, visible_products

if TYPE_CHECKING:
    from catalog.mesh import Mesh

_FILE_KINDS = ("parquet", "csv", "sqlite", "duckdb")


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


def connection_reads(mesh: "Mesh", products: set[str] | frozenset[str] | None = None
                     ) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(files, folders, expanded globs) a role connection may read: the sources of `products` (default:
    every product) and of what they are computed from, nothing else."""
    forbidden = [mesh.state_dir.resolve()]
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
        if product.broken or product.kind not in _FILE_KINDS:
            continue
        f, d, e = adapter_for(product.kind).reads(product, forbidden)
        files += f
        folders += d
        expanded.update(e)
    state = str(forbidden[0])
    files = [f for f in dict.fromkeys(files) if not (f == state or f.startswith(state + "/"))]
    return files, list(dict.fromkeys(folders)), expanded


class RoleDatabase:
    """The in-memory database one role's sessions query; thread-safe view creation.

    `grants` ((product id, 'access' | 'pii') pairs from catalog.access.ledger) widen the role's view
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
        self.masked_ready: set[str] = set()
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
        self._build()

    def _load_extension(self, name: str) -> None:
        if name not in self._loaded_extensions:
            load_extension(self.con, name)
            self._loaded_extensions.add(name)

    def _build(self) -> None:
        con = self.con
        register_duckdb(con, self.mesh.salt)
        con.execute(f"ATTACH ':memory:' AS {_identifier(RAW_CATALOG)}")
        con.execute(f"ATTACH ':memory:' AS {_identifier(MASKED_CATALOG)}")
        for domain in self.mesh.domains:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_identifier(RAW_CATALOG)}.{_identifier(domain)}")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_identifier(MASKED_CATALOG)}.{_identifier(domain)}")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS memory.{_identifier(domain)}")
        if any(p.kind == "sqlite" and not p.broken for p in self.mesh.products.values()):
            self._load_extension("sqlite_scanner")
        files, folders, self.ctx.expanded = connection_reads(self.mesh, self.visible)
        con.execute("SET allowed_paths = $paths", {"paths": files})
        con.execute("SET allowed_directories = $dirs", {"dirs": folders})
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")

    # ---------------------------------------------------------------- views

    def ensure(self, product_ids: set[str], timeout_s: float | None = None, masked_only: bool = False) -> None:
        """Create the role views (and the raw views under them) for these products; with `masked_only`, their
        fully masked views (what any viewer without PII access sees).

        PostgreSQL rows are read first, outside the database lock and within `timeout_s`, so a database that
        does not answer delays only the queries that read it."""
        for product_id in sorted(self._postgres_closure(product_ids)):
            rows = self.mesh.engine.postgres.rows(self.mesh.product(product_id), timeout_s)
            with self.lock:
                self._store_rows(self.mesh.product(product_id), rows)
        with self.lock:
            for product_id in sorted(product_ids):
                self._create_view(self.mesh.product(product_id), masked_only=masked_only)

    def ensure_masked(self, product_ids: set[str], timeout_s: float | None = None) -> None:
        """Create the fully masked views of these products."""
        self.ensure(product_ids, timeout_s, masked_only=True)

    def _postgres_closure(self, product_ids: set[str]) -> set[str]:
        out: set[str] = set()
        stack = list(product_ids)
        while stack:
            product_id = stack.pop()
            product = self.mesh.products.get(product_id)
            if product is None or product.broken:
                continue
            if product.kind == "postgres":
                out.add(product_id)
            stack += self.mesh.upstreams(product_id)
        return out

    def _create_raw(self, product: DataProduct) -> None:
        if product.id in self.raw_ready:
            return
        if product.id in self.failures:
            raise SourceUnavailable(self.failures[product.id])
        if product.broken:
            raise SourceUnavailable(f"{product.id} is broken: {self.mesh.problem_summary(product.id)}")
        for upstream in sorted(self.mesh.upstreams(product.id)):
            self._create_raw(self.mesh.product(upstream))
        if product.kind == "postgres":
            if product.id not in self._registered:
                self._store_rows(product, self.mesh.engine.postgres.rows(product))
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
            if product.kind != "postgres":
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

    def _sees_all(self, product_id: str) -> bool:
        """Whether this viewer reads the product and everything it is computed from unmasked."""
        product = self.mesh.product(product_id)
        if masked_columns(self.mesh, product, self.role, self.grants):
            return False
        return all(self._sees_all(u) for u in self.mesh.upstreams(product_id))

    def _create_view(self, product: DataProduct, masked_only: bool = False) -> None:
        """The role view of `product` (or, `masked_only`, its fully masked view in a hidden catalog).

        A derived product is computed over the viewer's views of its upstreams when the viewer reads them
        all unmasked, else over their fully masked views (so keys still join as tokens): it never shows
        more than its upstreams show this viewer."""
        ready = self.masked_ready if masked_only else self.views_ready
        if product.id in ready:
            return
        self._create_raw(product)
        masked = list(product.pii_columns) if masked_only else masked_columns(
            self.mesh, product, self.role, self.grants)
        try:
            if product.kind == "sql":
                over_masked = masked_only or not self._sees_all(product.id)
                for upstream in sorted(self.mesh.upstreams(product.id)):
                    if upstream not in self.visible:
                        raise SourceUnavailable(f"{product.id} reads {upstream}, which the role {self.role!r} "
                                                "may not see")
                    self._create_view(self.mesh.product(upstream), masked_only=over_masked)
                inner = adapter_for("sql").relation(product, self.ctx,
                                                    target=masked_table if over_masked else role_table)
                source: exp.Expression = exp.Subquery(this=inner, alias=exp.TableAlias(
                    this=exp.to_identifier("__derived")))
                columns = self._columns(inner)
            else:
                source = raw_table(product.id)
                columns = self._columns(source)
            select = role_view_select(source, masked, served_columns(product, columns),
                                      keep_tokens=product.kind == "sql", typed=masked_only)
            target = (masked_table if masked_only else role_table)(product.id).sql("duckdb")
            self.con.execute(f"CREATE OR REPLACE VIEW {target} AS {select.sql('duckdb')}")
        except duckdb.Error as exc:
            message = f"{product.id}: cannot build its view for role {self.role!r}: {str(exc).splitlines()[0]}"
            raise SourceUnavailable(message) from None
        ready.add(product.id)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()

    def close(self) -> None:
        self.con.close()


class Engine:
    """Holds one RoleDatabase per role (and per role + set of grants), built on first use."""

    MAX_GRANTED = 64
    name = "duckdb"
    database_class: type = RoleDatabase  # catalog.engines.spark swaps in its own role database

    def __init__(self, mesh: "Mesh"):
        self.mesh = mesh
        self._lock = threading.Lock()
        self._databases: dict[str, RoleDatabase] = {}
        self._granted: dict[tuple[str, frozenset[tuple[str, str]]], RoleDatabase] = {}
        self.postgres = Bridge(mesh.descriptor.memory_limit, mesh.descriptor.threads, load_extension)

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
        grants = self.mesh.viewers.effective_grants(role, user)
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
        self.postgres.close()

"""The engine contract: what every engine that runs a mesh's governed SQL provides.

As in sqlmesh's engine adapters, each engine is one module over this base and declares what it can do as
class flags; callers read a flag or call a method, never `engine.name`. An engine is an executor: it reads
each product's source into a raw relation, registers the masking token function, creates views from the
SQL it is handed, runs a query under a time limit and cancels it past that, and says when a product's data
may have changed. What a viewer's views hold (which products, which columns masked, what a derived product
is computed over) is decided above it, by catalog/query/role_views.py, which the facade hands in as
`views`: engines never import catalog.query. Engine errors reach callers as MeshErrors.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Callable, ClassVar, Protocol

import pyarrow as pa
from sqlglot import exp

from catalog.access.policy import Grants, Policy, Viewers
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import DataProduct
from catalog.errors import MeshError
from catalog.sources import fingerprint

# What a run reports once, however it ends: (rows, duration in ms, status "ok" | "error" | "timeout" | "cancelled").
Record = Callable[[int, float, str], None]


class Cancellation:
    """Lets another thread stop the queries one session is running (`Session.interrupt`): an engine that can
    interrupt a query attaches a stop function while it runs one; `cancel` calls them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stops: set[Callable[[], None]] = set()
        self.cancelled = False

    def attach(self, stop: Callable[[], None]) -> Callable[[], None]:
        """Register `stop` for the query now running; returns the function that detaches it."""
        with self._lock:
            self._stops.add(stop)
        return lambda: self._detach(stop)

    def _detach(self, stop: Callable[[], None]) -> None:
        with self._lock:
            self._stops.discard(stop)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            stops = list(self._stops)
        for stop in stops:
            stop()


RUNNING_FOR: ContextVar[Cancellation | None] = ContextVar("meshwork_cancellation", default=None)
"""The cancellation of the session whose query this thread is running (set by `Session.run` and `export`),
so an engine's `run` learns it without another argument."""


class ViewBuilder(Protocol):
    """What creates one viewer's views on a role database (catalog.query.role_views.RoleViews)."""

    def ensure(self, product_ids: set[str], timeout_s: float | None = None, masked_only: bool = False) -> None: ...


class RoleDatabase(ABC):
    """What one viewer (a role, widened by a user's live grants) queries: the role views, built on first use.

    The primitives below are what the view builder composes; `run` and `export` execute a query the gate
    vetted. A role database is shared by every session of that viewer, so view creation holds `lock`."""

    LABEL: ClassVar[str] = ""  # how messages name this engine's views ("Spark " view)
    ERRORS: ClassVar[tuple[type[BaseException], ...]] = ()  # what this engine raises when SQL fails

    def __init__(self, engine: "Engine", policy: Policy):
        self.engine = engine
        self.mesh = engine.mesh
        self.policy = policy
        self.role = policy.role or ""
        self.grants: Grants = policy.grants
        self.visible: frozenset[str] = policy.visible
        self.lock = threading.RLock()
        self.views: ViewBuilder = engine.views(self)

    def ensure(self, product_ids: set[str], timeout_s: float | None = None, masked_only: bool = False) -> None:
        """Create the role views (and the raw views under them) of these products; with `masked_only`, their
        fully masked views (what any viewer without PII access sees)."""
        self.views.ensure(product_ids, timeout_s, masked_only)

    def ensure_masked(self, product_ids: set[str], timeout_s: float | None = None) -> None:
        """Create the fully masked views of these products."""
        self.views.ensure(product_ids, timeout_s, masked_only=True)

    # ---------------------------------------------------------------- primitives the view builder uses

    def prefetch(self, product_ids: set[str], timeout_s: float | None) -> None:
        """Read, outside the lock and within `timeout_s`, what these products need from slow sources."""

    @abstractmethod
    def raw(self, product: DataProduct) -> exp.Expression:
        """The product's raw (unmasked) relation, created (with its upstreams') on first use."""

    @abstractmethod
    def raw_columns(self, product: DataProduct) -> list[str]:
        """The columns of the product's raw relation, in the source's order."""

    @abstractmethod
    def derived_source(self, product: DataProduct, over_masked: bool) -> tuple[exp.Expression, list[str]]:
        """A derived product's SELECT over this database's views of its upstreams (their fully masked views
        with `over_masked`), as a subquery, and its columns."""

    @abstractmethod
    def create_view(self, product_id: str, masked: bool, select: exp.Select) -> None:
        """Create (or replace) the product's role view (its fully masked view with `masked`) as `select`."""

    @abstractmethod
    def describe_error(self, exc: BaseException) -> str:
        """The first line of an engine error, for a message."""

    # ---------------------------------------------------------------- running vetted queries

    def render(self, tree: exp.Expression, vetted_sql: str) -> str:
        """The SQL this database runs for a vetted query (`vetted_sql`: what the gate rendered for DIALECT)."""
        return vetted_sql or tree.sql(self.engine.DIALECT)

    @abstractmethod
    def run(self, products: set[str], sql: str, max_rows: int | None, timeout_s: float, label: str,
            record: Record) -> tuple[pa.Table, int, float]:
        """Run `sql` (reading `products`) within `timeout_s`: (at most `max_rows` rows, with unique column
        names; every row counted; milliseconds). QueryTimeout past the limit, QueryFailed when it fails."""

    @abstractmethod
    def export(self, products: set[str], sql: str, path: Path, fmt: str, timeout_s: float, label: str,
               record: Record) -> int:
        """Write the whole result of `sql` to `path` as `fmt` (csv | parquet); the number of rows."""

    @abstractmethod
    def cursor(self) -> Any:
        """A DB-API cursor for internal, trusted SQL over raw views (quality scans, statistics)."""

    @abstractmethod
    def close(self) -> None: ...


class Engine(ABC):
    """Holds one RoleDatabase per role (and per role + set of live grants), built on first use."""

    name: ClassVar[str]
    DIALECT: ClassVar[str]  # the dialect the gate vets user SQL for and renders it in
    STARTS_IN_PROCESS: ClassVar[bool]  # starting it costs nothing worth avoiding (no JVM, no cluster)
    BITMAP_COUNTS: ClassVar[bool]  # has DuckDB's bitstring_agg: distinct counts of bounded integers as bitmaps
    MAX_GRANTED = 64

    def __init__(self, mesh: DeclaredMesh, *, viewers: Viewers, views: Callable[[RoleDatabase], ViewBuilder],
                 salt: str, state_dir: Path):
        """`viewers` builds the policy a database serves (and says which live grants apply, on every
        `database_for`); `views` builds the views on a database; `salt` keys the masking tokens; `state_dir`
        is what no connection may read."""
        self.mesh = mesh
        self.viewers = viewers
        self.views = views
        self.salt = salt
        self.state_dir = Path(state_dir)
        self._lock = threading.Lock()
        self._databases: dict[str, RoleDatabase] = {}
        self._granted: dict[tuple[str, Grants], RoleDatabase] = {}

    @abstractmethod
    def new_database(self, policy: Policy) -> RoleDatabase:
        """A role database serving exactly what `policy` allows."""

    def _check_role(self, role: str) -> None:
        if role not in self.mesh.roles:
            raise MeshError(f"unknown role {role!r}; this mesh has roles: {', '.join(sorted(self.mesh.roles))}")

    def database(self, role: str) -> RoleDatabase:
        """The database of `role` alone (no grants)."""
        self._check_role(role)
        with self._lock:
            if role not in self._databases:
                self._databases[role] = self.new_database(self.viewers.policy(role, grants=frozenset()))
            return self._databases[role]

    def database_for(self, role: str, user: str | None) -> RoleDatabase:
        """The database for `user` acting as `role`: the role's own, or one widened by the user's active
        grants. Sessions call this on every query, so a grant applies at once and ends at its expiry."""
        grants = self.viewers.effective_grants(role, user)
        if not grants:
            return self.database(role)
        self._check_role(role)
        key = (role, grants)
        with self._lock:
            database = self._granted.pop(key, None) or self.new_database(self.viewers.policy(role, grants=grants))
            self._granted[key] = database  # most recently used last; the oldest is dropped past the limit
            while len(self._granted) > self.MAX_GRANTED:
                self._granted.pop(next(iter(self._granted)))
            return database

    def fingerprint(self, product_id: str) -> str | None:
        """Changes when the product's data may have changed (None: cannot tell cheaply)."""
        return fingerprint(self.mesh, product_id)

    def close(self) -> None:
        with self._lock:
            for database in [*self._databases.values(), *self._granted.values()]:
                database.close()
            self._databases.clear()
            self._granted.clear()


def unique_names(table: pa.Table) -> pa.Table:
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

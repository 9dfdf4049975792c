"""One source kind = one small adapter; this package is the only place that knows the kinds.

Each adapter turns a product's source into the SELECT its raw view runs, reading the data where it
resides (nothing is copied). An adapter module provides:
    relation(product, ctx) -> sqlglot expression of the raw SELECT
    reads(product, forbidden) -> (files, folders, globs expanded) a connection must be allowed to read
    fingerprint(product, ctx) -> str | None   (changes when the data may have changed)
    modified_at(product) -> float | None      (when its data last changed, as a POSIX time; None: unknown)
    keys(product) -> set[str]                 (what the data is: two products with a key in common read it)
    place(product, root) -> (where, label)    (where the data lies, for people: no secret in it; not derived)
and optionally attach(con, product, ctx) for sources read through ATTACH, with extensions(product): the
DuckDB extensions that must be loaded before a connection's configuration is locked.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import DataProduct
from catalog.sources import dbfile, derived, files, postgres
from catalog.sources.context import SourceContext

ADAPTERS: dict[str, ModuleType] = {
    "parquet": files,
    "csv": files,
    "sqlite": dbfile,
    "duckdb": dbfile,
    "postgres": postgres,
    "sql": derived,
}
# Kinds whose data a driver-side DuckDB reads and hands to an engine that has no reader for them.
DATABASE_KINDS = ("sqlite", "duckdb", "postgres")

__all__ = ["ADAPTERS", "DATABASE_KINDS", "SourceContext", "adapter_for", "data_keys", "extensions", "fingerprint", "is_derived",
           "is_live_database", "modified_at", "place", "refreshed_at"]


def adapter_for(kind: str) -> ModuleType:
    return ADAPTERS[kind]


def is_derived(product: DataProduct) -> bool:
    """Computed by SQL over other products (its data is theirs), not read from a source of its own."""
    return product.kind == "sql"


def is_live_database(product: DataProduct) -> bool:
    """Read from a database server on every query (no file to stat, no cheap change marker)."""
    return product.kind == "postgres"


def is_file(product: DataProduct) -> bool:
    """Read from Parquet or CSV files (or globs of them), which scale-out engines read themselves."""
    return adapter_for(product.kind) is files


def extensions(product: DataProduct) -> tuple[str, ...]:
    """The DuckDB extensions reading this product needs (loaded before a connection is locked down)."""
    needs = getattr(adapter_for(product.kind), "extensions", None)
    return needs(product) if needs is not None else ()


def data_keys(product: DataProduct) -> set[str]:
    """What a product's raw data is, independent of the descriptor naming it: resolved files, a database
    file's table, a PostgreSQL table (empty when that cannot be told). Two products with a key in common
    read the same data."""
    try:
        return adapter_for(product.descriptor.source.kind).keys(product)
    except (OSError, ValueError, AttributeError, TypeError, KeyError):
        return set()


def place(product: DataProduct, root: Path) -> tuple[str, str]:
    """(where a source-backed product's data lies, a short label), paths relative to `root`, secrets never
    shown: `parquet:data/x.parquet`, `sqlite:db/app.sqlite/main.t`, `postgres:postgresql://u:***@h/db/t`."""
    return adapter_for(product.kind).place(product, root)


def fingerprint(mesh: DeclaredMesh, product_id: str) -> str | None:
    """Changes when the product's data may have changed (None: cannot tell cheaply); a derived product's
    follows its inputs'."""
    product = mesh.product(product_id)
    ctx = SourceContext(root=mesh.root, load_extension=lambda _: None)
    if is_derived(product):
        upstream = [fingerprint(mesh, u) for u in sorted(mesh.upstreams(product_id))]
        return derived.fingerprint(product, ctx, upstream)
    return adapter_for(product.kind).fingerprint(product, ctx)


def modified_at(product: DataProduct) -> float | None:
    """When the product's own source data last changed (POSIX seconds); None for a derived product, a live
    database, or a missing file."""
    return adapter_for(product.kind).modified_at(product)


def refreshed_at(mesh: DeclaredMesh, product_id: str, _seen: frozenset[str] = frozenset()) -> float | None:
    """When the data a product serves last changed: its source's `modified_at`, a derived product's newest
    input's."""
    product = mesh.product(product_id)
    if not is_derived(product):
        return modified_at(product)
    times = [refreshed_at(mesh, u, _seen | {product_id}) for u in mesh.upstreams(product_id)
             if u not in _seen and u in mesh.products]
    return max((t for t in times if t is not None), default=None)

"""A table in a SQLite or DuckDB database file, attached read-only."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import duckdb
from sqlglot import exp

from catalog.errors import SourceUnavailable
from catalog.descriptors.loader import resolve_source_path
from catalog.descriptors.model import DataProduct
from catalog.sources.context import SourceContext, shown_path, string_literal

_TYPES = {"sqlite": "sqlite", "duckdb": "duckdb"}


def extensions(product: DataProduct) -> tuple[str, ...]:
    """The DuckDB extensions a connection must load before its configuration is locked."""
    return ("sqlite_scanner",) if product.source.kind == "sqlite" else ()


def attach(con: duckdb.DuckDBPyConnection, product: DataProduct, ctx: SourceContext) -> str:
    path = str(resolve_source_path(product, product.source.path).resolve())
    key = f"{product.source.kind}:{path}"
    if key in ctx.attached:
        return ctx.attached[key]
    if product.source.kind == "sqlite":
        ctx.load_extension("sqlite_scanner")
    alias = ctx.alias_for(key, product.source.kind)
    statement = exp.Attach(
        this=exp.alias_(string_literal(path), alias),
        expressions=[exp.AttachOption(this=exp.var("TYPE"), expression=exp.var(_TYPES[product.source.kind])),
                     exp.AttachOption(this=exp.var("READ_ONLY"))],
    )
    try:
        con.execute(statement.sql("duckdb"))
    except duckdb.Error as exc:
        del ctx.attached[key]
        raise SourceUnavailable(f"{product.id}: cannot open {product.source.kind} file {product.source.path}: {exc}") from None
    return alias


def relation(product: DataProduct, ctx: SourceContext) -> exp.Select:
    path = str(resolve_source_path(product, product.source.path).resolve())
    alias = ctx.attached[f"{product.source.kind}:{path}"]
    schema = product.source.db_schema or "main"
    return exp.select("*").from_(exp.table_(product.source.table, db=schema, catalog=alias, quoted=True))


def reads(product: DataProduct, forbidden: list) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """The files a connection must be allowed to read for this product: the database file (and its WAL)."""
    path = resolve_source_path(product, product.source.path).resolve()
    real = os.path.realpath(path)
    return [str(path), real, real + ".wal"], [], {}


def fingerprint(product: DataProduct, ctx: SourceContext) -> str | None:
    path = resolve_source_path(product, product.source.path)
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return hashlib.sha1(f"{path}:{stat.st_size}:{stat.st_mtime_ns}:{product.source.table}".encode()).hexdigest()


def modified_at(product: DataProduct) -> float | None:
    """When the database file last changed (None when it is missing)."""
    try:
        return os.stat(resolve_source_path(product, product.source.path)).st_mtime
    except OSError:
        return None


def keys(product: DataProduct) -> set[str]:
    """What the data is, whatever descriptor names it: the database file's table."""
    source = product.source
    path = os.path.realpath(str(resolve_source_path(product, source.path)))
    return {f"db:{path}:{(source.db_schema or 'main').lower()}.{str(source.table).lower()}"}


def place(product: DataProduct, root: Path) -> tuple[str, str]:
    """(where the data lies, short label): `sqlite:<path under root>/<table>` and `<file>/<table>`."""
    source = product.source
    table = f"{source.db_schema}.{source.table}" if source.db_schema else source.table
    location = shown_path(root, resolve_source_path(product, source.path))
    return f"{source.kind}:{location}/{table}", f"{location.rsplit('/', 1)[-1]}/{table}"

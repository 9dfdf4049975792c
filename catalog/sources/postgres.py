"""A PostgreSQL table, read in place through DuckDB's postgres scanner (read-only)."""

from __future__ import annotations

import os
import re

import duckdb
from sqlglot import exp

from catalog.errors import SourceUnavailable
from catalog.model import DataProduct
from catalog.sources.context import SourceContext, string_literal

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def dsn_of(product: DataProduct) -> str:
    """The connection string with ${VAR} expanded, so secrets stay out of descriptors."""
    return _ENV.sub(lambda m: os.environ.get(m.group(1), ""), product.source.dsn)


def redact(dsn: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", re.sub(r"password=\S+", "password=***", dsn))


def attach(con: duckdb.DuckDBPyConnection, product: DataProduct, ctx: SourceContext) -> str:
    dsn = dsn_of(product)
    key = f"postgres:{dsn}"
    if key in ctx.attached:
        return ctx.attached[key]
    ctx.load_extension("postgres_scanner")
    alias = ctx.alias_for(key, "pg")
    statement = exp.Attach(
        this=exp.alias_(string_literal(dsn), alias),
        expressions=[exp.AttachOption(this=exp.var("TYPE"), expression=exp.var("postgres")),
                     exp.AttachOption(this=exp.var("READ_ONLY"))],
    )
    try:
        con.execute(statement.sql("duckdb"))
    except duckdb.Error as exc:
        del ctx.attached[key]
        message = str(exc).replace(dsn, redact(dsn)).splitlines()[0]
        raise SourceUnavailable(f"{product.id}: cannot reach PostgreSQL at {redact(dsn)}: {message}") from None
    return alias


def relation(product: DataProduct, ctx: SourceContext) -> exp.Select:
    alias = ctx.attached[f"postgres:{dsn_of(product)}"]
    return exp.select("*").from_(
        exp.table_(product.source.table, db=product.source.db_schema, catalog=alias, quoted=True))


def fingerprint(product: DataProduct, ctx: SourceContext) -> str | None:
    return None  # a live database gives no cheap change marker; results are never cached

"""One source kind = one small adapter. Each turns a product's source into the
SELECT its raw view runs, reading the data where it resides (nothing is copied).

An adapter module provides:
    relation(product, ctx) -> sqlglot expression of the raw SELECT
    fingerprint(product, ctx) -> str | None   (changes when the data may have changed)
and optionally attach(con, product, ctx) for sources read through ATTACH.
"""

from __future__ import annotations

from types import ModuleType

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

__all__ = ["ADAPTERS", "SourceContext", "adapter_for"]


def adapter_for(kind: str) -> ModuleType:
    return ADAPTERS[kind]

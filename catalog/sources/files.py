"""Parquet and CSV files (or globs) under the mesh folder, read in place."""

from __future__ import annotations

import glob
import hashlib
import os

from sqlglot import exp

from catalog.loader import resolve_source_path
from catalog.model import DataProduct
from catalog.sources.context import SourceContext, string_literal

_READERS = {"parquet": "read_parquet", "csv": "read_csv"}


def relation(product: DataProduct, ctx: SourceContext) -> exp.Select:
    source = product.source
    path = str(resolve_source_path(product, source.path).resolve())
    args: list[exp.Expression] = [string_literal(path)]
    options = dict(source.options)
    if source.kind == "csv":
        options.setdefault("header", True)
    for key, value in options.items():
        literal = exp.convert(value)
        args.append(exp.EQ(this=exp.column(key), expression=literal))
    reader = exp.Anonymous(this=_READERS[source.kind], expressions=args)
    return exp.select("*").from_(exp.Table(this=reader))


def files_of(product: DataProduct) -> list[str]:
    path = str(resolve_source_path(product, product.source.path))
    return sorted(glob.glob(path)) if any(ch in path for ch in "*?[") else [path]


def fingerprint(product: DataProduct, ctx: SourceContext) -> str | None:
    digest = hashlib.sha1()
    for path in files_of(product):
        try:
            stat = os.stat(path)
        except OSError:
            return None
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()

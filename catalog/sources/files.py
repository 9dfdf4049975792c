"""Parquet and CSV files (or globs) under the mesh folder, read in place."""

from __future__ import annotations

import glob
import hashlib
import itertools
import os
from pathlib import Path

from sqlglot import exp

from catalog.descriptors.loader import resolve_source_path
from catalog.descriptors.model import DataProduct
from catalog.sources.context import SourceContext, shown_path, string_literal

_READERS = {"parquet": "read_parquet", "csv": "read_csv"}
_WILDCARDS = "*?["


def relation(product: DataProduct, ctx: SourceContext) -> exp.Select:
    source = product.source
    path = str(resolve_source_path(product, source.path).resolve())
    args: list[exp.Expression] = [string_literal(path)]
    if is_pattern(source.path) and path in ctx.expanded:
        args = [exp.Array(expressions=[string_literal(f) for f in ctx.expanded[path]])]
    options = dict(source.options)
    if source.kind == "csv":
        options.setdefault("header", True)
    for key, value in options.items():
        literal = exp.convert(value)
        args.append(exp.EQ(this=exp.column(key), expression=literal))
    reader = exp.Anonymous(this=_READERS[source.kind], expressions=args)
    return exp.select("*").from_(exp.Table(this=reader))


def is_pattern(path: str) -> bool:
    return any(ch in path for ch in _WILDCARDS)


def files_of(product: DataProduct) -> list[str]:
    path = str(resolve_source_path(product, product.source.path))
    return sorted(glob.glob(path, recursive=True)) if is_pattern(path) else [path]


def pattern_folder(path: str) -> Path:
    """The folder a glob cannot leave: its path up to the first wildcard."""
    parts = Path(path).parts
    fixed = list(itertools.takewhile(lambda p: not is_pattern(p), parts))
    return Path(*fixed) if fixed else Path("/")


def reads(product: DataProduct, forbidden: list[Path]) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """What a connection must be allowed to read for this product: (exact files, folders, globs expanded).

    A glob may read its folder, unless that folder holds a forbidden one (the state folder): then only the
    files it matches now are allowed, and the glob is read as that list."""
    path = resolve_source_path(product, product.source.path).resolve()
    if not is_pattern(product.source.path):
        return [os.path.realpath(path), str(path)], [], {}
    folder = pattern_folder(str(path))
    if any(f == folder.resolve() or folder.resolve() in f.parents for f in forbidden):
        matched = sorted(glob.glob(str(path), recursive=True))
        return [*matched, *(os.path.realpath(m) for m in matched)], [], {str(path): matched}
    return [], [str(folder) + "/", os.path.realpath(folder) + "/"], {}


def fingerprint(product: DataProduct, ctx: SourceContext) -> str | None:
    digest = hashlib.sha1()
    for path in files_of(product):
        try:
            stat = os.stat(path)
        except OSError:
            return None
        digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def modified_at(product: DataProduct) -> float | None:
    """The newest modification time of the product's files (None when none exists)."""
    times = []
    for path in files_of(product):
        try:
            times.append(os.stat(path).st_mtime)
        except OSError:
            continue
    return max(times) if times else None


def keys(product: DataProduct) -> set[str]:
    """What the data is, whatever descriptor names it: every file it resolves to (and the path as written)."""
    paths = [*files_of(product), resolve_source_path(product, product.source.path)]
    return {f"file:{os.path.realpath(str(p))}" for p in paths}


def place(product: DataProduct, root: Path) -> tuple[str, str]:
    """(where the data lies, short label): `csv:<path under root>` and the file name."""
    location = shown_path(root, resolve_source_path(product, product.source.path))
    return f"{product.source.kind}:{location}", location.rsplit("/", 1)[-1]

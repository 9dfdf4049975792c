"""Load DuckDB extensions from the installed `duckdb-extension-<name>` packages.

Extensions cannot be downloaded at run time on every machine, so the pinned PyPI
packages ship them; DuckDB's own INSTALL is the fallback where a network exists.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb

from catalog.errors import MeshError

# extension name -> the package that ships it (the postgres one must keep this file name)
_PACKAGES = {
    "fts": "duckdb_extension_fts",
    "postgres_scanner": "duckdb_extension_postgres_scanner",
    "sqlite_scanner": "duckdb_extension_sqlite_scanner",
    "tpch": "duckdb_extension_tpch",
}


def extension_file(name: str) -> Path | None:
    package = _PACKAGES.get(name)
    if package is None:
        return None
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    folder = Path(module.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    candidate = folder / f"{name}.duckdb_extension"
    return candidate if candidate.is_file() else None


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """LOAD `name` from its package, else INSTALL it from DuckDB's repository."""
    path = extension_file(name)
    try:
        if path is not None:
            con.execute(f"LOAD '{_quote(str(path))}'")
        else:
            con.execute(f"INSTALL {name}")
            con.execute(f"LOAD {name}")
    except duckdb.Error as exc:
        raise MeshError(f"cannot load the DuckDB extension {name!r}: {exc}. "
                        f"Install the package duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__}") from None


def _quote(text: str) -> str:
    return text.replace("'", "''")

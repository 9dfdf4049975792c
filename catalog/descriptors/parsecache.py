"""Parsed descriptors kept in the state folder, so reopening a large mesh skips YAML and SQL parsing.

Only the data is kept; line numbers, needed only to report a problem, come from parsing that one file again.

An entry is reused only while its file has the same size and modification time (nanoseconds);
files changed in the last few seconds are never cached, because a same-size edit inside one
clock tick would keep the old mtime. The cache is `marshal` data (no code runs on load) written
atomically; a missing, corrupt or foreign cache is simply rebuilt.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import time
from pathlib import Path
from typing import Any

from catalog import sqlutil
from catalog.descriptors.yamlio import YamlDocument, YamlError, read_yaml, write_atomic

CACHE_FILE = "parse-cache.marshal"
FORMAT = 3
SETTLE_S = 3.0  # a file younger than this may still change within its mtime tick


def _lines_of(path: Path) -> dict[Any, int]:
    """Line numbers are only needed to report a problem, so a cached document parses again for them."""
    try:
        return read_yaml(path).lines
    except (YamlError, OSError):
        return {}


class ParseCache:
    """Parsed YAML documents by path and the products a SQL text reads, for one load of one mesh."""

    def __init__(self, folder: Path | None):
        self.path = Path(folder) / CACHE_FILE if folder else None
        self._files: dict[str, tuple[int, int, bytes]] = {}
        self._sql: dict[str, tuple[list[str], str | None, list[str] | None]] = {}
        self._used_files: dict[str, tuple[int, int, bytes]] = {}
        self._used_sql: dict[str, tuple[list[str], str | None, list[str] | None]] = {}
        self._dirty = False
        self.hits = 0
        if self.path is not None:
            self._load()

    def _load(self) -> None:
        try:
            raw = marshal.loads(self.path.read_bytes())  # type: ignore[union-attr]
        except (OSError, EOFError, ValueError, TypeError):
            return
        if isinstance(raw, dict) and raw.get("format") == FORMAT:
            self._files = raw.get("files", {})
            self._sql = raw.get("sql", {})

    def read_yaml(self, path: Path, stat: os.stat_result | None = None) -> YamlDocument:
        """Like `yamlio.read_yaml`, served from the cache while the file is unchanged (`stat`: the file's, when
        the caller has it)."""
        key = str(path)
        stat = stat or path.stat()
        entry = self._files.get(key)
        if entry is not None and entry[0] == stat.st_mtime_ns and entry[1] == stat.st_size:
            try:
                data = marshal.loads(entry[2])
                self._used_files[key] = entry
                self.hits += 1
                return YamlDocument(data, reparse=lambda: _lines_of(path))
            except (EOFError, ValueError, TypeError):
                pass
        doc = read_yaml(path)
        if time.time() - stat.st_mtime_ns / 1e9 > SETTLE_S:
            try:
                blob = marshal.dumps(doc.data)
            except ValueError:  # a value marshal cannot hold (a YAML date): parse this file every time
                return doc
            self._used_files[key] = (stat.st_mtime_ns, stat.st_size, blob)
        self._dirty = True
        return doc

    def sql_references(self, sql: str) -> tuple[list[str], str | None]:
        """The table names a product's SQL reads, sorted, or ([], why it does not parse)."""
        names, error, _ = self._parsed(sql)
        return list(names), error

    def sql_outputs(self, sql: str) -> list[str] | None:
        """The column names the SQL produces, as written (None when it selects a `*` or does not parse)."""
        outputs = self._parsed(sql)[2]
        return list(outputs) if outputs is not None else None

    def _parsed(self, sql: str) -> tuple[list[str], str | None, list[str] | None]:
        """What one parse of a product's SQL tells: the tables it reads, why it does not parse, its outputs."""
        cached = self._sql.get(sql)
        if cached is not None and len(cached) == 3:
            self._used_sql[sql] = cached
            return cached
        try:
            tree = sqlutil.parse_one_select(sql)
            result: tuple[list[str], str | None, list[str] | None] = (
                sorted(sqlutil.referenced_tables(tree)), None, sqlutil.output_names(tree))
        except sqlutil.SqlParseError as exc:
            result = ([], str(exc), None)
        self._used_sql[sql] = result
        self._dirty = True
        return result

    def save(self) -> None:
        """Write what this load used (stale and deleted files drop out); best effort."""
        if self.path is None:
            return
        if not self._dirty and len(self._used_files) == len(self._files) and len(self._used_sql) == len(self._sql):
            return
        payload: dict[str, Any] = {"format": FORMAT, "files": self._used_files, "sql": self._used_sql}
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, marshal.dumps(payload))

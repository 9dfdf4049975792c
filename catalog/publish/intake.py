"""Reading a would-be product's data before it is published: an upload checked for being what its name
says, or a PostgreSQL table read in place; returns its first rows, SQL types and row count for profiling.

Everything here runs on a private in-memory DuckDB, never on the mesh's locked-down role databases, with the
mesh's memory limit and a time limit. An upload is hostile until read: a Parquet file whose footer declares
more uncompressed data than UPLOAD_BUDGET_BYTES (or than UPLOAD_MAX_RATIO times its own size) is refused from
its footer alone, before a page is read; compressed CSV is refused; text values are cut to PROFILE_CHARS
before they reach Python, so a long value repeated many times cannot blow up the profile.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from catalog.descriptors.dsn import check_typed, redact, scrub, with_connect_timeout
from catalog.descriptors.yamlio import read_yaml, write_atomic
from catalog.errors import MeshError, PublishError
from catalog.engines.extensions import load_extension

PROFILE_ROWS = 50_000
PROFILE_CHARS = 1_000            # longest text value profiled (the data itself is published whole)
FILE_KINDS = {".csv": "csv", ".parquet": "parquet"}
UPLOAD_BUDGET_BYTES = 1_000_000_000   # uncompressed data an uploaded Parquet file may declare
UPLOAD_MAX_RATIO = 200                # ... and at most this many times its own size (beyond 50 MB)
MAX_FOOTER_BYTES = 16_000_000
READ_TIMEOUT_S = 120.0
DEFAULT_MEMORY_LIMIT = "512MB"        # what reading a would-be product may take, at most the mesh's own limit


def _read_relation(con: duckdb.DuckDBPyConnection, select: exp.Select) -> tuple[pl.DataFrame, dict[str, str], int]:
    """(first PROFILE_ROWS rows, text cut to PROFILE_CHARS, SQL types by column, total row count) of a SELECT."""
    relation = con.sql(select.sql("duckdb"))
    types = {name: str(t) for name, t in zip(relation.columns, relation.types)}
    total = con.sql(exp.select("count(*)").from_(select.subquery("t")).sql("duckdb")).fetchone()[0]
    columns = [exp.alias_(exp.Substring(this=exp.column(name, quoted=True), start=exp.Literal.number(1),
                                        length=exp.Literal.number(PROFILE_CHARS)), name, quoted=True)
               if types[name] == "VARCHAR" else exp.column(name, quoted=True) for name in relation.columns]
    head = exp.select(*columns).from_(select.limit(PROFILE_ROWS).subquery("t"))
    frame = con.sql(head.sql("duckdb")).pl()
    return frame, types, int(total)


# What files write for "no value" (R writes NA, pandas NaN, databases NULL); DuckDB reads only the empty field.
NULL_TOKENS = ("NA", "N/A", "NULL", "null", "NaN")


def _null_tokens(con: duckdb.DuckDBPyConnection, path: Path, options: dict[str, Any]) -> dict[str, Any]:
    """`{nullstr: [...]}` when a CSV spells missing values with tokens that turn numbers, dates or booleans into
    text (nycflights13's `NA`); nothing when no column would change type, so a real "NA" string stays."""
    relation = con.sql(_file_select(path, "csv", options).sql("duckdb"))
    text = [name for name, kind in zip(relation.columns, relation.types) if str(kind) == "VARCHAR"]
    if not text:
        return {}
    found = exp.select(*[exp.func("bool_or", exp.column(n, quoted=True).isin(*NULL_TOKENS)).as_(n, quoted=True)
                         for n in text]).from_(_file_select(path, "csv", options).limit(100_000).subquery("t"))
    row = con.sql(found.sql("duckdb")).fetchone()
    columns = [n for n, hit in zip(text, row) if hit]
    if not columns:
        return {}
    per_token = exp.select(*[exp.func("bool_or", exp.or_(*[exp.column(c, quoted=True).eq(exp.Literal.string(t))
                                                            for c in columns])).as_(f"t{i}")
                             for i, t in enumerate(NULL_TOKENS)]).from_(
        _file_select(path, "csv", options).limit(100_000).subquery("t"))
    hits = con.sql(per_token.sql("duckdb")).fetchone()
    tokens = ["", *[t for t, hit in zip(NULL_TOKENS, hits) if hit]]
    retyped = con.sql(_file_select(path, "csv", options | {"nullstr": tokens}).sql("duckdb"))
    after = dict(zip(retyped.columns, map(str, retyped.types)))
    return {"nullstr": tokens} if any(after.get(c) != "VARCHAR" for c in columns) else {}


def _bytes(limit: str) -> float | None:
    match = re.fullmatch(r"\s*([\d.]+)\s*([KMGT]?i?B)?\s*", limit or "", re.I)
    if not match:
        return None
    unit = (match.group(2) or "B").upper().replace("I", "")
    return float(match.group(1)) * {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit]


def upload_memory_limit(mesh_limit: str | None) -> str:
    """The smaller of the mesh's memory limit and DEFAULT_MEMORY_LIMIT: profiling never needs more."""
    mine, theirs = _bytes(DEFAULT_MEMORY_LIMIT), _bytes(mesh_limit or "")
    return mesh_limit if theirs is not None and mine is not None and theirs < mine else DEFAULT_MEMORY_LIMIT


def _connect(memory_limit: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:", config={"threads": 1, "memory_limit": upload_memory_limit(memory_limit)})


class _Deadline:
    """Interrupts a DuckDB connection once `seconds` have passed, and again every 50 ms until the work ends (an
    interrupt that lands between two statements is otherwise lost); `expired` says whether it fired."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seconds: float):
        self.expired = False
        self._con, self._seconds = con, seconds
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        if self._done.wait(self._seconds):
            return
        self.expired = True
        while not self._done.is_set():
            self._con.interrupt()
            self._done.wait(0.05)

    def __enter__(self) -> "_Deadline":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


def check_parquet_budget(path: Path, filename: str, size: int | None = None) -> None:
    """Refuse an uploaded Parquet file from its footer alone when it declares more uncompressed data than the
    budget (a small file of highly compressible values that would grow the server by gigabytes)."""
    size = path.stat().st_size if size is None else size
    with path.open("rb") as handle:
        handle.seek(max(0, size - 8))
        tail = handle.read(8)
    footer = int.from_bytes(tail[:4], "little") if len(tail) == 8 else 0
    if footer > min(MAX_FOOTER_BYTES, size):
        raise PublishError(f"{filename} cannot be read as PARQUET: its footer declares {footer:,} bytes of "
                           "metadata, more than the file holds or a publishable file has; refused before reading")
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as exc:
        raise PublishError(f"{filename} cannot be read as PARQUET: {str(exc).splitlines()[0]}") from None
    declared = 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        declared += max(group.total_byte_size,
                        sum(group.column(c).total_uncompressed_size for c in range(group.num_columns)))
    ratio = declared / max(size, 1)
    if declared > UPLOAD_BUDGET_BYTES or (declared > 50_000_000 and ratio > UPLOAD_MAX_RATIO):
        raise PublishError(f"{filename} is {size / 1e6:,.2f} MB but declares {declared / 1e6:,.0f} MB of "
                           f"uncompressed data ({ratio:,.0f} times its size), over the upload budget of "
                           f"{UPLOAD_BUDGET_BYTES / 1e6:,.0f} MB; publish data this large from where it lives "
                           "(a data root of mesh.yaml, or PostgreSQL)")


def _sniff_upload(data: bytes, filename: str, kind: str) -> None:
    if not data:
        raise PublishError(f"{filename} is empty: upload a file with a header row and data")
    looks_parquet = data[:4] == b"PAR1"
    if kind == "parquet" and not (looks_parquet and data[-4:] == b"PAR1"):
        raise PublishError(f"{filename} is not a Parquet file (it lacks the PAR1 markers); upload a real .parquet "
                           "file, or name a CSV file .csv")
    if kind == "csv":
        if looks_parquet:
            raise PublishError(f"{filename} is a Parquet file, not CSV: rename it to .parquet")
        head = data[:65536]
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        except UnicodeDecodeError as exc:
            raise PublishError(f"{filename} is not UTF-8 text (byte {exc.start}), so it is not a CSV file") from None
        if b"\x00" in head:
            raise PublishError(f"{filename} contains binary data (NUL bytes), so it is not a CSV file")


def _refuse_compressed(data: bytes, filename: str) -> None:
    """A compressed CSV (gzip, zip, zstd, bzip2, xz) hides its real size: it is uploaded uncompressed."""
    for magic, name in ((b"\x1f\x8b", "gzip"), (b"PK\x03\x04", "zip"), (b"\x28\xb5\x2f\xfd", "zstd"),
                        (b"BZh", "bzip2"), (b"\xfd7zXZ", "xz")):
        if data.startswith(magic):
            raise PublishError(f"{filename} is {name}-compressed: upload the CSV uncompressed (its size is then "
                               "what the upload limit checks)")


def _file_select(path: Path, kind: str, options: dict[str, Any]) -> exp.Select:
    args: list[exp.Expression] = [exp.Literal.string(str(path))]
    args += [exp.EQ(this=exp.column(k), expression=exp.convert(v)) for k, v in options.items()]
    reader = exp.Anonymous(this="read_csv" if kind == "csv" else "read_parquet", expressions=args)
    return exp.select("*").from_(exp.Table(this=reader))


def kind_of(filename: str) -> str:
    kind = FILE_KINDS.get(Path(filename).suffix.lower())
    if kind is None:
        raise PublishError(f"{filename}: only .csv and .parquet files can be published")
    return kind


def read_upload(data: bytes, filename: str, memory_limit: str = DEFAULT_MEMORY_LIMIT,
                timeout_s: float = READ_TIMEOUT_S) -> tuple[str, dict[str, Any], pl.DataFrame, dict[str, str], int]:
    """Check an uploaded file is what its name says and within the budget, then read it with `memory_limit`
    and `timeout_s`: (kind, csv options, rows, types, total)."""
    kind = kind_of(filename)
    if kind == "csv":
        _refuse_compressed(data, filename)
    _sniff_upload(data, filename, kind)
    with tempfile.TemporaryDirectory(prefix="meshwork-upload-") as tmp:
        path = Path(tmp) / f"upload.{kind}"
        path.write_bytes(data)
        if kind == "parquet":
            check_parquet_budget(path, filename, len(data))
        return kind, *read_path(path, filename, kind, memory_limit, timeout_s)


def read_in_place(path: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT, timeout_s: float = READ_TIMEOUT_S
                  ) -> tuple[str, dict[str, Any], pl.DataFrame, dict[str, str], int]:
    """Read a file that stays where it is (under the mesh or a data root; no size budget, but the memory and
    time limits); only its head is sniffed."""
    kind = kind_of(path.name)
    with path.open("rb") as handle:
        head = handle.read(65536)
        handle.seek(max(0, path.stat().st_size - 4))
        tail = handle.read(4)
    if kind == "csv":
        _refuse_compressed(head, path.name)
    _sniff_upload(head if kind == "csv" else head[:4] + tail, path.name, kind)
    return kind, *read_path(path, path.name, kind, memory_limit, timeout_s)


def read_path(path: Path, filename: str, kind: str, memory_limit: str = DEFAULT_MEMORY_LIMIT,
              timeout_s: float = READ_TIMEOUT_S) -> tuple[dict[str, Any], pl.DataFrame, dict[str, str], int]:
    """(reader options, first PROFILE_ROWS rows, SQL types, row count) of a CSV or Parquet file, read with
    `memory_limit` and interrupted after `timeout_s`."""
    con = _connect(memory_limit)
    options: dict[str, Any] = {"header": True} if kind == "csv" else {}
    deadline = _Deadline(con, timeout_s)
    try:
        with deadline:
            names = con.sql(_file_select(path, kind, options).limit(0).sql("duckdb")).columns
            if kind == "csv" and any(not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", n) for n in names):
                options["normalize_names"] = True   # "First Name" -> first_name, in the product's view too
            if kind == "csv":
                options |= _null_tokens(con, path, options)
            frame, types, total = _read_relation(con, _file_select(path, kind, options))
    except (duckdb.Error, MemoryError) as exc:
        if deadline.expired:
            raise PublishError(f"{filename}: reading it took longer than {timeout_s:g} s, so it was stopped; "
                               "publish data this large from where it lives") from None
        if isinstance(exc, (duckdb.OutOfMemoryException, MemoryError)):
            raise PublishError(f"{filename}: reading it needs more than the {upload_memory_limit(memory_limit)} "
                               "a draft may use; publish data this large from where it lives") from None
        raise PublishError(f"{filename} cannot be read as {kind.upper()}: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    if kind == "csv" and len(frame.columns) == 1:
        with path.open("rb") as handle:
            _check_ragged(handle.read(1_000_000), filename)
    bad = [n for n in frame.columns if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", n)]
    if bad:
        raise PublishError(f"{filename}: column name(s) {', '.join(map(repr, bad))} are not valid; use letters, "
                           "digits and _ (not starting with a digit)")
    if total == 0:
        raise PublishError(f"{filename} has no data rows: a product needs at least one row to profile")
    options.pop("header", None)
    return options, frame, types, total


def _check_ragged(data: bytes, filename: str) -> None:
    """One column although the header has separators: DuckDB gave up on a delimiter because the rows
    disagree on their number of fields. Say which line breaks the pattern instead of publishing a blob."""
    text = data[:1_000_000].decode("utf-8", errors="replace")
    header = text.splitlines()[0] if text else ""
    delimiter = max(",;\t|", key=header.count)
    if not header.count(delimiter):
        return
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    width = len(next(rows))
    for number, row in enumerate(rows, start=2):
        if row and len(row) != width:
            raise PublishError(f"{filename}:{number}: this row has {len(row)} fields but the header has {width} "
                               f"(separated by {delimiter!r}); fix the file so every row has the same columns")


def parse_postgres_uri(uri: str) -> tuple[str, str, str]:
    """`postgresql://user@host/db?table=schema.table` (or `#schema.table`) -> (dsn, schema, table)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    target = unquote(parts.fragment) or next((v for k, v in query if k == "table"), "")
    if not target:
        raise PublishError(f"{redact(uri)}: name the table, e.g. postgresql://user@host/db?table=public.customers")
    schema, _, table = target.rpartition(".")
    dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode([(k, v) for k, v in query if k != "table"]),
                      ""))
    return dsn, schema or "public", table


def read_postgres(dsn: str, schema: str, table: str, allowed_hosts: Iterable[str] = ()
                  ) -> tuple[pl.DataFrame, dict[str, str], int]:
    """A table read in place over a connection string a person typed: used literally (catalog.descriptors.dsn), with a
    connect timeout, only to an allowed host; no message shows its password."""
    try:
        expanded = check_typed(dsn, allowed_hosts)
    except MeshError as exc:
        raise PublishError(str(exc)) from None
    con = duckdb.connect(":memory:", config={"threads": 1})
    try:
        load_extension(con, "postgres_scanner")
        attach = exp.Attach(this=exp.alias_(exp.Literal.string(with_connect_timeout(expanded)), "src"),
                            expressions=[exp.AttachOption(this=exp.var("TYPE"), expression=exp.var("postgres")),
                                         exp.AttachOption(this=exp.var("READ_ONLY"))])
        try:
            con.execute(attach.sql("duckdb"))
        except duckdb.Error as exc:
            message = scrub(str(exc), dsn, expanded)
            raise PublishError(f"cannot reach PostgreSQL at {redact(dsn)}: {message}") from None
        known = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                            "WHERE table_catalog = 'src' ORDER BY 1, 2").fetchall()
        if (schema, table) not in known:
            listing = ", ".join(f"{s}.{t}" for s, t in known[:20]) or "none"
            raise PublishError(f"no table {schema}.{table} in {redact(dsn)}; tables there: {listing}")
        select = exp.select("*").from_(exp.table_(table, db=schema, catalog="src", quoted=True))
        try:
            return _read_relation(con, select)
        except duckdb.Error as exc:
            raise PublishError(f"cannot read {schema}.{table} from {redact(dsn)}: {scrub(str(exc), dsn)}") from None
    finally:
        con.close()


def add_data_root(root: Path, folder: Path) -> bool:
    """Declare `folder` in mesh.yaml's `data_roots` (the mesh may then read files there in place), editing the
    line so the rest of the file, comments included, stays as written; False when it is one already."""
    mesh_file = root / "mesh.yaml"
    doc = read_yaml(mesh_file)
    current = list((doc.data or {}).get("data_roots") or [])
    resolved = [(Path(r) if Path(r).is_absolute() else root / r).resolve() for r in current]
    if folder.resolve() in resolved:
        return False
    lines = mesh_file.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = str(folder.resolve())
    if "data_roots" not in (doc.data or {}):
        text = "".join(lines) + ("" if not lines or lines[-1].endswith("\n") else "\n") + \
            f"data_roots: [{json.dumps(entry)}]\n"
    else:
        at = doc.line_of(("data_roots",)) - 1
        end = at + 1
        while end < len(lines) and (lines[end].startswith((" ", "-", "\t")) or not lines[end].strip()):
            end += 1
        block = "data_roots:\n" + "".join(f"  - {json.dumps(str(r))}\n" for r in [*current, entry])
        text = "".join(lines[:at]) + block + "".join(lines[end:])
    write_atomic(mesh_file, text)
    return True

"""Reading a would-be product's data before it is published: an upload checked for being what its name
says, or a PostgreSQL table read in place; returns its first rows, SQL types and row count for profiling.

Everything here runs on a private in-memory DuckDB, never on the mesh's locked-down role databases.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import duckdb
import polars as pl
from sqlglot import exp

from catalog.dsn import check_typed, redact, scrub, with_connect_timeout
from catalog.errors import MeshError, PublishError
from catalog.extensions import load_extension

PROFILE_ROWS = 50_000
FILE_KINDS = {".csv": "csv", ".parquet": "parquet"}


def _read_relation(con: duckdb.DuckDBPyConnection, select: exp.Select) -> tuple[pl.DataFrame, dict[str, str], int]:
    """(first PROFILE_ROWS rows, SQL types by column, total row count) of a SELECT."""
    relation = con.sql(select.sql("duckdb"))
    types = {name: str(t) for name, t in zip(relation.columns, relation.types)}
    total = con.sql(exp.select("count(*)").from_(select.subquery("t")).sql("duckdb")).fetchone()[0]
    frame = con.sql(select.limit(PROFILE_ROWS).sql("duckdb")).pl()
    return frame, types, int(total)


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


def read_upload(data: bytes, filename: str) -> tuple[str, dict[str, Any], pl.DataFrame, dict[str, str], int]:
    """Check an uploaded file is what its name says and read it: (kind, csv options, rows, types, total)."""
    kind = kind_of(filename)
    _sniff_upload(data, filename, kind)
    with tempfile.TemporaryDirectory(prefix="meshwork-upload-") as tmp:
        path = Path(tmp) / f"upload.{kind}"
        path.write_bytes(data)
        return kind, *read_path(path, filename, kind)


def read_in_place(path: Path) -> tuple[str, dict[str, Any], pl.DataFrame, dict[str, str], int]:
    """Read a file that stays where it is (under the mesh or a data root); only its head is sniffed."""
    kind = kind_of(path.name)
    with path.open("rb") as handle:
        head = handle.read(65536)
        handle.seek(max(0, path.stat().st_size - 4))
        tail = handle.read(4)
    _sniff_upload(head if kind == "csv" else head[:4] + tail, path.name, kind)
    return kind, *read_path(path, path.name, kind)


def read_path(path: Path, filename: str, kind: str) -> tuple[dict[str, Any], pl.DataFrame, dict[str, str], int]:
    """(reader options, first PROFILE_ROWS rows, SQL types, row count) of a CSV or Parquet file."""
    con = duckdb.connect(":memory:", config={"threads": 1})
    options: dict[str, Any] = {"header": True} if kind == "csv" else {}
    try:
        names = con.sql(_file_select(path, kind, options).limit(0).sql("duckdb")).columns
        if kind == "csv" and any(not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", n) for n in names):
            options["normalize_names"] = True   # "First Name" -> first_name, in the product's view too
        frame, types, total = _read_relation(con, _file_select(path, kind, options))
    except duckdb.Error as exc:
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
    """A table read in place over a connection string a person typed: used literally (catalog.dsn), with a
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

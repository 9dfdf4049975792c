"""Free text people store (purposes, reasons, notes, titles) and how it leaves Meshwork again.

Three rules, kept here once:
- `check_text`: stored free text is one line of printable characters. Control characters (newline, CR,
  tab, ESC and so ANSI escapes, DEL, C1), Unicode line and paragraph separators, and bidi overrides and
  isolates (which make text read in another order than it is stored) are refused with a MeshError,
  so no stored text can forge a line in a log or a listing.
- `one_line`: text already stored before that rule (or from elsewhere) is rendered on one line with every
  such character escaped (`\\n`, `\\x1b`, `\\u202e`), so one event is always one line.
- `csv_cell`: a cell a spreadsheet would run as a formula (starting with = + - @, tab or CR) is prefixed
  with a quote, so an exported CSV opened in Excel or Sheets runs nothing.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from catalog.errors import MeshError

# Bidi embeddings, overrides and isolates, and the marks that steer them.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_SEPARATORS = frozenset("\u2028\u2029\x85")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _unsafe(ch: str) -> bool:
    """A character that can break a line, move the cursor, or reorder what a reader sees."""
    if ch in _BIDI or ch in _SEPARATORS:
        return True
    category = unicodedata.category(ch)
    return category in ("Cc", "Cs", "Zl", "Zp")


def _describe(ch: str) -> str:
    name = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", "\x1b": "an escape (ANSI) code"}
    return name.get(ch) or f"the character U+{ord(ch):04X} ({unicodedata.name(ch, 'control character').lower()})"


def check_text(value: Any, what: str, max_length: int = 2000) -> str:
    """`value` trimmed, or a MeshError naming the field and the first forbidden character."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MeshError(f"the {what} must be text")
    text = value.strip(" ")
    for index, ch in enumerate(text):
        if _unsafe(ch):
            raise MeshError(f"the {what} contains {_describe(ch)} at character {index + 1}: write it on one line "
                            "of ordinary text (no line breaks, control characters or direction overrides)")
    if len(text) > max_length:
        raise MeshError(f"the {what} is {len(text):,} characters long; keep it under {max_length:,}")
    return text


def title_field(value: Any, what: str = "title", max_length: int = 200) -> Any:
    """`check_text` for a pydantic validator, which must raise ValueError to report a field's problem."""
    if value is None:
        return None
    try:
        return check_text(value, what, max_length)
    except MeshError as exc:
        raise ValueError(str(exc)) from None


def one_line(value: Any) -> str:
    """Stored text shown on one line: every character `check_text` refuses is written as an escape."""
    if value is None:
        return ""
    text = str(value)
    if not any(_unsafe(ch) or ch == "\\" for ch in text):
        return text
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif not _unsafe(ch):
            out.append(ch)
        elif ch in "\n\r\t":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


def csv_cell(value: Any) -> Any:
    """A value safe to put in an exported CSV: text a spreadsheet would evaluate is quoted with `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(values: Any) -> list[Any]:
    return [csv_cell(v) for v in values]


def neutralize_frame(frame: Any) -> Any:
    """A polars DataFrame whose text cells are safe for a CSV export (see `csv_cell`)."""
    text_columns = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text_columns:
        return frame
    return frame.with_columns([
        pl.when(pl.col(c).str.contains(r"^[=+\-@\t\r]")).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_columns])


def neutralize_batch(batch: Any) -> Any:
    """A pyarrow RecordBatch whose text cells are safe for a CSV export (see `csv_cell`), streamed batch by
    batch so a large export stays flat in memory."""
    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.fill_null(pc.match_substring_regex(column, r"^[=+\-@\t\r]"), False)
            column = pc.if_else(risky, pc.binary_join_element_wise(pa.scalar("'", column.type), column, ""), column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)

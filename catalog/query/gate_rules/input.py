"""Limits on a query's text checked before any parser reads it, so parsing cannot be a denial of service.

sqlglot parses in pure Python (about 15 µs a token, holding the GIL: a 2 MB IN list took 15 s) and
recurses about 20 frames per nested parenthesis. So the text is measured first with DuckDB's C++
tokenizer (no tree is built): at most MAX_QUERY_BYTES of text, MAX_TOKENS tokens and MAX_DEPTH levels
of nested parentheses; parse time is counted against the caller's deadline.
"""

from __future__ import annotations

import re
import time

import duckdb

from catalog.errors import QueryRejected, QuerySyntaxError, QueryTimeout

MAX_QUERY_BYTES = 100_000   # 100 KB of SQL text
MAX_TOKENS = 10_000         # about 150 ms of sqlglot parsing in the worst case
MAX_DEPTH = 32              # nested parentheses (sqlglot's parser recurses ~20 frames a level)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")


def check_text(sql: str) -> None:
    """Refuse text too long, with too many tokens or nested too deep, without parsing it."""
    bad = _CONTROL.search(sql)
    if bad:
        before = sql[:bad.start()]
        line, col = before.count("\n") + 1, bad.start() - (before.rfind("\n") + 1) + 1
        raise QuerySyntaxError(f"The query holds the control character U+{ord(bad.group()):04X} at line {line}, "
                               f"column {col}; remove it (only tabs and line breaks may stand in a query).",
                               line=line, col=col)
    try:
        data = sql.encode("utf-8")  # DuckDB's token positions are byte offsets
    except UnicodeEncodeError as exc:
        raise QuerySyntaxError(f"The query holds a character that is not valid text (position {exc.start + 1}); "
                               "retype that part.") from None
    size = len(data)
    if size > MAX_QUERY_BYTES:
        raise QueryRejected(f"The query is {size:,} bytes long; queries may be at most {MAX_QUERY_BYTES:,} bytes "
                            "(100 KB). Put long value lists in a product, or filter with a join.")
    try:
        tokens = duckdb.tokenize(sql)
    except Exception as exc:  # DuckDB's tokenizer refuses text it cannot read at all
        raise QuerySyntaxError(f"The query cannot be read: {exc}") from None
    if len(tokens) > MAX_TOKENS:
        raise QueryRejected(f"The query has {len(tokens):,} tokens; queries may have at most {MAX_TOKENS:,}. "
                            "Put long value lists in a product, or filter with a join.")
    depth = deepest = 0
    for position, kind in tokens:
        if kind != duckdb.token_type.operator:
            continue
        char = data[position:position + 1]
        if char == b"(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == b")":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise QuerySyntaxError(f"The query nests parentheses {deepest:,} levels deep; at most {MAX_DEPTH} are "
                               "read. Flatten it with CTEs (WITH ... AS).")


def check_deadline(deadline: float | None, step: str) -> None:
    """QueryTimeout when checking the query already used up the caller's time (time.monotonic() based)."""
    if deadline is not None and time.monotonic() > deadline:
        raise QueryTimeout(f"Checking the query took longer than the session's time limit ({step}); "
                           "nothing ran. Write a shorter query.")


def recursion_refusal() -> QuerySyntaxError:
    """What a RecursionError anywhere in the gate becomes: a refusal, never a traceback."""
    return QuerySyntaxError("The query is nested too deeply to read (expressions, subqueries or CASEs inside "
                            "each other); flatten it with CTEs (WITH ... AS).")

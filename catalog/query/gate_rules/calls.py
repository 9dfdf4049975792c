"""Default deny for functions: every call in a query is on the engine's allow-list (catalog/query/gate_rules/functions.py),
or it is refused by name.

A call sqlglot knows is a class (`exp.Lower`); one it does not know stays `exp.Anonymous` and reaches the
engine under the name the user wrote. So a known class must be one that an allowed name (or plain SQL
syntax) parses into, and an unknown name must itself be on the engine's list. The engine's own view of
the SQL that runs is checked again afterwards (DuckDB: its parser; Spark: the Spark rendering re-read).
"""

from __future__ import annotations

from typing import Iterable

from sqlglot import exp

from catalog.query.gate_rules import functions as allowed
from catalog.errors import QueryRejected
from catalog.query.gate_rules.relations import SAFE_TABLE_FUNCTIONS, function_name

_NAMES = {"duckdb": allowed.DUCKDB_FUNCTIONS, "spark": allowed.SPARK_FUNCTIONS}
_CLASSES = {"duckdb": allowed.DUCKDB_CLASSES, "spark": allowed.SPARK_CLASSES}
_EITHER = allowed.DUCKDB_CLASSES | allowed.SPARK_CLASSES
_REFUSED = {"duckdb": allowed.DUCKDB_REFUSED, "spark": allowed.SPARK_REFUSED}
# Identity and environment functions, refused on every engine whatever the lists say.
IDENTITY = {"current_user", "session_user", "user", "current_role", "current_database", "current_catalog",
            "current_schema", "current_schemas", "current_setting", "getenv", "version", "current_path",
            "current_query", "current_timezone", "input_file_name", "reflect", "java_method", "try_reflect"}
# Names both engines resolve as a function call when no column of that name is in FROM (DuckDB's
# `SELECT "user"` runs the `user` macro; Spark's analyzer resolves `current_user`, `user`, `session_user`).
IDENTITY_COLUMNS = {"user", "current_user", "session_user", "current_role", "current_schema", "current_catalog",
                    "current_database", "current_path", "current_timezone", "system_user"}
_IDENTITY_CLASSES = tuple(getattr(exp, name) for name in (
    "CurrentUser", "SessionUser", "CurrentSchema", "CurrentCatalog", "CurrentDatabase", "CurrentVersion",
    "CurrentRole", "CurrentSchemas") if hasattr(exp, name))


def check(calls: Iterable[exp.Func], dialect: str, parsed_as: str | None = None) -> None:
    """Refuse the first of a tree's `calls` (its exp.Func nodes) not allowed on `dialect`. `parsed_as`: the
    dialect the tree was read in, when not the engine's: a known class from either list may stand (sqlglot
    renders it into the engine's equivalent, which the engine's own reading then checks again)."""
    names, classes = _NAMES[dialect], _CLASSES[dialect]
    if parsed_as and parsed_as != dialect:
        classes = _EITHER
    for node in calls:
        if isinstance(node, exp.Anonymous):
            name = function_name(node)
            if name == "table" or name in IDENTITY or name not in names:
                if name in SAFE_TABLE_FUNCTIONS and isinstance(node.parent, exp.Table):
                    continue  # FROM range(n) read as a call (Spark); the relation rules allow it
                raise refusal(name, dialect)
        elif isinstance(node, _IDENTITY_CLASSES):
            raise refusal(_written_name(node, dialect), dialect)
        elif type(node).__name__ not in classes:
            if isinstance(node.parent, exp.Table) and function_name(node) in SAFE_TABLE_FUNCTIONS:
                continue
            written = _written_name(node, dialect)
            if written not in names or written in IDENTITY:
                raise refusal(written, dialect)
            # else: a class the lists miss, rendered as an allowed call (the engine's reading checks it)
        if isinstance(node.parent, exp.Dot) and node.parent.expression is node:
            # x.f(...) is DuckDB's method call (f(x, ...)) or a schema-qualified call: either hides an argument
            # (a size) or the function's schema from the rules, so it is refused whatever f is
            raise QueryRejected(f"`{node.parent.sql('duckdb')[:80]}` calls `{function_name(node)}` in the method or "
                                "qualified form (x.f(...)), which is not allowed; write it as a plain call, "
                                "f(x, ...).")


def refusal(name: str, dialect: str) -> QueryRejected:
    why = _REFUSED[dialect].get(name) or _REFUSED["duckdb"].get(name)
    if name in IDENTITY:
        why = why or "reveals the account, the server or its settings"
    why = why or ("is not on the engine's reviewed allow-list of scalar, aggregate, window, list, struct, "
                  "string, date, math and regex functions")
    engine = " on Spark" if dialect == "spark" else ""
    return QueryRejected(f"`{name}` is not a function queries may call{engine}: it {why}. "
                         "Query the catalog's products with ordinary functions instead.")


def _written_name(node: exp.Func, dialect: str = "duckdb") -> str:
    """The function name the engine would see for a known class: the head of its rendering."""
    text = node.sql(dialect)
    head = text.split("(", 1)[0].strip().lower()
    return head if head and head.replace("_", "").isalnum() else function_name(node)


def check_column(column: exp.Column) -> None:
    """Refuse an unqualified column named like an identity function: where no column has that name, the
    engine calls the function instead (and on Spark reveals the server's account)."""
    if not column.table and column.name.lower() in IDENTITY_COLUMNS:
        raise QueryRejected(f"`{column.name}` is not a function queries may call: without a table in front, the "
                            "engine reads this name as the identity function of that name when no column is "
                            f"called so. If a product has such a column, qualify it: t.{column.name}.")

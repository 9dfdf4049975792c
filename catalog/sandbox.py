"""The one place that decides what user SQL may do (the first wall).

A query must be exactly one read-only statement that names catalog products only.
Everything else is refused, with a reason in a user's words, before it runs. The
locked-down DuckDB connection behind it is the second wall, not the first.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterator

import duckdb
from sqlglot import exp

from catalog import sqlutil
from catalog.errors import QueryRejected, QuerySyntaxError

# Function names (lower-case) that read files, run SQL, or reveal the machine.
_DENIED_FUNCTIONS = {
    "glob", "query", "query_table", "getenv", "current_setting", "which_secret", "sniff_csv",
    "load", "install", "parquet_scan", "csv_scan", "checkpoint", "force_checkpoint", "enable_profiling",
    "iceberg_scan", "delta_scan", "sqlite_scan", "sqlite_attach", "postgres_scan", "postgres_scan_pushdown",
    "postgres_query", "postgres_execute", "postgres_attach", "mysql_query", "mysql_execute", "tpch_answers",
    "dbgen", "dsdgen", "tpcds_answers", "fts_main", "set_config", "current_database", "current_catalog",
}
_DENIED_PREFIXES = ("read_", "duckdb_", "pragma_", "sqlite_", "postgres_", "mysql_", "parquet_", "iceberg_",
                    "delta_", "json_execute", "http", "s3_", "icu_", "test_", "ducklake_", "from_")
_DENIED_PATTERN = re.compile(r"(^|_)(scan|attach|execute|secret|settings|files?)$")
# Table functions that only generate rows; every other table function reads or runs something.
SAFE_TABLE_FUNCTIONS = {"range", "generate_series", "unnest"}
# Functions that build a list or string in memory in one step (DuckDB cannot interrupt that), and the
# largest literal size argument they may get.
_BUILDERS = {"range", "generate_series", "repeat", "list_resize", "array_resize", "lpad", "rpad"}
MAX_BUILD = 10_000_000


@dataclass(frozen=True)
class VettedQuery:
    """A query the gate let through: its parsed tree, the products it reads, and the exact DuckDB SQL that
    both parsers (sqlglot and DuckDB's own) checked, which is what runs."""

    tree: exp.Expression
    products: frozenset[str]
    sql: str = ""


def _function_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return None


def _is_denied(name: str) -> bool:
    return name in _DENIED_FUNCTIONS or name.startswith(_DENIED_PREFIXES) or bool(_DENIED_PATTERN.search(name))


def vet(sql: str, visible: set[str], restricted: set[str] | None = None, role: str = "") -> VettedQuery:
    """Check `sql` against the rules; raise QueryRejected with the reason, or return the plan."""
    restricted = restricted or set()
    if not sql or not sql.strip() or not sql.strip().strip(";").strip():
        raise QueryRejected("The query is empty: write one SELECT over the products you can see.")
    _check_syntax(sql)
    try:
        statements = sqlutil.parse_statements(sql)
    except sqlutil.SqlParseError as exc:
        raise syntax_error(sql, str(exc), exc.line, exc.col) from None
    if len(statements) != 1:
        raise QueryRejected(f"Only one statement may run at a time; this text has {len(statements)}. "
                            "Remove the extra statements (and the ';' between them).")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        kind = "command" if isinstance(tree, exp.Command) else tree.key.upper()
        raise QueryRejected(f"Only read-only queries (SELECT, WITH, UNION/INTERSECT/EXCEPT) may run; "
                            f"this is a {kind} statement, which could change data or settings.")
    for node in tree.walk():
        if isinstance(node, (exp.Command, exp.Create, exp.Insert, exp.Update, exp.Delete, exp.Drop,
                             exp.Copy, exp.Set, exp.Pragma, exp.Attach, exp.Detach, exp.Merge)):
            raise QueryRejected(f"{node.key.upper()} is not allowed inside a query: only reading is.")
        name = _function_name(node)
        if name and _is_denied(name):
            raise QueryRejected(f"The function {name}() is not allowed: it can read files, run other SQL or "
                                "reveal settings of the server. Query the catalog's products instead.")
        if name in _BUILDERS and not isinstance(node.parent, exp.Table):  # a FROM range(n) streams its rows
            _check_build_size(name, node)
    ctes = sqlutil.cte_names(tree)
    products: set[str] = set()
    for table in tree.find_all(exp.Table):
        fn = _function_name(table.this) if isinstance(table.this, exp.Expression) else None
        if fn in SAFE_TABLE_FUNCTIONS:
            continue
        if not table.name or fn:
            raise QueryRejected(f"Table functions ({fn or 'this one'}) are not allowed in FROM: they read files "
                                "or run SQL outside the catalog. Name a product instead, e.g. retail.customers.")
        name = sqlutil.table_name(table)
        if not table.db and name in ctes:
            continue
        if table.catalog:
            raise QueryRejected(f"{name!r} names a database catalog; name products as <domain>.<name>.")
        if any(ch in table.name for ch in "/\\.") or name.endswith((".csv", ".parquet", ".json")):
            raise QueryRejected(f"{table.name!r} looks like a file path; files cannot be read directly. "
                                "Query the product that publishes that data.")
        if name in visible:
            products.add(name)
        elif name in restricted:
            raise QueryRejected(f"The product {name} is restricted, and the role {role or 'you chose'!r} "
                                "may not read it. Ask its owner for access.")
        elif not table.db:
            raise QueryRejected(f"{name!r} is not a product name; products are named <domain>.<name> "
                                "(see the schema browser).")
        else:
            raise QueryRejected(f"There is no product {name!r} in this mesh that this role can see.")
    text = tree.sql(sqlutil.DIALECT)
    _second_opinion(text, products)
    return VettedQuery(tree=tree, products=frozenset(products), sql=text)


def _check_build_size(name: str, node: exp.Expression) -> None:
    name = "range() / generate_series" if name == "generate_series" else name  # sqlglot reads range as this
    for literal in node.find_all(exp.Literal):
        if literal.is_number and abs(float(literal.this)) > MAX_BUILD:
            raise QueryRejected(f"{name}() with {literal.this} would build one value of that size in memory, "
                                f"which cannot be interrupted; keep sizes under {MAX_BUILD:,}.")


# ---------------------------------------------------------------- DuckDB's own parser (second opinion)

_parser = threading.local()


def _duckdb_parse(sql: str) -> dict[str, Any]:
    """DuckDB's parse tree of `sql` as JSON (json_serialize_sql), on a private empty connection."""
    con = getattr(_parser, "con", None)
    if con is None:
        con = _parser.con = duckdb.connect(":memory:", config={"enable_external_access": False})
    row = con.execute("SELECT json_serialize_sql($sql)", {"sql": sql}).fetchone()
    return json.loads(row[0]) if row else {"error": True, "error_message": "no parse"}


def _check_syntax(sql: str) -> None:
    """A syntax error, as DuckDB reads the text, with its position; statements it cannot serialise
    (anything but SELECT) are left to the rules below to name."""
    parsed = _duckdb_parse(sql)
    if parsed.get("error") and parsed.get("error_type") == "parser":
        line, col = _line_col(sql, int(parsed.get("position") or 0))
        message = str(parsed.get("error_message", "syntax error"))
        raise syntax_error(sql, message, line, col)


def _line_col(sql: str, offset: int) -> tuple[int, int]:
    before = sql[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def syntax_error(sql: str, message: str, line: int | None, col: int | None) -> QuerySyntaxError:
    """QuerySyntaxError whose message shows the line in error with a caret under the position."""
    where, marked = "", ""
    lines = sql.splitlines() or [""]
    if line and 1 <= line <= len(lines):
        text = lines[line - 1]
        col = max(1, min(col or 1, len(text) + 1))
        where = f" at line {line}, column {col}"
        marked = f"\n    {text}\n    {' ' * (col - 1)}^"
    return QuerySyntaxError(f"The query has a syntax error{where}: {message}{marked}", line=line, col=col)


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _second_opinion(sql: str, products: set[str]) -> None:
    """Re-check the SQL that will run with DuckDB's own parser, so a query sqlglot reads one way and DuckDB
    another (a parser gap) is refused too: one SELECT, no denied function, only products and CTEs as tables."""
    parsed = _duckdb_parse(sql)
    if parsed.get("error") or len(parsed.get("statements", [])) != 1:
        raise QueryRejected("DuckDB reads this query differently from the gate (as "
                            f"{parsed.get('error_message') or 'several statements'}); it was not run. "
                            "Write it as one plain SELECT.")
    nodes = list(_nodes(parsed["statements"]))
    ctes = {str(entry.get("key", "")).lower() for node in nodes if isinstance(node.get("cte_map"), dict)
            for entry in node["cte_map"].get("map", [])}
    for node in nodes:
        if node.get("class") == "FUNCTION" and "function_name" in node:
            name = str(node["function_name"]).lower()
            if _is_denied(name) or node.get("catalog") or node.get("schema") not in ("", "main", None):
                raise QueryRejected(f"The function {name}() is not allowed: it can read files, run other SQL "
                                    "or reveal settings of the server. Query the catalog's products instead.")
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = str(function.get("function_name", "")).lower()
            if name not in SAFE_TABLE_FUNCTIONS:
                raise QueryRejected(f"Table functions ({name or 'this one'}) are not allowed in FROM: they read "
                                    "files or run SQL outside the catalog. Name a product instead.")
        elif kind == "BASE_TABLE":
            schema, table = str(node.get("schema_name", "")).lower(), str(node.get("table_name", "")).lower()
            if node.get("catalog_name") or (f"{schema}.{table}" not in products and (schema or table not in ctes)):
                raise QueryRejected(f"{'.'.join(p for p in (schema, table) if p)!r} is not a product this role "
                                    "can see; name products as <domain>.<name>.")

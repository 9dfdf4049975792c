"""The one place that decides what user SQL may do (the first wall).

A query must be exactly one read-only statement that names catalog products only.
Everything else is refused, with a reason in a user's words, before it runs. The
locked-down DuckDB connection behind it is the second wall, not the first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from catalog import sqlutil
from catalog.errors import QueryRejected

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


@dataclass(frozen=True)
class VettedQuery:
    """A query the gate let through: its parsed tree and the products it reads."""

    tree: exp.Expression
    products: frozenset[str]


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
    if not sql or not sql.strip():
        raise QueryRejected("The query is empty: write one SELECT over the products you can see.")
    try:
        statements = sqlutil.parse_statements(sql)
    except sqlutil.SqlParseError as exc:
        where = f" (line {exc.line}, column {exc.col})" if exc.line else ""
        raise QueryRejected(f"The query does not parse{where}: {exc}") from None
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
    ctes = sqlutil.cte_names(tree)
    products: set[str] = set()
    for table in tree.find_all(exp.Table):
        if not table.name:
            fn = _function_name(table.this) if isinstance(table.this, exp.Expression) else None
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
    return VettedQuery(tree=tree, products=frozenset(products))

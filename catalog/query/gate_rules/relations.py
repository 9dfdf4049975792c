"""Default deny for relations: every table a query names resolves, by SQL scope, to a CTE in scope, a
product the viewer may see, or one of the row generators `range`/`generate_series`/`unnest`.

Scope comes from sqlglot (`sqlglot.optimizer.scope.traverse_scope`), with two corrections where DuckDB
resolves names differently: a name is a CTE reference only when a CTE of that name is in scope where it
is used (`cte_sources`: defined at this level or an enclosing one), never because a derived table or a
lateral neighbour has that alias (DuckDB reads such a name as a file: `FROM (SELECT 1) AS "x.csv",
LATERAL (FROM "x.csv")`); and a recursive CTE's name is its own only inside the recursive part of its
UNION (DuckDB binds it outside the CTE in the first part, and in a WITH attached to that UNION). Any
table node no scope accounts for is refused.
"""

from __future__ import annotations

import re
from typing import Iterable

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.scope import Scope, traverse_scope

from catalog import sqlutil
from catalog.errors import QueryRejected

SAFE_TABLE_FUNCTIONS = {"range", "generate_series", "unnest"}
_SYSTEM = re.compile(r"^(duckdb_|pragma_|sqlite_|pg_|information_schema|__|system$|temp$|memory$)")


def resolve(tree: exp.Expression, visible: set[str], restricted: set[str], role: str,
            tables: list[exp.Table] | None = None, withs: list[exp.With] | None = None) -> set[str]:
    """The products `tree` reads; QueryRejected naming the first relation that is not allowed. `tables` and
    `withs`: every exp.Table and exp.With node of the tree, when the caller has already walked it."""
    tables = list(tree.find_all(exp.Table)) if tables is None else tables
    withs = list(tree.find_all(exp.With)) if withs is None else withs
    try:
        scopes = traverse_scope(tree)
    except OptimizeError as exc:
        raise QueryRejected(f"The gate cannot tell what every name in this query refers to ({exc}); "
                            "write it with plain FROM clauses over products.") from None
    if not scopes and tables:
        raise QueryRejected("The gate cannot tell what the tables in this query refer to; "
                            "write it as one SELECT over products.")
    anchors = _recursive_anchors(withs)
    products: set[str] = set()
    accounted: set[int] = set()
    for scope in scopes:
        ctes = {name.lower(): source for name, source in scope.cte_sources.items()}
        for table in scope.tables:
            if id(table) in accounted:
                continue
            accounted.add(id(table))
            product = _resolve_table(table, ctes, anchors, visible, restricted, role)
            if product:
                products.add(product)
    for table in tables:
        if id(table) not in accounted:
            raise QueryRejected(f"{shown(table)} is not a product you can see: the gate cannot tell what it names "
                                "in this position. Name products in FROM or JOIN as <domain>.<name>.")
    return products


def _resolve_table(table: exp.Table, ctes: dict[str, object], anchors: dict[int, exp.Expression],
                   visible: set[str],
                   restricted: set[str], role: str) -> str | None:
    function = table.this if isinstance(table.this, exp.Func) else None
    if function is not None:
        name = function_name(function)
        if name in SAFE_TABLE_FUNCTIONS:
            return None
        raise QueryRejected(f"`{name}` is not a table function queries may call: only range, generate_series and "
                            "unnest may stand in FROM (the others read files or run SQL outside the catalog). "
                            "Name a product instead, e.g. retail.customers.")
    if not table.name:
        raise QueryRejected(f"{shown(table)} is not a product you can see; name products as <domain>.<name>.")
    bare = not table.db and not table.catalog
    if bare and table.name.lower() in ctes:
        key = table.name.lower()
        source = ctes[key]
        while isinstance(source, Scope) and id(source.expression) in anchors \
                and not _within(table, anchors[id(source.expression)]):
            # outside its recursive part, a recursive CTE's name means what it means around that CTE
            source = {name.lower(): s for name, s in source.cte_sources.items()}.get(key)
        if source is None:
            raise QueryRejected(f"{shown(table)} is not a product you can see: outside the recursive part of a "
                                "recursive CTE its name is looked up outside the query, and no other CTE of that "
                                "name is in scope. Start the recursion from a product or constants.")
        return None
    name = sqlutil.table_name(table)
    if not table.catalog and table.db and name in visible:
        return name
    if not table.catalog and table.db and name in restricted:
        raise QueryRejected(f"The product {name} is restricted, and the role {role or 'you chose'!r} may not read "
                            "it. Ask its owner for access.")
    raise QueryRejected(f"{shown(table)} is not a product you can see: {_why(table)}")


def _why(table: exp.Table) -> str:
    parts = [p.lower() for p in (table.catalog, table.db, table.name) if p]
    if any(ch in table.name for ch in "/\\") or re.search(r"\.(csv|tsv|parquet|json|ndjson|jsonl|txt|db|duckdb|"
                                                           r"sqlite|arrow|feather|xlsx|gz|zst)$", table.name, re.I):
        return ("it looks like a file path, and files cannot be read directly. "
                "Query the product that publishes that data.")
    if any(_SYSTEM.match(p) for p in parts):
        return "system views and catalogs (duckdb_*, information_schema, pg_catalog, ...) are not readable."
    if table.catalog:
        return "it names a database catalog; name products as <domain>.<name>."
    if not table.db:
        return "products are named <domain>.<name> (see the schema browser), and no CTE of that name is in scope here."
    return "there is no such product in this mesh for this role (see the schema browser)."


def _recursive_anchors(withs: Iterable[exp.With]) -> dict[int, exp.Expression]:
    """id(first part) -> recursive part, for every recursive CTE `name AS (first UNION [ALL] recursive)`.
    While sqlglot scopes such a CTE its name stands for a scope over the first part; DuckDB sees the name
    only inside the recursive part (not in the first part, nor in a WITH attached to the union)."""
    out: dict[int, exp.Expression] = {}
    for with_ in withs:
        if not with_.args.get("recursive"):
            continue
        for cte in with_.expressions:
            if isinstance(cte.this, exp.SetOperation):
                first, recursive = cte.this.this, cte.this.expression
                out[id(first)] = out[id(first.unnest())] = recursive
    return out


def _within(node: exp.Expression, ancestor: exp.Expression) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


def function_name(node: exp.Expression) -> str:
    """The name a function call is written with (lower-case), for known and unknown functions alike."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return node.key


def shown(table: exp.Table) -> str:
    """The table as the user wrote it (quotes kept, alias dropped), in backquotes."""
    bare = table.copy()
    for arg in ("alias", "joins", "pivots", "laterals", "sample", "hints"):
        bare.set(arg, None)
    text = bare.sql(sqlutil.DIALECT)
    return f"`{text if len(text) <= 120 else text[:117] + '...'}`"


__all__ = ["resolve", "function_name", "shown", "SAFE_TABLE_FUNCTIONS", "Scope"]

"""Shared sqlglot helpers: parse a product's SQL and find the products it names.

SQL is handled as sqlglot expressions, never strings; every module that needs to
know which tables a query reads asks here.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.optimizer.scope import traverse_scope

DIALECT = "duckdb"


class SqlParseError(ValueError):
    def __init__(self, message: str, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.line = line
        self.col = col


class SqlTooDeep(SqlParseError):
    """The parser ran out of recursion depth: the text nests too deeply to read."""


def parse_statements(sql: str) -> list[exp.Expression]:
    """All statements in `sql` (empty ones dropped), or SqlParseError with a position."""
    try:
        statements = sqlglot.parse(sql, read=DIALECT)
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        desc = first.get("description") or str(exc).splitlines()[0]
        raise SqlParseError(desc, first.get("line"), first.get("col")) from None
    except sqlglot.errors.TokenError as exc:
        raise SqlParseError(f"cannot read the SQL: {exc}") from None
    except RecursionError:
        raise SqlTooDeep("the SQL is nested too deeply to read; flatten it with CTEs (WITH ... AS)") from None
    except (TypeError, AttributeError, ValueError, IndexError) as exc:
        # sqlglot's compiled parser (sqlglotc) type-checks as it builds the tree: text it cannot place
        # (a dangling `->`) surfaces as one of these instead of a ParseError. It is still a syntax error.
        raise SqlParseError(f"cannot read the SQL ({exc})") from None
    return [s for s in statements if s is not None]


def parse_one_select(sql: str) -> exp.Expression:
    """Exactly one query statement (SELECT, WITH, set operation)."""
    statements = parse_statements(sql)
    if len(statements) != 1:
        raise SqlParseError(f"expected one statement, found {len(statements)}")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise SqlParseError(f"expected a SELECT, found {statement.key.upper()}")
    return statement


def cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def table_name(table: exp.Table) -> str:
    """`domain.name` for a qualified table, the bare name otherwise (lower-case)."""
    parts = [p for p in (table.catalog, table.db, table.name) if p]
    return ".".join(parts).lower()


def referenced_tables(tree: exp.Expression) -> set[str]:
    """Names of the real tables a query reads: a bare name is left out only where a CTE of that name is in
    scope (sqlglot's scope analysis, as the gate resolves names), never because a CTE of that name exists
    somewhere else in the query. Table functions are left out."""
    names: set[str] = set()
    seen: set[int] = set()
    try:
        scopes = traverse_scope(tree)
    except (sqlglot.errors.OptimizeError, RecursionError):
        scopes = []
    for scope in scopes:
        ctes = {name.lower() for name in scope.cte_sources}
        for table in scope.tables:
            seen.add(id(table))
            if not table.db and not table.catalog and table.name.lower() in ctes:
                continue
            if table.name and not isinstance(table.this, exp.Func):
                names.add(table_name(table))
    for table in tree.find_all(exp.Table):  # anything no scope accounts for counts as read
        if id(table) not in seen and table.name and not isinstance(table.this, exp.Func):
            names.add(table_name(table))
    return names


def output_names(tree: exp.Expression) -> list[str] | None:
    """The names of the columns a SELECT produces, as written; None when one is a `*` (its columns depend on
    the tables it reads) or has no name."""
    names = []
    for select in getattr(tree, "selects", None) or []:
        if isinstance(select, exp.Star) or (isinstance(select, exp.Column) and isinstance(select.this, exp.Star)):
            return None
        if not select.alias_or_name:
            return None
        names.append(select.alias_or_name)
    return names or None

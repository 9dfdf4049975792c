"""The one place that decides what user SQL may do (the first wall): default deny.

A query must be exactly one read-only statement. Every relation it names resolves by SQL scope to a CTE
in scope, a product the viewer may see, or a row generator (catalog/query/gate_rules/relations.py); every function
it calls is on the engine's reviewed allow-list (catalog/query/gate_rules/calls.py, catalog/query/gate_rules/functions.py); every
size a builder is given folds to a constant under the limit (catalog/query/gate_rules/sizes.py); and the text is
measured before any parser reads it (catalog/query/gate_rules/input.py). What runs is the SQL rendered from the
vetted tree for the engine, never the user's text, and the engine's own reading of it is checked again.
The locked-down connection behind it is the second wall, not the first.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from catalog import sqlutil
from catalog.engines.base import RoleDatabase
from catalog.engines.spark.dialect import to_spark
from catalog.engines.tokens import TOKEN_FUNCTION
from catalog.query.gate_rules import calls as gate_calls
from catalog.query.gate_rules import input as gate_input
from catalog.query.gate_rules import relations as gate_relations
from catalog.query.gate_rules import sizes as gate_sizes
from catalog.errors import QueryRejected, QuerySyntaxError
from catalog.query.gate_rules.functions import DUCKDB_FUNCTIONS, DUCKDB_OPERATORS
from catalog.query.gate_rules.relations import SAFE_TABLE_FUNCTIONS

MAX_BUILD = gate_sizes.MAX_BUILD
DIALECTS = ("duckdb", "spark")
# Statements, wherever they stand (DuckDB runs `FROM (DESCRIBE t)` and `FROM (SUMMARIZE t)` as subqueries).
_STATEMENTS = tuple(getattr(exp, name) for name in (
    "Command", "Create", "Insert", "Update", "Delete", "Drop", "Copy", "Set", "Pragma", "Attach", "Detach",
    "Merge", "DDL", "DML", "Describe", "Show", "Summarize", "Kill", "Use", "Transaction", "Commit", "Rollback",
    "Cache", "Uncache", "Refresh", "Analyze", "Grant", "Revoke", "Alter", "TruncateTable", "LoadData", "Comment",
    "Declare", "Execute", "Install", "Export") if hasattr(exp, name))


@dataclass(frozen=True)
class VettedQuery:
    """A query the gate let through: its parsed tree, the products it reads, and the exact SQL for the
    engine (rendered from the tree and checked again in the engine's terms), which is what runs."""

    tree: exp.Expression
    products: frozenset[str]
    sql: str = ""
    notices: tuple[str, ...] = ()  # what the viewer is told about how it runs (a PII grant ended: masked again)


def vet(sql: str, visible: set[str], restricted: set[str] | None = None, role: str = "", *,
        dialect: str = "duckdb", deadline: float | None = None) -> VettedQuery:
    """Check `sql` (written in our DuckDB dialect) for `dialect`'s engine; raise QueryRejected with the reason
    (QuerySyntaxError, QueryTimeout past `deadline`, a time.monotonic() value), or return what runs."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; expected one of {DIALECTS}")
    if not sql or not sql.strip() or not sql.strip().strip(";").strip():
        raise QueryRejected("The query is empty: write one SELECT over the products you can see.")
    gate_input.check_text(sql)
    if dialect == "spark":
        _no_substitution(sql)
    try:
        return _vet(sql, set(visible), set(restricted or ()), role, dialect, deadline)
    except RecursionError:
        raise gate_input.recursion_refusal() from None


def _vet(sql: str, visible: set[str], restricted: set[str], role: str, dialect: str,
         deadline: float | None) -> VettedQuery:
    try:
        statements = sqlutil.parse_statements(sql)
    except sqlutil.SqlTooDeep:
        raise gate_input.recursion_refusal() from None
    except sqlutil.SqlParseError as exc:
        _check_syntax(sql)  # DuckDB's own message and position, when it finds the error too
        raise syntax_error(sql, str(exc), exc.line, exc.col) from None
    gate_input.check_deadline(deadline, "parsing it")
    if len(statements) != 1:
        raise QueryRejected(f"Only one statement may run at a time; this text has {len(statements)}. "
                            "Remove the extra statements (and the ';' between them).")
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        kind = "command" if isinstance(tree, exp.Command) else tree.key.upper()
        raise QueryRejected(f"Only read-only queries (SELECT, WITH, UNION/INTERSECT/EXCEPT) may run; "
                            f"this is a {kind} statement, which could change data or settings.")
    calls: list[exp.Func] = []
    tables: list[exp.Table] = []
    withs: list[exp.With] = []
    for node in tree.walk():
        if node.comments:  # user comments never reach the engine (no Spark hints, nothing unvetted)
            node.comments = None
        if isinstance(node, exp.Func):
            calls.append(node)
        elif isinstance(node, exp.Table):
            tables.append(node)
        elif isinstance(node, exp.With):
            withs.append(node)
        elif isinstance(node, exp.Column):
            gate_calls.check_column(node)
        elif isinstance(node, _STATEMENTS):
            raise QueryRejected(f"{node.key.upper()} is not allowed inside a query: it is a statement of its own; "
                                "only reading with SELECT is allowed.")
    products = gate_relations.resolve(tree, visible, restricted, role, tables, withs)
    gate_calls.check(calls, dialect, parsed_as="duckdb")
    gate_sizes.check(calls)
    # Rendered in place (no copy: every check above is done; what the engine's reading checks is this text)
    text = tree.sql(sqlutil.DIALECT, copy=False) if dialect == "duckdb" else _spark_text(tree)
    if dialect == "duckdb":
        _second_opinion(text, products)
    gate_input.check_deadline(deadline, "checking it")
    return VettedQuery(tree=tree, products=frozenset(products), sql=text)


# ---------------------------------------------------------------- Spark: the rendering, read again

def _no_substitution(sql: str) -> None:
    if "${" in sql:
        raise QueryRejected("`${` is not allowed in queries on Spark: Spark would substitute variables "
                            "(${env:...}, ${system:...}, settings) into the text after the gate checked it. "
                            "Write the literal differently, e.g. '$' || '{'.")


def _spark_text(tree: exp.Expression) -> str:
    """The Spark SQL for `tree`, re-read in Spark's terms: its functions on Spark's allow-list, its builders'
    sizes checked (FROM range(n) becomes explode(sequence(...)), a built array, on Spark)."""
    text = to_spark(tree)
    _no_substitution(text)
    try:
        spark_tree = sqlglot.parse_one(text, read="spark")
    except sqlglot.errors.SqlglotError as exc:
        raise QueryRejected(f"The query cannot be written for Spark ({str(exc).splitlines()[0]}); "
                            "write it as a plain SELECT.") from None
    calls = list(spark_tree.find_all(exp.Func))
    gate_calls.check(calls, "spark")
    gate_sizes.check(calls)
    return text


# ---------------------------------------------------------------- what runs: the engine's SQL, read again

def runnable(vetted: VettedQuery, database: RoleDatabase) -> str:
    """The SQL that runs for a vetted query: as `database` reads it (on Spark, over the role's views), checked
    again in its engine's terms behind the gate (the masking function, Hive script transforms, calls off
    Spark's allow-list and `${` substitution are refused whatever the rendering)."""
    refuse_engine_functions(vetted)
    spark = database.engine.DIALECT == "spark"
    if spark:
        if vetted.tree.find(exp.QueryTransform):
            raise QueryRejected("TRANSFORM ... USING runs a program on the cluster; it is not allowed.")
        gate_calls.check(list(vetted.tree.find_all(exp.Func)), "spark", parsed_as="duckdb")
    text = database.render(vetted.tree, vetted.sql)
    if spark and "${" in text:
        raise QueryRejected("`${` is not allowed in queries on Spark: Spark would substitute variables into it.")
    return text


def refuse_engine_functions(vetted: VettedQuery) -> None:
    """The second wall behind the gate's allow-list: the masking function the views call is never callable
    from user SQL (with it, tokens of guessed values could be computed and matched)."""
    for node in vetted.tree.find_all(exp.Anonymous):
        if str(node.name).lower() == TOKEN_FUNCTION:
            raise QueryRejected(f"`{TOKEN_FUNCTION}` is not a function queries may call: it is the masking "
                                "function of the views")


# ---------------------------------------------------------------- DuckDB's own parser (second opinion)

_parser = threading.local()


def _duckdb_parse(sql: str, into: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """DuckDB's parse tree of `sql` as JSON (json_serialize_sql), on a private empty connection; `into`
    collects, while the JSON is read, the nodes the second opinion looks at (calls, tables, CTE maps)."""
    con = getattr(_parser, "con", None)
    if con is None:
        con = _parser.con = duckdb.connect(":memory:", config={"enable_external_access": False})
    row = con.execute("SELECT json_serialize_sql($sql)", {"sql": sql}).fetchone()
    if not row:
        return {"error": True, "error_message": "no parse"}
    if into is None:
        return json.loads(row[0])

    def keep(node: dict[str, Any]) -> dict[str, Any]:
        if "function_name" in node or "cte_map" in node or node.get("type") in ("TABLE_FUNCTION", "BASE_TABLE"):
            into.append(node)
        return node

    return json.loads(row[0], object_hook=keep)


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
        start = max(0, col - 1 - 100)  # a long line is shown around the position only
        shown = text[start:col - 1 + 100]
        marked = f"\n    {shown}\n    {' ' * (col - 1 - start)}^"
    return QuerySyntaxError(f"The query has a syntax error{where}: {message}{marked}", line=line, col=col)


def _second_opinion(sql: str, products: set[str]) -> None:
    """Re-check the SQL that will run with DuckDB's own parser, so a query sqlglot reads one way and DuckDB
    another (a parser gap, or sqlglot rendering a call under another name) is refused too: one SELECT, every
    function on the allow-list and unqualified, only products and CTE names as tables."""
    nodes: list[dict[str, Any]] = []
    parsed = _duckdb_parse(sql, nodes)
    if parsed.get("error") or len(parsed.get("statements", [])) != 1:
        raise QueryRejected("DuckDB reads this query differently from the gate (as "
                            f"{parsed.get('error_message') or 'several statements'}); it was not run. "
                            "Write it as one plain SELECT.")
    ctes = {str(entry.get("key", "")).lower() for node in nodes if isinstance(node.get("cte_map"), dict)
            for entry in node["cte_map"].get("map", [])}
    for node in nodes:
        if node.get("class") == "FUNCTION" and "function_name" in node:
            name = str(node["function_name"]).lower()
            qualified = node.get("catalog") or node.get("schema") not in ("", "main", None)
            if qualified or name in gate_calls.IDENTITY or name not in DUCKDB_FUNCTIONS | DUCKDB_OPERATORS:
                shown = ".".join(p for p in (node.get("catalog"), node.get("schema"), name) if p)
                raise gate_calls.refusal(shown, "duckdb")
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = str(function.get("function_name", "")).lower()
            if name not in SAFE_TABLE_FUNCTIONS:
                raise QueryRejected(f"`{name or '?'}` is not a table function queries may call: only range, "
                                    "generate_series and unnest may stand in FROM. Name a product instead.")
        elif kind == "BASE_TABLE":
            schema, table = str(node.get("schema_name", "")).lower(), str(node.get("table_name", "")).lower()
            if node.get("catalog_name") or (f"{schema}.{table}" not in products and (schema or table not in ctes)):
                name = ".".join(p for p in (node.get("catalog_name"), schema, table) if p)
                raise QueryRejected(f"`{name}` is not a product you can see; name products as <domain>.<name>.")

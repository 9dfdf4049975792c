"""Regenerate `catalog/query/gate_rules/functions.py`, the gate's reviewed function allow-list, from the engines' own
function catalogs: DuckDB's `duckdb_functions()` and Spark's function registry (its expression groups).

    python -m catalog.query.gate_rules.functions_gen            # DuckDB, and Spark when pyspark and a JVM are there
    python -m catalog.query.gate_rules.functions_gen --check    # exit 1 when the committed list differs

It runs once per engine upgrade, by hand; the output is committed and read in review (a new engine
release adds functions: they stay refused until this runs and the diff is read). The library never
imports this module. What is left out, and why, is the REFUSED tables below: keep a reason per rule.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterable

import duckdb
import sqlglot
from sqlglot import exp

from catalog.query.gate_rules import functions as current

OUT = Path(__file__).with_name("functions.py")

# ---------------------------------------------------------------- DuckDB

# Names left out whatever their category: each reads the catalog, the settings, the environment, files,
# logs or other SQL, changes the connection, or is engine-internal.
DUCKDB_REFUSED = {
    "current_setting": "reads a setting", "getvariable": "reads a session variable",
    "current_database": "names the catalog", "current_catalog": "names the catalog",
    "current_schema": "names the catalog", "current_schemas": "names the catalog", "in_search_path": "reads the search path",
    "current_user": "reveals the account", "session_user": "reveals the account", "user": "reveals the account",
    "current_role": "reveals the account", "version": "reveals the server", "get_block_size": "reads storage settings",
    "current_query": "reads the SQL that runs", "current_query_id": "reads the connection's state",
    "current_connection_id": "reads the connection's state", "current_transaction_id": "reads the connection's state",
    "txid_current": "reads the connection's state", "currval": "reads a sequence", "nextval": "changes a sequence",
    "setseed": "changes the connection's state", "sleep_ms": "holds a worker without doing work",
    "write_log": "writes to the server log", "parse_duckdb_log_message": "reads log internals",
    "stats": "reads the optimizer's statistics", "json_serialize_sql": "plans other SQL",
    "json_serialize_plan": "plans other SQL (and shows the views' definitions)",
    "json_deserialize_sql": "renders other SQL", "finalize": "reads raw aggregate states",
    "combine": "reads raw aggregate states", "variant_bytes_to_variant": "decodes raw engine bytes",
    "vector_type": "is engine-internal", "create_sort_key": "is engine-internal",
}
DUCKDB_REFUSED_PREFIXES = {"__internal": "is engine-internal", "icu_": "is engine-internal",
                           "pg_": "reads PostgreSQL-style catalog text",
                           "has_": "reads the catalog's privileges",
                           "duckdb_": "reads the catalog"}
# Operators DuckDB's own parser turns into function calls (the second opinion sees these names).
DUCKDB_OPERATORS_EXTRA = {"unnest", "unlist", "grouping", "grouping_id"}


Catalog = tuple[set[str], dict[str, str], set[str]]  # (allowed names, refused name -> reason, operator symbols)


def _sort(entries: Iterable[tuple[str, str | None]]) -> Catalog:
    """An engine's functions, each with the reason it is refused (None: not refused), sorted into a Catalog:
    refused, operators (symbols) and allowed names; a name refused once is never allowed."""
    allowed, refused, operators = set(), {}, set()
    for name, reason in entries:
        if reason:
            refused[name] = reason
        elif not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            operators.add(name)
        else:
            allowed.add(name)
    return allowed - set(refused), refused, operators


def duckdb_catalog() -> Catalog:
    """(allowed names, refused name -> reason, operator symbols) from duckdb_functions()."""
    con = duckdb.connect(":memory:")
    rows = con.execute("SELECT DISTINCT function_name, function_type, schema_name FROM duckdb_functions() "
                       "WHERE function_type IN ('scalar', 'aggregate', 'macro')").fetchall()

    def reason(name: str, schema: str) -> str | None:
        why = DUCKDB_REFUSED.get(name) or next((why for p, why in DUCKDB_REFUSED_PREFIXES.items()
                                                if name.startswith(p)), None)
        return why or ("reads PostgreSQL-style catalog text" if schema != "main" else None)

    allowed, refused, operators = _sort((name.lower(), reason(name.lower(), schema)) for name, _, schema in rows)
    return allowed, refused, operators | DUCKDB_OPERATORS_EXTRA


# ---------------------------------------------------------------- Spark

SPARK_GROUPS = {"agg_funcs", "array_funcs", "bitwise_funcs", "collection_funcs", "conditional_funcs",
                "conversion_funcs", "datetime_funcs", "generator_funcs", "hash_funcs", "json_funcs",
                "lambda_funcs", "map_funcs", "math_funcs", "predicate_funcs", "string_funcs", "struct_funcs",
                "window_funcs", "url_funcs", ""}
SPARK_REFUSED_GROUPS = {"misc_funcs": "reaches the JVM, the files or the account",
                        "xml_funcs": "parses XML, external entities included", "avro_funcs": "is schema tooling",
                        "protobuf_funcs": "is schema tooling", "csv_funcs": "is schema tooling",
                        "variant_funcs": "is not reviewed", "sketch_funcs": "is not reviewed",
                        "st_funcs": "is not reviewed", "vector_funcs": "is not reviewed",
                        "table_funcs": "is a table function"}
SPARK_REFUSED = {"current_timezone": "reads a setting", "collations": "reads the catalog",
                 "sql_keywords": "reads the catalog", "session_window": "is not reviewed",
                 "current_user": "reveals the account", "session_user": "reveals the account",
                 "user": "reveals the account"}
SPARK_KEPT_FROM_REFUSED_GROUPS = {"typeof", "uuid"}

_SPARK_SCRIPT = """
import json
from pyspark.sql import SparkSession
spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
registry = spark._jsparkSession.sessionState().catalog()
ident = spark._jvm.org.apache.spark.sql.catalyst.FunctionIdentifier
out = []
for (name,) in spark.sql("SHOW SYSTEM FUNCTIONS").collect():
    try:
        out.append([name, registry.lookupFunctionInfo(ident.apply(name)).getGroup() or ""])
    except Exception:
        out.append([name, "?"])
print(json.dumps(out))
spark.stop()
"""


def spark_catalog() -> Catalog | None:
    """(allowed names, refused name -> reason, operator symbols) from Spark's registry, or None without Spark."""
    done = subprocess.run([sys.executable, "-c", _SPARK_SCRIPT], capture_output=True, text=True)
    if done.returncode != 0:
        return None

    def reason(name: str, group: str) -> str | None:
        if name in SPARK_REFUSED:
            return SPARK_REFUSED[name]
        if group not in SPARK_GROUPS and name not in SPARK_KEPT_FROM_REFUSED_GROUPS:
            return SPARK_REFUSED_GROUPS.get(group, f"is in the group {group!r}, not reviewed")
        return None

    return _sort((name.lower(), reason(name.lower(), group))
                 for name, group in json.loads(done.stdout.strip().splitlines()[-1]))


# ---------------------------------------------------------------- sqlglot's classes for those names

# SQL syntax that sqlglot reads as a function node without a function name in the text.
SYNTAX = ["CAST(x AS INT)", "x::INT", "TRY_CAST(x AS INT)", "CASE WHEN x THEN 1 END", "EXTRACT(year FROM x)",
          "COALESCE(a, b)", "[1, 2]", "{'a': 1}", "MAP {'a': 1}", "COUNT(*)", "COUNT(DISTINCT x)",
          "POSITION('a' IN b)", "SUBSTRING(x FROM 1 FOR 2)", "TRIM(BOTH 'x' FROM y)", "ROW(1, 2)",
          "CURRENT_DATE", "CURRENT_TIMESTAMP", "CURRENT_TIME", "LOCALTIMESTAMP", "EXISTS(SELECT 1)",
          "x ** 2", "x // 2", "DATE '2020-01-01'", "TIMESTAMP '2020-01-01'", "INTERVAL 1 DAY",
          "x IS NOT DISTINCT FROM y", "GROUPING(x)", "a[1:2]", "IF(a, b, c)", "COLUMNS(*)", "unnest([1])",
          "list_transform(l, x -> x + 1)", "* FROM unnest([1])", "* FROM range(2)", "* FROM generate_series(1, 2)", "STRUCT_PACK(a := 1)", "x COLLATE nocase", "NULLIF(a, b)",
          "percentile_cont(0.5) WITHIN GROUP (ORDER BY x)", "ARRAY[1, 2]", "x AT TIME ZONE 'UTC'",
          "a AND b", "a OR b", "a <@ b", "a @> b", "a && b", "j -> '$.a'", "j ->> '$.a'", "a ~ 'x'",
          "a !~ 'x'", "a SIMILAR TO 'x'", "a ^@ 'x'", "a ILIKE 'x'", "a REGEXP 'x'", "a RLIKE 'x'"]
# Classes no allowed name may bring in, whatever sqlglot maps onto them (they read outside the query).
CLASSES_REFUSED = {"CurrentUser", "SessionUser", "CurrentRole", "CurrentSchema", "CurrentCatalog",
                   "CurrentDatabase", "CurrentVersion", "ReadCSV", "ReadParquet", "Version", "CurrentSchemas"}


# Argument shapes a call is probed with: some classes depend on the arguments' kinds.
_DATE = "DATE '2024-01-02'"
_SHAPES: list[Callable[[int], list[str]]] = [
    lambda n: [f"c{i}" for i in range(n)], lambda n: ["'month'", *(f"c{i}" for i in range(1, n))],
    lambda n: ["'month'", *([_DATE] * (n - 1))], lambda n: ["1"] * n, lambda n: ["'a'"] * n,
    lambda n: [_DATE] * n]


def _probes(names: set[str]) -> Iterable[str]:
    """What to parse: each name called with 0-4 arguments of every shape, then the plain SQL syntax."""
    for name in sorted(names):
        for arity in range(5):
            for shape in _SHAPES[: 1 if arity == 0 else len(_SHAPES)]:
                yield f"{name}({', '.join(shape(arity))})"
    yield from SYNTAX


def _classes(names: set[str], dialect: str) -> set[str]:
    """sqlglot function classes `names` (and plain SQL syntax) parse into in `dialect`."""
    classes: set[str] = set()
    for probe in _probes(names):
        try:
            tree = sqlglot.parse_one(f"SELECT {probe}", read=dialect)
        except Exception:  # noqa: BLE001 - a shape the name does not take: the next one may
            continue
        classes |= {type(n).__name__ for n in tree.find_all(exp.Func) if not isinstance(n, exp.Anonymous)}
    return classes - CLASSES_REFUSED - {"Anonymous"}


def _block(name: str, values: set[str], comment: str) -> str:
    items = sorted(values)
    lines, line = [], "   "
    for item in items:
        piece = f" {item!r},"
        if len(line) + len(piece) > 110:
            lines.append(line)
            line = "   "
        line += piece
    lines.append(line)
    return f"# {comment}\n{name} = frozenset({{\n" + "\n".join(lines) + "\n})\n"


def render() -> str:
    duck, duck_refused, duck_ops = duckdb_catalog()
    spark = spark_catalog()
    if spark is None:  # keep the committed Spark lists when there is no JVM here
        spark = (set(current.SPARK_FUNCTIONS), dict(current.SPARK_REFUSED), set(current.SPARK_OPERATORS))
    spark_names, spark_refused, spark_ops = spark or (set(), {}, set())
    duck_classes = _classes(duck, "duckdb")
    spark_classes = _classes(spark_names, "spark")
    refused = {**duck_refused}
    head = ('"""The gate\'s function allow-list, per engine: every function a query may call is named here.\n\n'
            "GENERATED by `python -m catalog.query.gate_rules.functions_gen` from DuckDB's duckdb_functions() and Spark's\n"
            "function registry, then reviewed; do not edit by hand (change the rules in the generator).\n"
            "A function missing here is refused by name. Builders (sizes) are checked in catalog/query/gate_rules/sizes.py.\n"
            '"""\n\n')
    return (head
            + _block("DUCKDB_FUNCTIONS", duck, "DuckDB scalar, aggregate, window, list, struct, string, date, math, "
                     "regex functions and harmless macros (main schema).")
            + "\n" + _block("DUCKDB_OPERATORS", duck_ops, "Operators DuckDB's parser names as functions.")
            + "\n" + _block("DUCKDB_CLASSES", duck_classes, "sqlglot function classes those names and plain SQL "
                            "syntax parse into (DuckDB dialect).")
            + "\n" + _block("SPARK_FUNCTIONS", spark_names, "Spark functions of the reviewed expression groups.")
            + "\n" + _block("SPARK_OPERATORS", spark_ops, "Spark operators its registry names as functions.")
            + "\n" + _block("SPARK_CLASSES", spark_classes, "sqlglot function classes the Spark names parse into "
                            "(Spark dialect).")
            + "\n# Left out on purpose, and why (the refusal names the reason).\n"
            + "DUCKDB_REFUSED = " + _dict(refused) + "\n"
            + "SPARK_REFUSED = " + _dict(spark_refused) + "\n")


def _dict(values: dict[str, str]) -> str:
    return "{\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in sorted(values.items())) + "}\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        return 0 if OUT.read_text(encoding="utf-8") == text else 1
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

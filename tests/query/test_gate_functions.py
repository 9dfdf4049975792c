"""The function allow-list is reviewed data: it matches the installed DuckDB (a new release's functions stay
refused until the list is regenerated and read), and nothing that reads the catalog, settings, files,
the account or other SQL is on it for either engine."""

from __future__ import annotations

import duckdb

from catalog.query.gate_rules import functions as gate_functions
from catalog.query.gate_rules import functions_gen as gate_functions_gen
from catalog.query import gate as sandbox
from catalog.query.masking import TOKEN_FUNCTION

NEVER = {"pg_get_viewdef", "format_type", "json_serialize_plan", "json_serialize_sql", "json_deserialize_sql",
         "current_setting", "getenv", "getvariable", "current_user", "session_user", "user", "current_role",
         "current_database", "current_schema", "current_query", "version", "read_csv", "read_parquet",
         "read_text", "read_blob", "glob", "query", "query_table", "duckdb_views", "duckdb_settings",
         "sniff_csv", "which_secret", "reflect", "java_method", "try_reflect", "input_file_name", "nextval",
         "setseed", "write_log", "sleep_ms", "current_path", "current_catalog", TOKEN_FUNCTION}


def test_nothing_that_reads_outside_the_query_is_on_either_list():
    for names in (gate_functions.DUCKDB_FUNCTIONS, gate_functions.SPARK_FUNCTIONS):
        assert not NEVER & names, sorted(NEVER & names)
    for classes in (gate_functions.DUCKDB_CLASSES, gate_functions.SPARK_CLASSES):
        assert not {"CurrentUser", "SessionUser", "ReadCSV", "ReadParquet", "CurrentSchema"} & classes


def test_the_duckdb_list_is_the_generators_reading_of_the_installed_duckdb():
    allowed, refused, operators = gate_functions_gen.duckdb_catalog()
    assert allowed == set(gate_functions.DUCKDB_FUNCTIONS), (
        f"DuckDB {duckdb.__version__} differs from the committed list: run `python -m catalog.query.gate_rules.functions_gen` "
        f"and review the diff (new: {sorted(allowed - gate_functions.DUCKDB_FUNCTIONS)[:10]}, "
        f"gone: {sorted(gate_functions.DUCKDB_FUNCTIONS - allowed)[:10]})")
    assert operators == set(gate_functions.DUCKDB_OPERATORS)
    assert refused == gate_functions.DUCKDB_REFUSED


def test_every_category_the_gate_promises_is_callable():
    examples = {"scalar": "abs(-1)", "aggregate": "sum(1)", "window": "row_number() OVER ()",
                "list": "list_sort([2, 1])", "struct": "struct_pack(a := 1)", "string": "upper('a')",
                "date": "date_trunc('month', DATE '2024-05-06')", "math": "sqrt(4)",
                "regex": "regexp_matches('a', 'a')", "map": "map_keys(MAP {'a': 1})", "json": "json_extract('{}', '$.a')"}
    for category, call in examples.items():
        sandbox.vet(f"SELECT {call}", set())  # raises if refused

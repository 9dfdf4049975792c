"""The default-deny gate against a second hostile corpus: names shadowed by CTEs in the wrong scope,
catalog-reading macros, plan serialisation, table functions, computed build sizes, Spark's own builders
and substitution, and parser bombs. Each attempt is refused with a message naming what was refused, and
(through a real analyst session) nothing of the views, the salt or the raw data leaks, nothing is run.
"""

from __future__ import annotations

import re
import time

import pytest

import catalog
from catalog.query import gate as sandbox
from catalog.errors import QueryRejected, QuerySyntaxError, QueryTimeout
from minimesh import build_minimesh

RAW = {"ana@bank.example", "bo@mail.example", "Ana Silva", "Bo Chen", "123-45-6789", "987-65-4321"}
VISIBLE = {"retail.customers", "retail.branches", "risk.scores"}


@pytest.fixture(scope="module")
def mesh(tmp_path_factory) -> catalog.Mesh:
    root = build_minimesh(tmp_path_factory.mktemp("gate") / "mini")
    (root / "leak.csv").write_text("secret\nSENTINEL-7f3a\n")
    mesh = catalog.open_mesh(root)
    yield mesh
    mesh.close()


@pytest.fixture(scope="module")
def analyst(mesh):
    return mesh.session("analyst", "ana@bank.example", timeout_s=2)


def _refused(mesh: catalog.Mesh, session, sql: str, names: str) -> str:
    """Run `sql` in `session`; it must be refused naming `names`, record no usage and leak nothing."""
    before = mesh.usage().height
    with pytest.raises(QueryRejected) as info:
        session.sql(sql)
    message = str(info.value)
    assert names.lower() in message.lower(), f"the refusal names {names!r}: {message}"
    assert mesh.usage().height == before, "nothing ran, so nothing was recorded"
    salt = str(getattr(mesh, "salt", "") or "")
    for secret in RAW | {"SENTINEL-7f3a", "__meshwork_raw", "CREATE VIEW", "CREATE OR REPLACE"} | ({salt} if salt else set()):
        assert secret not in message, f"the refusal leaks {secret!r}"
    return message


# ---------------------------------------------------------------- CTEs that are not in scope where used

LEAK = "{root}/leak.csv"
SCOPE_SHADOWING = [
    # a CTE in a subquery does not cover the outer FROM
    (f'SELECT * FROM (WITH "{LEAK}" AS (SELECT 1 AS x) SELECT x FROM "{LEAK}") s, "{LEAK}"', "leak.csv"),
    ("SELECT * FROM (WITH duckdb_views AS (SELECT 1 AS x) SELECT x FROM duckdb_views) s, duckdb_views",
     "duckdb_views"),
    # a CTE in one UNION branch does not cover the other
    ("SELECT sql FROM duckdb_views UNION ALL (WITH duckdb_views AS (SELECT 'x' AS sql) SELECT sql FROM duckdb_views)",
     "duckdb_views"),
    (f"(WITH \"{LEAK}\" AS (SELECT 'x' AS secret) SELECT secret FROM \"{LEAK}\") UNION ALL SELECT secret FROM \"{LEAK}\"",
     "leak.csv"),
    # a CTE in a scalar subquery does not cover the SELECT around it
    ("SELECT (WITH duckdb_views AS (SELECT 1 AS x) SELECT x FROM duckdb_views) AS a, v.sql FROM duckdb_views v",
     "duckdb_views"),
    ("SELECT * FROM duckdb_settings WHERE EXISTS (WITH duckdb_settings AS (SELECT 1) SELECT 1 FROM duckdb_settings)",
     "duckdb_settings"),
    # the first part of a recursive CTE is bound outside the CTE
    (f'WITH RECURSIVE "{LEAK}" AS (SELECT * FROM "{LEAK}" UNION ALL SELECT * FROM "{LEAK}" WHERE false) '
     f'SELECT * FROM "{LEAK}"', "leak.csv"),
    ("WITH RECURSIVE duckdb_views AS (SELECT sql FROM duckdb_views UNION ALL SELECT sql FROM duckdb_views "
     "WHERE false) SELECT * FROM duckdb_views", "duckdb_views"),
    # a CTE inside a lateral join does not cover the FROM list
    ("SELECT * FROM retail.branches b, LATERAL (WITH duckdb_views AS (SELECT 1 AS x) SELECT x FROM duckdb_views) l, "
     "duckdb_views", "duckdb_views"),
    # a derived table's alias is not a table name for a lateral neighbour or a subquery
    (f'SELECT * FROM (SELECT 1 AS x) AS "{LEAK}", LATERAL (SELECT * FROM "{LEAK}") l', "leak.csv"),
    ("SELECT * FROM (SELECT 1 AS x) AS duckdb_views WHERE EXISTS (SELECT * FROM duckdb_views)", "duckdb_views"),
    # a CTE inside an earlier CTE does not cover a later one; a later CTE does not cover an earlier one
    ("WITH a AS (WITH duckdb_views AS (SELECT 1) SELECT 1), b AS (SELECT * FROM duckdb_views) SELECT * FROM b",
     "duckdb_views"),
    ("WITH a AS (SELECT * FROM duckdb_views), duckdb_views AS (SELECT 1 AS x) SELECT * FROM a", "duckdb_views"),
    ("WITH duckdb_views AS (SELECT * FROM duckdb_views) SELECT * FROM duckdb_views", "duckdb_views"),
    # a CTE name never covers a qualified system name
    ("WITH tables AS (SELECT 1 AS x) SELECT * FROM information_schema.tables", "information_schema.tables"),
    ("WITH pg_views AS (SELECT 1 AS x) SELECT * FROM pg_catalog.pg_views", "pg_catalog.pg_views"),
    ("SELECT * FROM retail.branches WHERE city IN (WITH pg_views AS (SELECT 'x') SELECT * FROM pg_views) "
     "OR city IN (SELECT viewname FROM pg_views)", "pg_views"),
    # file names, quoted or bare, and replacement scans
    (f"SELECT * FROM '{LEAK}'", "leak.csv"),
    ("SELECT * FROM \"leak.csv\"", "leak.csv"),
    ("SELECT * FROM leak", "leak"),
    ("SELECT * FROM sqlite_master", "sqlite_master"),
]


@pytest.mark.parametrize("attempt, names", SCOPE_SHADOWING)
def test_a_name_is_a_cte_only_where_that_cte_is_in_scope(mesh, analyst, attempt, names):
    message = _refused(mesh, analyst, attempt.replace("{root}", str(mesh.root)), names)
    assert "is not a product you can see" in message


def test_a_path_refusal_quotes_the_path_as_written(analyst):
    with pytest.raises(QueryRejected, match=re.escape('`"/data/x.parquet"` is not a product you can see')):
        analyst.sql('SELECT * FROM "/data/x.parquet"')


# ---------------------------------------------------------------- functions: catalog text, plans, settings

MACROS_AND_PLANS = [
    ("SELECT pg_get_viewdef('retail.customers')", "pg_get_viewdef"),
    ("SELECT pg_catalog.pg_get_viewdef('retail.customers')", "pg_get_viewdef"),
    ("SELECT format_type(23, NULL)", "format_type"),
    ("SELECT obj_description(1, 'pg_class')", "obj_description"),
    ("SELECT json_serialize_plan('SELECT * FROM retail.customers')", "json_serialize_plan"),
    ("SELECT json_serialize_sql('SELECT * FROM retail.customers')", "json_serialize_sql"),
    ("SELECT json_deserialize_sql(json_serialize_sql('SELECT 1'))", "json_"),
    ("SELECT current_setting('allowed_directories')", "current_setting"),
    ("SELECT list_transform([1], x -> current_setting('threads'))", "current_setting"),
    ("SELECT getvariable('salt')", "getvariable"),
    ("SELECT current_query()", "current_query"),
    ("SELECT current_user", "current_user"),
    ("SELECT session_user", "session_user"),
    ("SELECT user()", "user"),
    ("SELECT version()", "version"),
    ("SELECT meshwork_token('C1')", "meshwork_token"),
    ("SELECT * FROM retail.customers WHERE email = nextval('s')", "nextval"),
    ("SELECT has_table_privilege('retail.customers', 'select')", "has_table_privilege"),
    # a bare name the engine calls as a function when no column has it
    ('SELECT "user"', "user"),
    ("SELECT current_schema, current_role", "current_"),
    ("SELECT age, session_user FROM retail.customers", "session_user"),
]


@pytest.mark.parametrize("attempt, names", MACROS_AND_PLANS)
def test_a_function_off_the_allow_list_is_refused_by_name(mesh, analyst, attempt, names):
    message = _refused(mesh, analyst, attempt, names)
    assert "is not a function queries may call" in message


TABLE_FUNCTIONS = [
    ("SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))", "json_execute_serialized_sql"),
    ("SELECT * FROM repeat_row(1, num_rows = 3)", "repeat_row"),
    ("SELECT * FROM repeat('x', 3)", "repeat"),
    ("SELECT * FROM json_each('{\"a\": 1}')", "json_each"),
    ("SELECT * FROM duckdb_views()", "duckdb_views"),
    ("SELECT * FROM retail.branches b JOIN read_text('{root}/leak.csv') t ON true", "read_text"),
    ("SELECT * FROM summary(retail.branches)", "summary"),
    ("SELECT * FROM histogram_values(retail.branches, city)", "histogram_values"),
]


@pytest.mark.parametrize("attempt, names", TABLE_FUNCTIONS)
def test_table_functions_other_than_the_generators_are_refused(mesh, analyst, attempt, names):
    _refused(mesh, analyst, attempt.replace("{root}", str(mesh.root)), names)


@pytest.mark.parametrize("attempt, names", [
    ("SELECT * FROM (DESCRIBE retail.customers)", "DESCRIBE"),
    ("SELECT * FROM (SUMMARIZE retail.customers)", "SUMMARIZE"),
    ("SELECT * FROM (SUMMARIZE SELECT * FROM duckdb_views())", "SUMMARIZE"),
    ("SELECT * FROM (SHOW TABLES)", "SHOW"),
])
def test_statements_used_as_subqueries_are_refused(mesh, analyst, attempt, names):
    _refused(mesh, analyst, attempt, names)


# ---------------------------------------------------------------- sizes after constant folding

SIZES = [
    ("SELECT repeat('x', 5000000*20)", "100,000,000"),
    ("SELECT repeat('x', 10**8)", "100,000,000"),
    ("SELECT repeat(repeat('x', 5000), 5000)", "25,000,000"),
    ("SELECT lpad('x', CAST('100000000' AS INTEGER), 'y')", "100,000,000"),
    ("SELECT list_resize([1], power(10, 9))", "1,000,000,000"),
    ("SELECT count(*) FROM (SELECT unnest(range(1e8)) i)", "100,000,000"),
    ("SELECT generate_series(1, 2 * 1000000000)", "2,000,000,000"),
    ("SELECT bar(1, 0, 1, 1e9)", "1,000,000,000"),
    ("SELECT equi_width_bins(0, 1, 1e9, false)", "1,000,000,000"),
    ("SELECT repeat('ab', greatest(3, 50000000))", "100,000,000"),
    ("SELECT repeat('x', (SELECT 100000000))", "not a constant"),
    ("SELECT repeat('x', age) FROM retail.customers", "not a constant"),
    ("SELECT printf('%0999999999d', 1)", "width"),
    ("SELECT format('{:>999999999}', 1)", "width"),
    ("SELECT printf(city, 1) FROM retail.branches", "constant string"),
    ("SELECT range(TIMESTAMP '1900-01-01', TIMESTAMP '2100-01-01', INTERVAL 1 SECOND)", "6,311,433,600"),
    # the method form hides the receiver, an argument, from the size rules
    ("SELECT [1].list_resize(1000000000)", "method"),
    ("SELECT (1000000000).range()", "method"),
    ("SELECT 'x'.repeat(100000000)", "repeat"),
]


@pytest.mark.parametrize("attempt, names", SIZES)
def test_build_sizes_are_checked_after_constant_folding(mesh, analyst, attempt, names):
    _refused(mesh, analyst, attempt, names)


def test_builders_within_the_limit_still_run(analyst):
    row = analyst.sql("SELECT repeat('ab', 3) AS r, lpad('7', 3, '0') AS p, printf('%5d|%s', 1, 'a') AS f, "
                      "length(repeat('x', 5 * 1000)) AS n, len(range(10)) AS l, len(generate_series(DATE "
                      "'2024-01-01', DATE '2024-12-31', INTERVAL 1 DAY)) AS days").row(0, named=True)
    assert row == {"r": "ababab", "p": "007", "f": "    1|a", "n": 5000, "l": 10, "days": 366}


# ---------------------------------------------------------------- Spark's dialect

SPARK = [
    ("SELECT array_repeat(1, 900000000)", "900,000,000"),
    ("SELECT sequence(1, 1e9)", "1,000,000,000"),
    ("SELECT size(sequence(1, 100000 * 100000))", "10,000,000,000"),
    ("SELECT space(1000000000)", "1,000,000,000"),
    ("SELECT count(*) FROM range(100000000000)", "100,000,000,000"),
    ("SELECT array_repeat('x', age) FROM retail.customers", "not a constant"),
    ("SELECT current_user()", "current_user"),
    ("SELECT session_user()", "session_user"),
    ("SELECT user()", "user"),
    ("SELECT reflect('java.lang.System', 'getenv', 'HOME')", "reflect"),
    ("SELECT java_method('java.lang.System', 'getProperty', 'user.home')", "java_method"),
    ("SELECT input_file_name() FROM retail.customers", "input_file_name"),
    ("SELECT '${env:HOME}' AS home", "${"),
    ("SELECT * FROM retail.customers WHERE email LIKE '${system:user.home}%'", "${"),
    ("SELECT E'$\\x7Bspark.sql.warehouse.dir}' AS dir", "${"),
    ("SELECT user AS who FROM retail.customers", "user"),
    ('SELECT "current_user" AS who', "current_user"),
]


@pytest.mark.parametrize("attempt, names", SPARK)
def test_spark_builders_identity_and_substitution_are_refused(attempt, names):
    with pytest.raises(QueryRejected) as info:
        sandbox.vet(attempt, VISIBLE, dialect="spark")
    assert names.lower() in str(info.value).lower()


def test_the_same_query_is_judged_for_the_engine_it_runs_on(analyst):
    """FROM range(n) streams on DuckDB (only the time limit stops it) but is a built array on Spark."""
    assert sandbox.vet("SELECT count(*) FROM range(100000000000)", VISIBLE).products == frozenset()
    spark = sandbox.vet("SELECT array_repeat(1, 3) AS a, sequence(1, 10) AS s, lower(city) AS c "
                        "FROM retail.branches", VISIBLE, dialect="spark")
    assert "ARRAY_REPEAT(1, 3)" in spark.sql and "SEQUENCE(1, 10)" in spark.sql
    with pytest.raises(QueryRejected, match="`array_repeat` is not a function"):
        sandbox.vet("SELECT array_repeat(1, 3)", VISIBLE)  # not a DuckDB function


# ---------------------------------------------------------------- parser bombs

def test_a_three_megabyte_in_list_is_refused_by_its_size_before_it_is_read(mesh, analyst, monkeypatch):
    """Refused on its length alone: neither DuckDB's tokenizer nor sqlglot's parser (many seconds for this
    text) ever sees it."""
    import duckdb

    import catalog.sqlutil

    read: list[str] = []
    real_parse, real_tokenize = catalog.sqlutil.sqlglot.parse, duckdb.tokenize
    monkeypatch.setattr(catalog.sqlutil.sqlglot, "parse",
                        lambda sql, **kw: read.append(f"parse {len(sql)}") or real_parse(sql, **kw))
    monkeypatch.setattr(duckdb, "tokenize", lambda sql: read.append(f"tokenize {len(sql)}") or real_tokenize(sql))
    bomb = "SELECT * FROM retail.customers WHERE age IN (" + ", ".join(["1"] * 1_000_000) + ")"
    _refused(mesh, analyst, bomb, "100,000 bytes")
    assert read == []
    assert analyst.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3
    assert read  # the spies see the next query read as usual


def test_three_thousand_parentheses_are_a_syntax_error_not_a_traceback(mesh, analyst):
    with pytest.raises(QuerySyntaxError, match="3,000 levels deep"):
        analyst.sql("SELECT " + "(" * 3000 + "1" + ")" * 3000)
    with pytest.raises(QuerySyntaxError, match="nested too deeply|levels deep"):
        sandbox.vet("SELECT " + "(" * 40 + "1" + ")" * 40, VISIBLE)


def test_deep_nesting_without_parentheses_is_a_syntax_error(analyst):
    with pytest.raises(QuerySyntaxError, match="nested too deeply"):
        analyst.sql("SELECT " + "NOT " * 3000 + "true")


def test_too_many_tokens_are_refused_before_parsing(monkeypatch):
    """The count is checked before the parser ever sees the text (what it costs is left to the benchmarks)."""
    import catalog.sqlutil

    parsed: list[str] = []
    real_parse = catalog.sqlutil.sqlglot.parse
    monkeypatch.setattr(catalog.sqlutil.sqlglot, "parse", lambda sql, **kw: parsed.append(sql) or real_parse(sql, **kw))
    text = "SELECT 1 WHERE 1 IN (" + ",".join(["1"] * 6000) + ")"  # 24 KB, 12,000 tokens
    with pytest.raises(QueryRejected, match="tokens"):
        sandbox.vet(text, VISIBLE)
    assert parsed == []
    assert sandbox.vet("SELECT 1", VISIBLE).sql.startswith("SELECT 1") and parsed  # the spy sees a real parse


def test_parse_time_counts_against_the_deadline():
    text = "SELECT 1 WHERE 1 IN (" + ",".join(["1"] * 4000) + ")"
    with pytest.raises(QueryTimeout, match="time limit"):
        sandbox.vet(text, VISIBLE, deadline=time.monotonic() + 0.001)
    assert sandbox.vet(text, VISIBLE, deadline=time.monotonic() + 30).sql.startswith("SELECT 1")


def test_the_suite_has_at_least_forty_new_attempts():
    total = len(SCOPE_SHADOWING) + len(MACROS_AND_PLANS) + len(TABLE_FUNCTIONS) + len(SIZES) + len(SPARK)
    assert total >= 40


# ---------------------------------------------------------------- what stays allowed

BENIGN = [
    ("WITH duckdb_views AS (SELECT 1 AS x) SELECT x FROM duckdb_views", [(1,)]),
    ("WITH c AS (SELECT city FROM retail.branches) SELECT (SELECT count(*) FROM c) AS n", [(2,)]),
    ("WITH c AS (SELECT 1 AS x) SELECT * FROM (SELECT x FROM c) s UNION ALL SELECT x FROM c", [(1,), (1,)]),
    ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT count(*) FROM n", [(3,)]),
    ("WITH Totals AS (SELECT 2 AS x) SELECT x FROM totals", [(2,)]),
    ("SELECT count(*) FROM retail.branches b, LATERAL (SELECT b.city AS c) l", [(2,)]),
    ("SELECT i FROM generate_series(1, 2) t(i), unnest([10]) u(j) ORDER BY i", [(1,), (2,)]),
]


@pytest.mark.parametrize("query, rows", BENIGN)
def test_ctes_subqueries_and_generators_in_scope_still_run(analyst, query, rows):
    assert analyst.sql(query).rows() == rows


@pytest.mark.parametrize("text, names", [
    ("SELECT 1 AS a\x00, 2 AS b", "U+0000"),
    ("SELECT city FROM retail.branches\x1b[2J", "U+001B"),
    ("SELECT '\udc80' AS s", "not valid text"),
])
def test_control_characters_and_broken_text_are_syntax_errors(mesh, analyst, text, names):
    with pytest.raises(QuerySyntaxError, match=re.escape(names)):
        analyst.sql(text)


def test_comments_never_reach_the_engine():
    """Comments are dropped from the SQL that runs: on Spark `/*+ ... */` is a hint the gate does not read."""
    for dialect in ("duckdb", "spark"):
        text = sandbox.vet("SELECT /*+ REPARTITION(100000000) */ city -- a note\nFROM retail.branches",
                           VISIBLE, dialect=dialect).sql
        assert "/*" not in text and "REPARTITION" not in text and "note" not in text

"""The governed SQL gate against hostile queries: each attempt is refused before it runs, or sees masked data.

One analyst session over one small mesh serves the whole file (queries cannot change it; the last tests
prove that), so the 60+ attempts stay fast.
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import duckdb
import pytest

import catalog
from catalog.query import gate as sandbox
from catalog.errors import QueryRejected, QuerySyntaxError, QueryTimeout
from minimesh import build_minimesh

RAW_EMAILS = {"ana@bank.example", "bo@mail.example"}
RAW_NAMES = {"Ana Silva", "Bo Chen", "Cy Diaz"}
RAW_SSNS = {"123-45-6789", "987-65-4321", "555-12-3456"}


@pytest.fixture(scope="module")
def mesh(tmp_path_factory) -> catalog.Mesh:
    root = build_minimesh(tmp_path_factory.mktemp("sandbox") / "mini")
    mesh = catalog.open_mesh(root)
    yield mesh
    mesh.close()


@pytest.fixture(scope="module")
def analyst(mesh):
    return mesh.session("analyst", "ana@bank.example", timeout_s=2)


def _path(mesh: catalog.Mesh, relative: str) -> str:
    return str(mesh.root / relative)


# ---------------------------------------------------------------- refused before running

FILE_READS = [
    "SELECT * FROM 'retail/data/customers.parquet'",
    "SELECT * FROM \"/etc/passwd\"",
    "SELECT * FROM read_parquet('{root}/retail/data/customers.parquet')",
    "SELECT * FROM read_csv_auto('{root}/retail/data/branches.csv')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT content FROM read_blob('{root}/retail/data/*')",
    "SELECT * FROM parquet_scan('{root}/retail/data/customers.parquet')",
    "SELECT * FROM parquet_metadata('{root}/retail/data/customers.parquet')",
    "SELECT * FROM sqlite_scan('{root}/risk/data/scores.sqlite', 'scores')",
    "SELECT * FROM read_json_auto('/etc/hosts')",
    "SELECT * FROM glob('{root}/**')",
    "SELECT * FROM sniff_csv('{root}/retail/data/branches.csv')",
    "SELECT 1 WHERE EXISTS (FROM read_text('/etc/passwd'))",
    "SELECT * FROM retail.customers c, LATERAL (SELECT * FROM read_csv('{root}/retail/data/branches.csv'))",
    "WITH x AS (SELECT * FROM read_parquet('{root}/retail/data/customers.parquet')) SELECT * FROM x",
    "SELECT * FROM TABLE(read_csv('x.csv'))",
    "SELECT * FROM \"risk/data/limits.duckdb\".limits",
]
WRITES = [
    "COPY (SELECT * FROM retail.customers) TO '{root}/leak.csv'",
    "CREATE TABLE stolen AS SELECT * FROM retail.customers",
    "CREATE OR REPLACE VIEW retail.customers AS SELECT 1 AS x",
    "DROP VIEW retail.customers",
    "INSERT INTO retail.branches VALUES ('B9', 'Faro')",
    "UPDATE retail.branches SET city = 'x'",
    "DELETE FROM retail.branches",
    "CREATE MACRO leak(x) AS x",
    "EXPORT DATABASE '{root}/dump'",
    "IMPORT DATABASE '{root}/dump'",
    "CHECKPOINT",
]
EXTENSIONS_AND_ATTACH = [
    "INSTALL httpfs",
    "LOAD httpfs",
    "ATTACH '{root}/risk/data/limits.duckdb' AS l",
    "DETACH __meshwork_raw",
    "USE __meshwork_raw",
]
SETTINGS = [
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "PRAGMA enable_profiling",
    "CALL pragma_version()",
    "SELECT current_setting('allowed_directories')",
    "SELECT * FROM duckdb_settings()",
    "SELECT getenv('HOME')",
    "SELECT main.getenv('HOME')",
    "SELECT list_transform([1], x -> getenv('HOME'))",
    "SET VARIABLE x = 1",
    "SELECT * FROM which_secret('s3://bucket/x', 's3')",
    "SELECT * FROM duckdb_secrets()",
]
MULTI_STATEMENT = [
    "SELECT * FROM retail.customers; DROP VIEW retail.customers",
    "SELECT 1; SELECT 2",
    "SELECT 1; ATTACH 'x.db'",
]
QUERY_FUNCTION = [
    "SELECT * FROM query('SELECT * FROM __meshwork_raw.retail.customers')",
    "SELECT * FROM query_table('__meshwork_raw.retail.customers')",
    "SELECT * FROM query_table(['retail.customers'])",
    "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
]
SYSTEM_CATALOGS = [
    "SELECT * FROM duckdb_views()",
    "SELECT * FROM duckdb_views",
    "SELECT * FROM duckdb_databases()",
    "SELECT * FROM duckdb_functions()",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM pg_catalog.pg_views",
    "SELECT * FROM main.duckdb_tables",
    "SELECT * FROM sqlite_master",
    "SELECT * FROM pragma_database_list",
    "SELECT current_database()",
    "SELECT * FROM __meshwork_raw.retail.customers",
    "SELECT * FROM memory.retail.customers",
    "SELECT * FROM __src_sqlite_0000000000.scores",
    "DESCRIBE retail.customers",
    "SUMMARIZE retail.customers",
    "SHOW TABLES",
    "EXPLAIN ANALYZE SELECT * FROM retail.customers",
]
ACCESS = [
    "SELECT * FROM risk.limits",
    "SELECT c.*, l.credit_limit FROM retail.customers c JOIN risk.limits l USING (customer_id)",
    "SELECT * FROM retail.nope",
    "SELECT * FROM customers",
]
RESOURCES = [
    "SELECT count(*) FROM (SELECT unnest(range(1000000000)) i)",
    "SELECT repeat('x', 2000000000)",
    "SELECT list_resize([1], 100000000000)",
]

HOSTILE = (FILE_READS + WRITES + EXTENSIONS_AND_ATTACH + SETTINGS + MULTI_STATEMENT + QUERY_FUNCTION
           + SYSTEM_CATALOGS + ACCESS + RESOURCES)


def test_the_suite_has_at_least_forty_distinct_attempts():
    assert len(set(HOSTILE)) == len(HOSTILE) >= 40


@pytest.mark.parametrize("attempt", HOSTILE)
def test_hostile_query_is_refused_with_a_reason(mesh, analyst, attempt):
    before = _usage_count(mesh)
    with pytest.raises(QueryRejected) as info:
        analyst.sql(attempt.replace("{root}", str(mesh.root)))
    assert len(str(info.value)) > 30, "the refusal says what and why"
    assert _usage_count(mesh) == before, "nothing ran, so nothing was recorded"


def _usage_count(mesh: catalog.Mesh) -> int:
    return mesh.usage().height


def test_refusals_name_what_was_refused_in_plain_words(analyst):
    cases = {
        "DROP VIEW retail.customers": "read-only",
        "SELECT 1; SELECT 2": "one statement",
        "SELECT getenv('HOME')": "`getenv` is not a function queries may call",
        "SELECT * FROM 'retail/data/customers.parquet'": '`"retail/data/customers.parquet"` is not a product you '
                                                         "can see: it looks like a file path",
        "SELECT * FROM risk.limits": "restricted",
        "SELECT * FROM query_table('x')": "`query_table` is not a table function queries may call",
        "SELECT repeat('x', 2000000000)": "cannot be interrupted",
        "": "empty",
    }
    for text, reason in cases.items():
        with pytest.raises(QueryRejected, match=re.escape(reason)):
            analyst.sql(text)


def test_a_syntax_error_marks_the_position(analyst):
    with pytest.raises(QuerySyntaxError) as info:
        analyst.sql("SELECT age\n  FROM retail.customers WHERE (")
    error = info.value
    line = "  FROM retail.customers WHERE ("
    assert (error.line, error.col) == (2, len(line) + 1), "just past the open parenthesis"
    assert str(error).endswith(f"    {line}\n    {' ' * len(line)}^")
    with pytest.raises(QuerySyntaxError, match="line 1, column 15"):
        analyst.sql("SELECT * FORM retail.customers")


def test_duckdbs_own_parser_is_a_second_opinion():
    """Even SQL the sqlglot rules never see is refused when DuckDB's parse names a file, system table or
    dangerous function, or holds more than one statement."""
    for sql in ("SELECT * FROM read_parquet('x.parquet')", "SELECT * FROM duckdb_settings()",
                "SELECT getenv('HOME')", "SELECT * FROM information_schema.tables",
                "SELECT * FROM __meshwork_raw.retail.customers", "SELECT 1; SELECT 2", "COPY x TO 'y'",
                "SELECT system.main.lower('x')"):
        with pytest.raises(QueryRejected):
            sandbox._second_opinion(sql, {"retail.customers"})
    sandbox._second_opinion("WITH c AS (SELECT * FROM retail.customers) SELECT lower(email) FROM c, range(2)",
                            {"retail.customers"})


# ---------------------------------------------------------------- allowed, but masked

UNMASKING_TRICKS = [
    "SELECT email, full_name, ssn, customer_id FROM retail.customers",
    "SELECT CAST(email AS BLOB)::VARCHAR AS email, full_name::VARCHAR AS full_name FROM retail.customers",
    "SELECT lower(email) AS email, upper(full_name) AS full_name, ssn || '' AS ssn FROM retail.customers",
    "WITH c AS (SELECT * FROM retail.customers) SELECT * FROM c",
    "SELECT * FROM (SELECT * FROM (SELECT email, full_name, ssn FROM retail.customers))",
    "SELECT email FROM retail.customers UNION ALL SELECT full_name FROM retail.customers "
    "UNION ALL SELECT ssn FROM retail.customers",
    "SELECT list(email)::VARCHAR AS l, string_agg(full_name, ',') AS n FROM retail.customers",
    "SELECT to_json(c)::VARCHAR AS row FROM retail.customers c",
    "SELECT c::VARCHAR AS row FROM retail.customers c",
    "SELECT COLUMNS(*)::VARCHAR FROM retail.customers",
    "SELECT first(email ORDER BY age) OVER () AS e, max(full_name) OVER () AS n FROM retail.customers",
    "SELECT * FROM retail.customers INTERSECT SELECT * FROM retail.customers",
    "SELECT full_name FROM risk.customer_risk",
    "SELECT regexp_replace(email, '\\*', '', 'g') AS e FROM retail.customers",
]


@pytest.mark.parametrize("query", UNMASKING_TRICKS)
def test_no_expression_reveals_a_raw_value(analyst, query):
    frame = analyst.sql(query)
    text = " ".join(str(v) for row in frame.rows() for v in row)
    for raw in RAW_EMAILS | RAW_NAMES | RAW_SSNS | {"C1", "C2", "C3"}:
        assert raw not in text.replace("tok_", ""), f"{raw!r} leaked through {query!r}"


def test_a_filter_on_a_raw_value_finds_nothing(analyst):
    assert analyst.sql("SELECT * FROM retail.customers WHERE ssn = '123-45-6789' OR email = "
                       "'ana@bank.example' OR customer_id = 'C1'").height == 0


def test_masks_follow_the_category(analyst):
    row = analyst.sql("SELECT * FROM retail.customers WHERE age = 34").row(0, named=True)
    assert row["email"] == "***@bank.example"
    assert row["ssn"] == "***-**-6789"
    assert row["full_name"] == "A. S."
    assert row["customer_id"].startswith("tok_") and row["age"] == 34


def test_analyst_joins_products_across_domains_on_masked_keys(mesh, analyst):
    joined = analyst.sql("SELECT c.customer_id, c.age, s.score FROM retail.customers c "
                         "JOIN risk.scores s ON c.customer_id = s.customer_id ORDER BY c.age")
    assert joined["score"].to_list() == [580, 700, 640]
    assert all(token.startswith("tok_") for token in joined["customer_id"])
    steward = mesh.session("steward", "sam@bank.example").sql(
        "SELECT c.age, s.score FROM retail.customers c JOIN risk.scores s USING (customer_id) ORDER BY c.age")
    assert steward["score"].to_list() == joined["score"].to_list()


def test_a_steward_sees_raw_values(mesh):
    emails = set(mesh.session("steward", "sam@bank.example").sql("SELECT email FROM retail.customers")["email"])
    assert RAW_EMAILS <= emails


def test_harmless_generators_and_duckdb_syntax_are_allowed(analyst):
    assert analyst.sql("SELECT * FROM range(3)").height == 3
    assert analyst.sql("SELECT * FROM generate_series(1, 3) t(i)").height == 3
    assert analyst.sql("FROM retail.branches SELECT city ORDER BY city")["city"].to_list() == ["Lisbon", "Porto"]
    assert analyst.sql("SELECT 1 AS one;")["one"].to_list() == [1]


def test_duplicate_column_names_are_numbered(analyst):
    frame = analyst.sql("SELECT c.customer_id, s.customer_id FROM retail.customers c "
                        "JOIN risk.scores s ON c.customer_id = s.customer_id")
    assert frame.columns == ["customer_id", "customer_id_1"]


# ---------------------------------------------------------------- resource exhaustion and the second wall

def test_a_runaway_query_times_out_and_the_session_stays_usable(analyst):
    with pytest.raises(QueryTimeout, match="2 s time limit"):
        analyst.sql("SELECT count(*) FROM range(100000) a, range(100000) b, range(100000) c")
    assert analyst.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3


class _HeldCursor:
    """A real DuckDB cursor whose first `range` query waits for `release` before DuckDB starts it: a step no
    interrupt reaches, as range(n) with a computed n is one C++ step DuckDB cannot interrupt."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, held: threading.Event, release: threading.Event):
        self._cursor, self._held, self._release = cursor, held, release

    def execute(self, sql: str, *args):
        if "range" in sql.lower() and not self._held.is_set():
            self._held.set()
            self._release.wait(10)  # bounded, so a caller that waits for the worker fails instead of hanging
        return self._cursor.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._cursor, name)


def test_an_uninterruptible_step_does_not_hold_the_caller(mesh, monkeypatch):
    """The caller gets QueryTimeout while the worker is still inside the step; the worker finishes on its own
    once the step ends, and the session runs the next query."""
    from catalog.engines.duckdb import DuckDBRoleDatabase

    held, release = threading.Event(), threading.Event()
    real_cursor = DuckDBRoleDatabase.cursor
    monkeypatch.setattr(DuckDBRoleDatabase, "cursor", lambda self: _HeldCursor(real_cursor(self), held, release))
    hasty = mesh.session("analyst", "ana@bank.example", timeout_s=0.2)
    before = set(threading.enumerate())
    try:
        with pytest.raises(QueryTimeout):
            hasty.sql("SELECT count(*) FROM (SELECT unnest(range(5000 * 1000)) i)")
        workers = [t for t in set(threading.enumerate()) - before if t.name.startswith("meshwork-query-")]
        assert held.is_set() and workers and all(w.is_alive() for w in workers), "the worker is still in the step"
    finally:
        release.set()
    for worker in workers:
        worker.join(30)  # a wait for the background worker, not a bound on it
    assert not any(w.is_alive() for w in workers), "the worker finishes once the step ends"
    assert hasty.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3


def test_the_connection_itself_is_locked(mesh):
    """Defence in depth: even SQL that bypassed the gate cannot widen access or change settings.
    (ATTACH of a file inside the mesh's own folders is stopped by the gate only: DuckDB allows it there.)"""
    con = mesh.engine.database("analyst").cursor()
    outside = Path(shutil.os.path.expanduser("~")) / ".bashrc"
    for sql in ("SET enable_external_access = true", "SET lock_configuration = false",
                "SET memory_limit = '100GB'", "INSTALL httpfs", "LOAD httpfs",
                "SELECT * FROM read_text('/etc/passwd')", f"SELECT * FROM read_text('{outside}')"):
        with pytest.raises(duckdb.Error):
            con.execute(sql)
    limits = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN "
                              "('threads', 'memory_limit', 'lock_configuration', 'enable_external_access')")
                  .fetchall())
    assert limits["lock_configuration"] == "true" and limits["enable_external_access"] == "false"
    assert int(limits["threads"]) == mesh.descriptor.threads


def test_nothing_a_user_typed_changed_the_mesh(mesh, analyst):
    assert not (mesh.root / "leak.csv").exists() and not (mesh.root / "dump").exists()
    assert analyst.sql("SELECT count(*) AS n FROM retail.branches")["n"][0] == 2
    other = mesh.session("analyst", "bo@bank.example")
    assert other.sql("SELECT email FROM retail.customers WHERE age = 34")["email"][0] == "***@bank.example"


def test_a_large_range_in_from_streams_and_is_only_stopped_by_the_time_limit(mesh):
    hasty = mesh.session("analyst", "ana@bank.example", timeout_s=0.3)
    with pytest.raises(QueryTimeout):
        hasty.sql("SELECT count(*) FROM range(100000000000)")

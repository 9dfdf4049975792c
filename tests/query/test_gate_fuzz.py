"""A fuzzer for the gate's scope rules: hypothesis nests CTEs, subqueries, UNION branches, lateral joins,
scalar subqueries and recursive CTEs around names that are forbidden (a real file holding a sentinel,
system views) or innocent, and a small model of SQL scope says which names are CTEs where they are used.

The gate must refuse exactly the queries where some name is not a CTE in scope there (DuckDB would read
that file or system view), and accept every other shape; the accepted ones run in a real analyst session
and their results never hold the sentinel. The model follows DuckDB: a CTE covers its own WITH's later
CTEs and body and everything nested in them, names match case-insensitively, derived-table aliases are
never table names, and the first part of a recursive CTE does not see the CTE itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import catalog
from catalog.errors import QueryFailed, QueryRejected
from minimesh import build_minimesh

SENTINEL = "SENTINEL-91c2"
# Columns of the system views: a binder error naming one means DuckDB looked the name up outside the query.
SYSTEM_COLUMNS = ["column_count", "view_name", "database_name", "schema_name", "input_type", "secret"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = build_minimesh(tmp_path_factory.mktemp("fuzz") / "mini")
    (root / "leak.csv").write_text(f"x\n{SENTINEL}\n")
    mesh = catalog.open_mesh(root)
    yield mesh, mesh.session("analyst", "ana@bank.example", timeout_s=5)
    mesh.close()


@dataclass(frozen=True)
class Q:
    sql: str
    reads_outside: bool  # some name, where it is used, is no CTE in scope


def names(root: str) -> list[str]:
    """The relation names the fuzzer plays with: a real file, system views, and plain names."""
    return [f'"{root}/leak.csv"', "duckdb_views", "duckdb_settings", "t1", "t2"]


def _key(name: str) -> str:
    return name.strip('"').lower()


@st.composite
def query(draw, pool: list[str], scope: frozenset[str], depth: int) -> Q:
    """A query of one VARCHAR column `x`, whose names resolve against the CTE names in `scope`."""
    kinds = ["leaf", "product"] + (["with", "sub", "union", "lateral", "scalar", "exists", "recursive"] if depth else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "product":
        return Q("SELECT city AS x FROM retail.branches", False)
    if kind == "leaf":
        name = draw(st.sampled_from(pool))
        written = name if name.startswith('"') else draw(st.sampled_from([name, name.upper()]))
        return Q(f"SELECT x FROM {written}", _key(name) not in scope)
    inner = lambda s=scope: query(pool, s, depth - 1)  # noqa: E731
    if kind == "with":
        first = draw(st.sampled_from(pool))
        second = draw(st.sampled_from([n for n in pool if n != first]))
        a = draw(inner())
        b = draw(inner(scope | {_key(first)}))
        body = draw(inner(scope | {_key(first), _key(second)}))
        return Q(f"WITH {first} AS ({a.sql}), {second} AS ({b.sql}) {_body(body.sql)}",
                 a.reads_outside or b.reads_outside or body.reads_outside)
    if kind == "sub":
        alias, q = draw(st.sampled_from(pool)), draw(inner())
        return Q(f"SELECT x FROM ({q.sql}) AS {alias}", q.reads_outside)
    if kind == "union":
        a, b = draw(inner()), draw(inner())
        return Q(f"({a.sql}) UNION ALL ({b.sql})", a.reads_outside or b.reads_outside)
    if kind == "lateral":
        alias, a, b = draw(st.sampled_from(pool)), draw(inner()), draw(inner())
        return Q(f"SELECT l.x FROM ({a.sql}) AS {alias}, LATERAL ({b.sql}) AS l",
                 a.reads_outside or b.reads_outside)
    if kind == "scalar":
        q = draw(inner())
        return Q(f"SELECT ({q.sql} LIMIT 1) AS x", q.reads_outside)
    if kind == "exists":
        q = draw(inner())
        return Q(f"SELECT 'e' AS x WHERE EXISTS ({q.sql})", q.reads_outside)
    name = draw(st.sampled_from(pool))
    anchor = draw(inner())  # the recursive CTE's own name is not in scope in its first part
    body = draw(inner(scope | {_key(name)}))
    return Q(f"WITH RECURSIVE {name} AS ({anchor.sql} UNION ALL SELECT x FROM {name} WHERE false) {_body(body.sql)}",
             anchor.reads_outside or body.reads_outside)


def _body(sql: str) -> str:
    """A WITH's main query: one that starts with its own WITH or a parenthesis is read as a derived table."""
    return f"SELECT x FROM ({sql}) AS body" if sql.startswith(("WITH", "(")) else sql


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_the_gate_refuses_exactly_the_queries_that_would_read_outside_the_products(world, data):
    mesh, analyst = world
    q = data.draw(query(names(str(mesh.root)), frozenset(), 3))
    if q.reads_outside:
        with pytest.raises(QueryRejected, match="is not a product you can see"):
            analyst.sql(q.sql)
        return
    try:  # accepted: it runs, and nothing it returns came from outside the products
        frame = analyst.sql(q.sql)
    except QueryFailed as exc:  # DuckDB may refuse a shape the gate allows (a recursion that never recurses)
        assert not set(SYSTEM_COLUMNS + [SENTINEL]) & set(str(exc).replace('"', " ").split()), str(exc)
        return
    assert SENTINEL not in " ".join(str(v) for row in frame.rows() for v in row)


def test_the_model_has_both_outcomes(world):
    """The fuzzer can fail both ways: it builds queries that must run and queries that must be refused."""
    mesh, analyst = world
    leak = f'"{mesh.root}/leak.csv"'
    assert analyst.sql(f"WITH {leak} AS (SELECT 'ok' AS x) SELECT x FROM (SELECT x FROM {leak}) s").rows() == [("ok",)]
    with pytest.raises(QueryRejected):
        analyst.sql(f"SELECT x FROM (WITH {leak} AS (SELECT 'ok' AS x) SELECT x FROM {leak}) s, {leak}")


SQL_WORDS = ["SELECT", "FROM", "WHERE", "WITH", "AS", "UNION", "ALL", "(", ")", ",", "*", "retail.branches",
             "city", "x", "'a'", "1", "1e9", "range(3)", "repeat('x', 3)", "LATERAL", "JOIN", "ON", "true",
             "RECURSIVE", "duckdb_views", '"/etc/passwd"', "::", "INT", "[", "]", "{", "}", ":", "->", "$", "${",
             "--", "/*", "*/", ";", "E'\\x41'", "\x00", "\u202e", "\n", "CASE", "WHEN", "THEN", "END", "NOT", "IN"]


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(st.text(max_size=300),
                      st.lists(st.sampled_from(SQL_WORDS), max_size=40).map(" ".join),
                      st.text(alphabet="()", max_size=5000)),
       dialect=st.sampled_from(["duckdb", "spark"]))
def test_any_text_is_vetted_or_refused_in_words_never_a_crash(text, dialect):
    """Random unicode, control characters, SQL-ish word salad and bracket storms: the gate either lets a
    query through or raises a QueryRejected (a syntax error included) with a message; never another error."""
    from catalog.query import gate as sandbox

    try:
        vetted = sandbox.vet(text, {"retail.branches"}, dialect=dialect)
    except QueryRejected as exc:
        assert str(exc).strip()
        return
    assert vetted.sql and vetted.products <= {"retail.branches"}

"""The masks themselves: idempotent (so a derived product over masked inputs shows what its upstreams show),
NULL-keeping, and the keyed token the same in Python, DuckDB and (see test_spark) Spark."""

from __future__ import annotations

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from catalog.engines.tokens import register_duckdb, token_function
from catalog.query.masking import TOKEN_FUNCTION, _TEMPLATES, mask_expression
from catalog.descriptors.model import Column

KEY = "k" * 64
CATEGORIES = sorted(_TEMPLATES)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
ASCII = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)  # upper() of some letters grows


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    register_duckdb(con, KEY)
    return con


def _mask(con, column: Column, value: str | None, keep_tokens: bool = False) -> str | None:
    expression = mask_expression(column, exp.column("v"), keep_tokens=keep_tokens)
    return con.execute(f"SELECT {expression.sql('duckdb')} FROM (SELECT $v::VARCHAR AS v)", {"v": value}).fetchone()[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(category=st.sampled_from(CATEGORIES), value=ASCII)
def test_every_mask_is_idempotent(category, value):
    if category == "birth_date":
        value = "1980-05-01"
    con = _con()
    column = Column(name="v", type="VARCHAR", pii=True, pii_category=category)
    once = _mask(con, column, value)
    assert _mask(con, column, once) == once
    assert _mask(con, column, None) is None


@settings(max_examples=60, deadline=None)
@given(value=TEXT)
def test_tokens_are_keyed_deterministic_and_kept_when_already_tokens(value):
    con = _con()
    key_column = Column(name="v", type="VARCHAR", pii=True, pii_category="identifier", key=True)
    token = _mask(con, key_column, value)
    assert token == token_function(KEY)(value) and token.startswith("tok_") and len(token) == 20
    assert token != token_function("another key")(value)
    assert _mask(con, key_column, token, keep_tokens=True) == token  # a derived product's key still joins
    assert _mask(con, key_column, token) != token  # a source value shaped like a token is still masked


def test_the_function_name_and_key_are_not_in_the_mask_sql():
    sql = mask_expression(Column(name="v", type="VARCHAR", pii=True, key=True), exp.column("v")).sql("duckdb")
    assert TOKEN_FUNCTION in sql.lower() and KEY not in sql and "md5" not in sql.lower()
    assert "k" * 16 not in repr(token_function(KEY))  # the closure's repr names no key

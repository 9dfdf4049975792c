"""Run a state-store test on both backends: `state_url` is None (the SQLite file) or the URL of a fresh
PostgreSQL schema in a database made for the test module on 127.0.0.1:5432 (dropped after it).

Use it from a conftest: `from tests.statebackends import pg_database, backend, state_url  # noqa: F401`.
"""

from __future__ import annotations

import itertools
import os
import re

import psycopg
import pytest

SERVER = os.environ.get("MESHWORK_TEST_PG", "postgresql://meshwork:meshwork@127.0.0.1:5432/postgres").rsplit("/", 1)[0]
_counter = itertools.count()


def admin(database: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(f"{SERVER}/{database}", autocommit=True, connect_timeout=5)


def fresh_schema(database_url: str) -> str:
    """A new empty schema in the module's database; the URL that makes it the store's search path."""
    name = f"s{os.getpid()}_{next(_counter)}"
    with psycopg.connect(database_url, autocommit=True) as con:
        con.execute(f'CREATE SCHEMA "{name}"')
    return f"{database_url}?options=-csearch_path%3D{name}"


@pytest.fixture(scope="module")
def pg_database(request):
    """One fresh PostgreSQL database per test module, dropped (with any connection left) afterwards."""
    module = re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1]).lower()
    name = f"mw_{module}_{os.getpid()}"[:60]
    with admin() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')
    yield f"{SERVER}/{name}"
    with admin() as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def state_url(backend, request) -> str | None:
    """None for SQLite; for PostgreSQL a fresh schema, so every test starts from an empty store."""
    if backend == "sqlite":
        return None
    return fresh_schema(request.getfixturevalue("pg_database"))

"""Run a state-store test on both backends: `state_url` is None (the SQLite file) or the URL of a fresh
PostgreSQL schema in a database made for the test module on 127.0.0.1:5432 (dropped after it).

Use it from a conftest: `from tests.statebackends import state_pg_database, backend, state_url  # noqa: F401`.
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
def state_pg_database(request):
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
    return fresh_schema(request.getfixturevalue("state_pg_database"))


# ------------------------------------------------------------------ the owners' own tests, on both backends

OWNER_TEST_MODULES = {
    "tests.access.test_ledger", "tests.access.test_trust", "tests.governance.test_changes",
    "tests.scorecards.test_review", "tests.samples.test_history", "tests.query.test_session",
    "tests.dashboards.test_dashboards", "tests.scorecards.test_usage",
}
"""Test modules of the state tables' owners (catalog.state.migrations.OWNERS): each runs once per backend, the
PostgreSQL pass with every mesh it opens on a fresh schema (MESHWORK_STATE_URL)."""


def parametrize_owner_modules(metafunc) -> None:
    """`pytest_generate_tests` for tests/conftest.py: the owners' modules get both backends, module-scoped."""
    if metafunc.module.__name__ in OWNER_TEST_MODULES and "state_backend_module" in metafunc.fixturenames:
        metafunc.parametrize("state_backend_module", ["sqlite", "postgresql"], indirect=True, scope="module")


@pytest.fixture(scope="module", autouse=True)
def state_backend_module(request):
    """In an owner's module on PostgreSQL: one database for the module, and a schema for its module-wide
    meshes; elsewhere nothing (SQLite, as always)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield None
        return
    database = request.getfixturevalue("state_pg_database")
    previous = os.environ.get("MESHWORK_STATE_URL")
    os.environ["MESHWORK_STATE_URL"] = fresh_schema(database)
    yield database
    if previous is None:
        os.environ.pop("MESHWORK_STATE_URL", None)
    else:
        os.environ["MESHWORK_STATE_URL"] = previous


@pytest.fixture(autouse=True)
def state_backend_test(state_backend_module, monkeypatch):
    """Each test of an owner's module on PostgreSQL starts from an empty schema, as it does from a new folder."""
    if state_backend_module is not None:
        monkeypatch.setenv("MESHWORK_STATE_URL", fresh_schema(state_backend_module))

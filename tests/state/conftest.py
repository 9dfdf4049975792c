"""Every state-store test runs on SQLite and on PostgreSQL (tests/statebackends.py)."""

from tests.statebackends import backend, state_pg_database, state_url  # noqa: F401

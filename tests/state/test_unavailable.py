"""A state database that cannot be reached: a clear error at start-up naming the URL with its password hidden;
lost mid-session, writes fail loudly (a query's result is still returned, warning that its usage event was not
recorded), nothing is half-written, and the store recovers by itself once the database is back."""

from __future__ import annotations

import psycopg
import pytest

import catalog
from catalog.errors import MeshError, StateUnavailable
from catalog.query.session import UnrecordedUsage
from catalog.query.usage_log import UsageEvent
from tests.statebackends import fresh_schema

QUERY = "SELECT count(*) AS customers FROM retail.customers"


def _event() -> list[UsageEvent]:
    return [UsageEvent(user="ana@bank.example", role="analyst", product_id="retail.customers", rows=1,
                       duration_ms=1.0, status="ok")]


def test_an_unreachable_state_database_at_start_up_names_the_url_without_its_password(minimesh, monkeypatch):
    monkeypatch.setenv("MESHWORK_STATE_URL", "postgresql://meshwork:s3cret-pw@127.0.0.1:1/meshwork_state")
    with pytest.raises(StateUnavailable) as refused:
        catalog.open_mesh(minimesh)
    message = str(refused.value)
    assert "postgresql://meshwork:***@127.0.0.1:1/meshwork_state" in message and "cannot be reached" in message
    assert "s3cret-pw" not in message


def test_a_state_location_that_is_neither_sqlite_nor_postgresql_names_the_field(minimesh, monkeypatch):
    monkeypatch.delenv("MESHWORK_STATE_URL", raising=False)
    (minimesh / "mesh.yaml").write_text((minimesh / "mesh.yaml").read_text() + "state: mysql://db/state\n")
    with pytest.raises(MeshError, match=r"mesh.yaml: state: .*postgresql://.*not a mysql location"):
        catalog.open_mesh(minimesh)


def _cut(database: str, read_only: bool) -> None:
    """Take the database away from its clients: read-only for new sessions, or no connections at all; either
    way every connection open now is ended, as when a server fails over or goes down."""
    name = database.rsplit("/", 1)[1]
    with psycopg.connect(database.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        if read_only:
            admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        else:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def _restore(database: str) -> None:
    name = database.rsplit("/", 1)[1]
    with psycopg.connect(database.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')


def test_losing_the_state_database_mid_session_fails_writes_loudly_and_recovers(minimesh, monkeypatch,
                                                                              state_pg_database):
    url = fresh_schema(state_pg_database)
    monkeypatch.setenv("MESHWORK_STATE_URL", url)
    mesh = catalog.open_mesh(minimesh)
    session = mesh.session("analyst", "ana@bank.example")
    assert session.run(QUERY).warnings == []
    assert mesh.usage_log.frame().height == 1
    try:
        # Read-only (a standby after a failover): the query still answers, saying its usage was not recorded.
        _cut(state_pg_database, read_only=True)
        result = session.run(QUERY)
        assert result.frame["customers"].to_list() == [3]
        assert len(result.warnings) == 1 and "usage event could not be recorded" in result.warnings[0]
        assert "postgresql://meshwork:***@127.0.0.1:5432/" in result.warnings[0]
        assert "meshwork:meshwork@" not in result.warnings[0]
        with pytest.warns(UnrecordedUsage, match="could not be recorded"):
            assert session.sql(QUERY)["customers"].item() == 3
        # Gone altogether: a write raises, naming the database; a query cannot even be vetted (its grants are
        # state), so it is refused rather than answered without the policy.
        _cut(state_pg_database, read_only=False)
        with pytest.raises(StateUnavailable, match=r"postgresql://meshwork:\*\*\*@127\.0\.0\.1:5432/"):
            mesh.usage_log.record(_event())
        with pytest.raises(StateUnavailable):
            session.run(QUERY)
    finally:
        _restore(state_pg_database)
    # Back: nothing that failed was half-written, and the same store writes again without a restart.
    assert mesh.usage_log.frame().height == 1
    assert session.run(QUERY).warnings == []
    mesh.usage_log.record(_event())
    assert mesh.usage_log.frame().height == 3
    mesh.state.close()

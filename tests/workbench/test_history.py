"""The workbench history is in the state store, per person: every process over one store (on PostgreSQL: servers
on other hosts, with state folders of their own) sees the same runs, committed before `add` returns; an older
version's history file is carried over once; losing the store keeps the result, with a warning. Both backends."""

from __future__ import annotations

import json

import pytest

import catalog
from catalog.workbench.notebook import NotebookStore
from tests.statebackends import backend, state_pg_database, state_url  # noqa: F401

ANA, BO = "ana@bank.example", "bo@bank.example"


@pytest.fixture
def on_backend(monkeypatch, state_url):
    if state_url:
        monkeypatch.setenv("MESHWORK_STATE_URL", state_url)
    return state_url


def test_a_run_on_one_host_is_in_the_history_on_another(minimesh, tmp_path, on_backend):
    here = catalog.open_mesh(minimesh, state_dir=tmp_path / "here")
    result = here.query_history(ANA).run(here.session("analyst", user=ANA), "SELECT age FROM retail.customers", 2)
    assert result.total_rows == 3
    here.query_history(BO).add("SELECT 1", "analyst", 1, 1.0, "ok")
    # SQLite: the store is the state folder's file, so "another host" shares the folder; PostgreSQL: its own
    there = catalog.open_mesh(minimesh, state_dir=(tmp_path / "there") if on_backend else tmp_path / "here")
    [seen] = there.query_history(ANA).recent()
    assert (seen["sql"], seen["rows"], seen["role"], seen["status"]) == ("SELECT age FROM retail.customers", 3,
                                                                        "analyst", "ok")
    assert [e["sql"] for e in there.query_history(BO).recent()] == ["SELECT 1"], "each person sees their own"
    assert not list((tmp_path / "here").rglob("history.jsonl")), "nothing is written to a file any more"
    here.close()
    there.close()


def test_an_older_history_file_is_carried_over_once(minimesh, tmp_path, on_backend):
    state = tmp_path / "state"
    old = NotebookStore(state, ANA).folder / "history.jsonl"
    old.parent.mkdir(parents=True)
    lines = [json.dumps({"ts": f"2026-11-0{n}T10:00:00+00:00", "role": "analyst", "status": "ok", "rows": n,
                         "duration_ms": 1.0, "sql": f"SELECT {n}"}) for n in (1, 2)]
    old.write_text("\n".join(lines) + "\n{\"ts\": \"cut short by a cra")  # a crash left half a line
    mesh = catalog.open_mesh(minimesh, state_dir=state)
    assert [e["sql"] for e in mesh.query_history(ANA).recent()] == ["SELECT 2", "SELECT 1"]
    assert not old.exists() and old.with_name("history.jsonl.imported").exists()
    old.write_text(lines[0] + "\n")  # the same file again (a restored backup): the marker keeps it from doubling
    mesh.query_history(ANA).add("SELECT 3", "analyst", 3, 1.0, "ok")
    assert [e["sql"] for e in mesh.query_history(ANA).recent()] == ["SELECT 3", "SELECT 2", "SELECT 1"]
    mesh.close()


def test_only_the_newest_runs_are_kept(minimesh, tmp_path, on_backend, monkeypatch):
    import catalog.workbench.history as history_module

    monkeypatch.setattr(history_module, "MAX_KEPT", 3)
    mesh = catalog.open_mesh(minimesh, state_dir=tmp_path / "state")
    for n in range(5):
        mesh.query_history(ANA).add(f"SELECT {n}", "analyst", 1, 1.0, "ok")
    mesh.query_history(BO).add("SELECT 'bo'", "analyst", 1, 1.0, "ok")
    assert [e["sql"] for e in mesh.query_history(ANA).recent()] == ["SELECT 4", "SELECT 3", "SELECT 2"]
    assert len(mesh.query_history(BO).recent()) == 1
    mesh.close()


def test_a_lost_state_database_keeps_the_result_with_a_warning(minimesh, tmp_path, state_pg_database, monkeypatch):
    from tests.state.test_unavailable import _cut, _restore
    from tests.statebackends import fresh_schema

    monkeypatch.setenv("MESHWORK_STATE_URL", fresh_schema(state_pg_database))
    mesh = catalog.open_mesh(minimesh, state_dir=tmp_path / "state")
    history = mesh.query_history(ANA)
    session = mesh.session("analyst", user=ANA)
    history.run(session, "SELECT 1 AS warm", 5)
    try:
        _cut(state_pg_database, read_only=True)  # a standby after a failover: nothing can be written
        result = history.run(session, "SELECT age FROM retail.customers", 5)
    finally:
        _restore(state_pg_database)
    assert result.total_rows == 3, "the person still sees the answer"
    assert any("not in your query history" in w and "cannot be written" in w for w in result.warnings)
    assert [e["sql"] for e in history.recent()] == ["SELECT 1 AS warm"], "nothing half-written"
    back = history.run(session, "SELECT 2 AS back", 5)  # and it records again without a restart
    assert back.warnings == []
    assert history.recent()[0]["sql"] == "SELECT 2 AS back"
    mesh.close()

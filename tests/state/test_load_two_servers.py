"""Two app servers over one PostgreSQL state under concurrent sessions, one SIGKILLed mid-load (the bounded
version of bench/bench_team.py): every answered query's usage events are in the store, nothing fails on the
survivor, and the killed server's sessions, sent to the survivor, keep getting answers.

The sessions speak the app's websocket protocol (tests/state/appsession.py), each a different person through
the trusted proxy header; 127.0.0.1 only, bounded in count and time.
"""

from __future__ import annotations

import signal

import catalog
from tests.state import appload
from tests.state.appsession import run_sessions
from tests.statebackends import fresh_schema

SESSIONS = 8
DURATION_S = 15.0


def test_two_servers_lose_no_usage_event_and_one_keeps_serving_when_the_other_is_killed(
        minimesh, app_server, state_pg_database, monkeypatch):
    url = fresh_schema(state_pg_database)
    root = appload.enforce_identity(minimesh, SESSIONS)
    servers = [app_server(root, env={"MESHWORK_STATE_URL": url}) for _ in range(2)]

    def kill() -> str:
        servers[1].process.send_signal(signal.SIGKILL)
        return servers[1].url

    run = run_sessions(appload.drive([s.url for s in servers], SESSIONS, DURATION_S, kill, kill_at=0.5))
    assert servers[1].process.wait(10) == -signal.SIGKILL

    monkeypatch.setenv("MESHWORK_STATE_URL", url)
    mesh = catalog.open_mesh(root)
    usage = mesh.usage()
    mesh.close()
    ok = usage.filter(usage["status"] == "ok")
    events = dict(ok.group_by("user").len().iter_rows())
    summary = appload.summarise(run, SESSIONS, events, killed=servers[1].url)

    assert summary.ready == SESSIONS, "every session rendered the workbench"
    killed_before = [e for e in run.entries if e["ok"] and e["server"] == servers[1].url]
    assert killed_before, "the killed server answered queries before it died"
    assert summary.lost == 0, "an answered query's usage events are missing from the store"
    assert summary.errors_before_kill == 0, summary.first_errors
    assert summary.errors_on_survivors == 0, summary.first_errors
    assert summary.survivor_answers_after_kill > 0
    assert summary.moved_answers_after_kill > 0, "the killed server's sessions got answers from the survivor"
    assert set(usage["product_id"].unique()) == set(appload.PRODUCTS)

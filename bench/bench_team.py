"""A team deployment under load: two app servers (app/serve.py) over one PostgreSQL state, 50 app sessions
split across them running a cross-domain query in the workbench for a minute; one server is SIGKILLed mid-load,
its sessions move to the other (as a load balancer sends them) and the other must keep serving.

The sessions speak the app's own websocket protocol (tests/state/appsession.py: Streamlit's BackMsg/ForwardMsg
protobufs), so each is a real app session (the script runs, the workbench renders, the query runs as that person)
without 50 Chromium tabs on a 2-core machine. 127.0.0.1 only, bounded in count (SESSIONS) and time (DURATION_S).
Each session is its own person (the trusted proxy header), so every answered query is matched with its usage
events in the state database: `lost` counts answered queries whose events are missing. Latency is from the
editor's submit (Ctrl+Enter) to the end of the run that shows the answer.

    PYTHONPATH=. python -m bench.run team        # or: SESSIONS=10 DURATION_S=20 python -m bench.bench_team
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
from pathlib import Path

import psycopg

from tests import harness
from tests.minimesh import build_minimesh
from tests.state import appload

SESSIONS = int(os.environ.get("SESSIONS", "50"))
DURATION_S = float(os.environ.get("DURATION_S", "60"))
THINK_S = float(os.environ.get("THINK_S", "0.5"))  # a person's pause between two runs
KILL_AT = 0.6  # the second server is killed at this share of the run
PG = os.environ.get("MESHWORK_TEST_PG", "postgresql://meshwork:meshwork@127.0.0.1:5432/postgres").rsplit("/", 1)[0]


def events_per_user(url: str) -> dict[str, int]:
    """Usage events recorded as answered, per person (read straight from the store, as an auditor would)."""
    with psycopg.connect(url) as con:
        return dict(con.execute("""SELECT "user", count(*) FROM usage_events WHERE status = 'ok' GROUP BY "user" """)
                    .fetchall())


def main(results: Path) -> Path:
    name = f"mw_bench_team_{os.getpid()}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    servers: list[harness.AppServer] = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            root = appload.enforce_identity(build_minimesh(Path(scratch) / "mini"), SESSIONS)
            servers = [harness.AppServer(root, {"MESHWORK_STATE_URL": url}, log_dir=Path(scratch))
                       for _ in range(2)]

            def kill() -> str:
                servers[1].process.send_signal(signal.SIGKILL)
                return servers[1].url

            load_before = os.getloadavg()
            run = asyncio.run(appload.drive([s.url for s in servers], SESSIONS, DURATION_S, kill, KILL_AT, THINK_S))
            load_after = os.getloadavg()
            summary = appload.summarise(run, SESSIONS, events_per_user(url), killed=servers[1].url)
            for server in servers:
                server.stop()
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.kill()
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return _write(results, summary, load_before, load_after)


def _ms(value: float | None) -> str:
    return f"{value:,.0f} ms" if value is not None else "–"


def _write(results: Path, s: appload.Summary, load_before, load_after) -> Path:
    rows = [
        ("sessions (websocket app sessions), split over 2 servers", f"{s.sessions} ({s.ready} rendered the workbench)"),
        ("duration", f"{DURATION_S:.0f} s, think time {THINK_S:g} s, second server SIGKILLed at "
                     f"{DURATION_S * KILL_AT:.0f} s"),
        ("queries answered", f"{s.answered}"),
        ("answered queries whose usage events are missing (lost)", f"{s.lost}"),
        ("errors before the kill (both servers)", f"{s.errors_before_kill}"),
        ("errors after the kill on the surviving server", f"{s.errors_on_survivors}"),
        ("queries in flight on the killed server when it died (failed, expected)", f"{s.killed_in_flight}"),
        ("queries answered by the survivor after the kill", f"{s.survivor_answers_after_kill}"),
        ("of which by sessions moved from the killed server", f"{s.moved_answers_after_kill}"),
        ("latency p50 / p95 (submit to answer)", f"{_ms(s.p50_ms)} / {_ms(s.p95_ms)}"),
        ("mean", _ms(s.mean_ms)),
        ("load average (1/5/15 min) before / after", f"{' '.join(f'{x:.2f}' for x in load_before)} / "
                                                     f"{' '.join(f'{x:.2f}' for x in load_after)}"),
        ("cores", f"{os.cpu_count()}"),
    ]
    out = results / "team.md"
    out.write_text("# Team deployment: two app servers over one PostgreSQL state\n\n"
                   "bench/bench_team.py: app sessions over Streamlit's websocket protocol on 127.0.0.1, each a "
                   "different person (trusted header), running a cross-domain query (retail x risk) in the "
                   "workbench in a loop; both servers and PostgreSQL share the machine with the load driver.\n\n"
                   "| measure | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
                   + ("\nFirst distinct errors (the killed server's in-flight queries are expected to fail):\n\n"
                      + "".join(f"- `{e}`\n" for e in s.first_errors) if s.first_errors else ""))
    return out


if __name__ == "__main__":
    print(main(Path(__file__).parent / "results").read_text())

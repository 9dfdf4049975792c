"""Concurrent app sessions over the websocket protocol (tests/state/appsession.py), shared by the load test and
bench/bench_team.py: N sessions, each a different person (the trusted proxy header), split over the servers,
running a cross-domain query in the workbench in a loop for a bounded time; optionally one server is SIGKILLed
part way and its sessions move to another, as a load balancer would send them.

Every answered query is logged with its user, so `summarise` can match the answers with the usage events in the
state store: a query a person saw answered whose events are missing is `lost`.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.state.appsession import AppSession

HEADER = "X-Forwarded-Email"
QUERY = ("SELECT '{marker}' AS run, count(*) AS customers, max(s.score) AS best FROM retail.customers c "
         "JOIN risk.scores s ON s.customer_id = c.customer_id")
PRODUCTS = ("retail.customers", "risk.scores")  # two domains: two usage events per answered query
ANSWER = "read retail.customers, risk.scores"  # the result caption of an answered query


def user(n: int) -> str:
    return f"load{n}@bank.example"


def enforce_identity(root: Path, sessions: int) -> Path:
    """Identity from the trusted proxy header, and one known person per session (the default role)."""
    spec = yaml.safe_load((root / "mesh.yaml").read_text())
    spec["identity"] = {"mode": "enforced", "trusted_header": HEADER}
    spec["users"] = {user(n): {"roles": []} for n in range(sessions)}
    (root / "mesh.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


@dataclass
class Run:
    """What the sessions saw: one entry per query sent (ok, latency, error) and when the kill happened."""

    entries: list[dict] = field(default_factory=list)
    killed_at: float | None = None
    started_at: float = 0.0
    ready: int = 0


async def _session(n: int, urls: list[str], dead: set[str], clock: dict, run: Run, think_s: float) -> None:
    home = server = urls[n % len(urls)]
    app: AppSession | None = None
    page = None
    i = 0
    try:
        app = AppSession(server, headers={HEADER: user(n)})
        await app.__aenter__()
        page = await app.open("workbench")  # warm-up, not timed: the person's session and role database
        run.ready += 1
        await clock["start"].wait()
        while time.monotonic() < clock["end"]:
            i += 1
            entry = {"user": user(n), "home": home, "server": server, "ok": False, "latency_s": None, "error": None}
            try:
                if app is None:  # after the server died: the balancer sends the person to another one
                    app = AppSession(server, headers={HEADER: user(n)})
                    await app.__aenter__()
                    page = await app.open("workbench")
                started = time.monotonic()
                page = await app.submit_editor(page, QUERY.format(marker=f"s{n}q{i}"))
                if page.exceptions:
                    raise RuntimeError(page.exceptions[0])
                if not page.has_text(ANSWER):
                    raise RuntimeError(f"no answer on the page: {[t for t in page.texts() if 'rror' in t][:2]}")
                if page.has_text("could not be recorded"):
                    raise RuntimeError("the usage event could not be recorded")
                entry.update(ok=True, latency_s=time.monotonic() - started)
            except Exception as exc:  # a killed server's sessions fail here; the others must not
                entry["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
                if server in dead:
                    if app is not None:
                        await app.close()
                    app, server = None, next(u for u in urls if u not in dead)
                    entry["moved"] = True
            entry["at"] = time.monotonic()
            run.entries.append(entry)
            await asyncio.sleep(think_s)
    finally:
        if app is not None:
            await app.close()


async def drive(urls: list[str], sessions: int, duration_s: float, kill: Callable[[], str] | None = None,
                kill_at: float = 0.6, think_s: float = 0.5, ready_timeout_s: float = 180) -> Run:
    """Open the sessions (warm-up), then let them all query for `duration_s`; `kill` (returns the URL of the
    server it killed) is called at `kill_at` of the run."""
    run, dead = Run(), set()
    clock = {"start": asyncio.Event(), "end": 0.0}
    tasks = [asyncio.create_task(_session(n, urls, dead, clock, run, think_s)) for n in range(sessions)]
    deadline = time.monotonic() + ready_timeout_s
    while run.ready < sessions and time.monotonic() < deadline and not any(t.done() for t in tasks):
        await asyncio.sleep(0.2)
    run.started_at = time.monotonic()
    clock["end"] = run.started_at + duration_s
    clock["start"].set()
    if kill is not None:
        await asyncio.sleep(duration_s * kill_at)
        dead.add(kill())
        run.killed_at = time.monotonic()
    await asyncio.gather(*tasks, return_exceptions=False)
    return run


@dataclass
class Summary:
    sessions: int
    ready: int
    answered: int
    lost: int
    errors_before_kill: int
    errors_on_survivors: int
    killed_in_flight: int
    survivor_answers_after_kill: int
    moved_answers_after_kill: int
    p50_ms: float | None
    p95_ms: float | None
    mean_ms: float | None
    first_errors: list[str]


def summarise(run: Run, sessions: int, events_per_user: dict[str, int], killed: str | None = None) -> Summary:
    """Match the answers with the usage events (`events_per_user`: user -> ok usage events in the store)."""
    answered: dict[str, int] = {}
    for e in run.entries:
        if e["ok"]:
            answered[e["user"]] = answered.get(e["user"], 0) + 1
    per_query = len(PRODUCTS)
    missing = {u: per_query * n - events_per_user.get(u, 0) for u, n in answered.items()}
    lost = sum(-(-m // per_query) for m in missing.values() if m > 0)  # whole queries, rounded up
    cut = run.killed_at if run.killed_at is not None else float("inf")
    latencies = sorted(e["latency_s"] for e in run.entries if e["ok"])

    def pct(q: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else None

    after = [e for e in run.entries if e["at"] >= cut]
    return Summary(
        sessions=sessions, ready=run.ready, answered=len(latencies), lost=lost,
        errors_before_kill=sum(1 for e in run.entries if e["error"] and e["at"] < cut),
        errors_on_survivors=sum(1 for e in after if e["error"] and e["server"] != killed),
        killed_in_flight=sum(1 for e in after if e["error"] and e["server"] == killed),
        survivor_answers_after_kill=sum(1 for e in after if e["ok"] and e["server"] != killed),
        moved_answers_after_kill=sum(1 for e in after if e["ok"] and e["home"] == killed),
        p50_ms=pct(0.5), p95_ms=pct(0.95), mean_ms=statistics.mean(latencies) * 1000 if latencies else None,
        first_errors=sorted({e["error"] for e in run.entries if e["error"]})[:5],
    )

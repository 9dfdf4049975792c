"""A team deployment under load: two app servers (app/serve.py) over one PostgreSQL state, 50 browser sessions
split across them running a cross-domain query in the workbench for a minute; then one server is SIGKILLed
mid-load and the other must keep serving.

Real Chromium on 127.0.0.1 only, bounded in count (SESSIONS) and time (DURATION_S). Each session is its own
person (the trusted proxy header), so every acknowledged query can be matched with its usage events in the
state database: `lost` counts queries a browser saw answered whose events are missing. Latency is from the
run key press to the query's answer appearing in the session's history list.

    PYTHONPATH=. python -m bench.run team        # or: SESSIONS=10 DURATION_S=20 python -m bench.bench_team
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import yaml

from tests import harness
from tests.minimesh import build_minimesh

SESSIONS = int(os.environ.get("SESSIONS", "50"))
DURATION_S = float(os.environ.get("DURATION_S", "60"))
KILL_AT = 0.6  # the second server is killed at this share of the run
PG = os.environ.get("MESHWORK_TEST_PG", "postgresql://meshwork:meshwork@127.0.0.1:5432/postgres").rsplit("/", 1)[0]
QUERY = ("SELECT '{marker}' AS run, count(*) AS customers, max(s.score) AS best FROM retail.customers c "
         "JOIN risk.scores s ON s.customer_id = c.customer_id")  # two domains, two usage events per query


def _mesh(folder: Path) -> Path:
    root = build_minimesh(folder / "mini")
    spec = yaml.safe_load((root / "mesh.yaml").read_text())
    spec["identity"] = {"mode": "enforced", "trusted_header": "X-Forwarded-Email"}
    spec["users"] = {f"load{n}@bank.example": {"roles": []} for n in range(SESSIONS)}
    (root / "mesh.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


async def _session(browser, n: int, url: str, clock: dict, log: list[dict]) -> None:
    user = f"load{n}@bank.example"
    context = await browser.new_context(viewport={"width": 1200, "height": 800},
                                        extra_http_headers={"X-Forwarded-Email": user})
    page = await context.new_page()
    page.set_default_timeout(60_000)
    i = 0
    try:
        await page.goto(f"{url}/workbench")  # warm-up, not timed: the person's session and role database
        await page.wait_for_function(harness.APP_IDLE, timeout=120_000)
        clock["ready"] += 1
        await clock["start"].wait()
        while time.monotonic() < clock["end"]:
            i += 1
            marker = f"s{n}q{i}"
            entry = {"user": user, "server": url, "marker": marker, "ok": False, "latency_s": None, "error": None}
            try:
                await page.goto(f"{url}/workbench?sql={quote(QUERY.format(marker=marker))}")
                await page.wait_for_function(harness.APP_IDLE, timeout=60_000)
                await page.get_by_text("A link filled a cell below").wait_for()
                editor = page.frame_locator("iframe[title*='code_editor']").first
                await editor.locator(".ace_content").first.click()
                started = time.monotonic()
                await page.keyboard.press("Control+Enter")
                await page.get_by_text(f"'{marker}'", exact=False).last.wait_for()  # the history list
                await page.locator("[data-testid='stCaptionContainer']", has_text="read retail.customers").first \
                    .wait_for()
                entry.update(ok=True, latency_s=time.monotonic() - started)
            except Exception as exc:  # a killed server's sessions end here; the others must not
                entry["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
            entry["at"] = time.monotonic()
            log.append(entry)
            if entry["error"]:
                await asyncio.sleep(1)
    finally:
        await context.close()


async def _drive(urls: list[str], killer) -> list[dict]:
    from playwright.async_api import async_playwright

    log: list[dict] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=harness.CHROMIUM,
                                          args=[*harness.CHROMIUM_ARGS, "--renderer-process-limit=8"])
        clock = {"ready": 0, "start": asyncio.Event(), "end": 0.0}
        tasks = [asyncio.create_task(_session(browser, n, urls[n % 2], clock, log)) for n in range(SESSIONS)]
        deadline = time.monotonic() + 180
        while clock["ready"] < SESSIONS and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        clock["end"] = time.monotonic() + DURATION_S
        clock["start"].set()
        await asyncio.sleep(DURATION_S * KILL_AT)
        killer()
        await asyncio.gather(*tasks)
        await browser.close()
    return log


def _events(url: str) -> dict[str, int]:
    with psycopg.connect(url) as con:
        return dict(con.execute('SELECT "user", count(*) FROM usage_events GROUP BY "user"').fetchall())


def main(results: Path) -> Path:
    name = f"mw_bench_team_{os.getpid()}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    servers: list[harness.AppServer] = []
    try:
        with tempfile.TemporaryDirectory() as scratch:
            root = _mesh(Path(scratch))
            env = {"MESHWORK_STATE_URL": url}
            servers = [harness.AppServer(root, env, log_dir=Path(scratch)) for _ in range(2)]
            killed: dict[str, float] = {}

            def kill() -> None:
                killed["at"] = time.monotonic()
                servers[1].process.send_signal(signal.SIGKILL)

            log = asyncio.run(_drive([s.url for s in servers], kill))
            events = _events(url)
            survivor = servers[0].url
            for server in servers:
                server.stop()
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.kill()
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return _write(results, log, events, killed["at"], survivor)


def _write(results: Path, log: list[dict], events: dict[str, int], killed_at: float, survivor: str) -> Path:
    acked: dict[str, int] = {}
    for e in log:
        if e["ok"]:
            acked[e["user"]] = acked.get(e["user"], 0) + 1
    lost = sum(max(0, 2 * n - events.get(user, 0)) // 2 for user, n in acked.items())
    before = [e for e in log if e["at"] < killed_at]
    after_survivor = [e for e in log if e["at"] >= killed_at and e["server"] == survivor]
    latencies = sorted(e["latency_s"] for e in log if e["ok"])

    def pct(q: float) -> str:
        return f"{latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000:,.0f} ms" if latencies else "–"
    rows = [
        ("sessions (browser contexts), split over 2 servers", f"{SESSIONS}"),
        ("duration", f"{DURATION_S:.0f} s, second server SIGKILLed at {DURATION_S * KILL_AT:.0f} s"),
        ("queries answered", f"{len(latencies)}"),
        ("errors before the kill (both servers)", f"{sum(1 for e in before if e['error'])}"),
        ("errors after the kill on the surviving server", f"{sum(1 for e in after_survivor if e['error'])}"),
        ("queries answered by the survivor after the kill", f"{sum(1 for e in after_survivor if e['ok'])}"),
        ("answered queries whose usage events are missing (lost)", f"{lost}"),
        ("latency p50 / p95 (key press to answer)", f"{pct(0.5)} / {pct(0.95)}"),
        ("mean", f"{statistics.mean(latencies) * 1000:,.0f} ms" if latencies else "–"),
    ]
    errors = sorted({e["error"] for e in log if e["error"]})[:5]
    out = results / "team.md"
    out.write_text("# Team deployment: two app servers over one PostgreSQL state\n\n"
                   "bench/bench_team.py: real Chromium sessions on 127.0.0.1, each a different person (trusted "
                   "header), running a cross-domain query (retail x risk) in the workbench in a loop.\n\n"
                   "| measure | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in rows)
                   + ("\nFirst distinct errors (the killed server's sessions are expected to fail):\n\n"
                      + "".join(f"- `{e}`\n" for e in errors) if errors else ""))
    return out


if __name__ == "__main__":
    print(main(Path(__file__).parent / "results").read_text())

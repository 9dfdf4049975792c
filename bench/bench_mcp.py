"""What the MCP server adds to a governed query: one `run_sql` round trip with the SDK's own client, over stdio
and over streamable HTTP (bearer token), against the same query in a workbench session, in the same run.

The banking sample is copied with one analyst token added to mesh.yaml; both servers run as `meshwork mcp`
child processes (stdio, and --http on 127.0.0.1) and the client keeps one MCP session open, as an assistant
does. The three sides are interleaved round by round so they share the machine's state; after a warm-up, the
median of ROUNDS round trips counts. Target: an MCP round trip within 50 ms of the session query. Writes
bench/results/mcp.md.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio

REPO = Path(__file__).resolve().parents[1]
ROUNDS = int(os.environ.get("BENCH_MCP_ROUNDS", "40"))
WARMUP = 5
TARGET_MS = 50.0
USER = "ana.analyst@bank.example"
TOKEN = "bench-analyst-token"
QUERY = ("SELECT state, count(*) AS customers, count(DISTINCT email) AS emails FROM retail.customers "
         "GROUP BY ALL ORDER BY customers DESC, state")
MAX_ROWS = 100


def _mesh(folder: Path) -> Path:
    from catalog.mcp.caller import digest

    root = folder / "banking"
    shutil.copytree(REPO / "sample_data" / "banking", root, ignore=shutil.ignore_patterns(".meshwork"))
    with open(root / "mesh.yaml", "a", encoding="utf-8") as handle:
        handle.write(f"mcp:\n  tokens:\n  - {{user: {USER}, sha256: {digest(TOKEN)}, label: bench}}\n")
    return root


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _command(root: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", "from catalog.cli import main; main()", "mcp", str(root), *extra]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "MESHWORK_USER": USER}


def _wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the HTTP server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the HTTP server did not start listening")


async def _measure(root: Path, port: int) -> dict[str, list[float]]:
    import httpx2
    from mcp import ClientSession, StdioServerParameters, stdio_client
    from mcp.client.streamable_http import streamable_http_client

    import catalog

    mesh = catalog.open_mesh(root)
    session = mesh.session("analyst", USER)
    times: dict[str, list[float]] = {"session": [], "stdio": [], "http": []}
    stdio = StdioServerParameters(command=sys.executable, args=_command(root)[1:], env=_env())
    headers = {"Authorization": f"Bearer {TOKEN}"}
    quiet = open(os.devnull, "w")
    try:
        async with stdio_client(stdio, errlog=quiet) as (sr, sw), ClientSession(sr, sw) as over_stdio, \
                httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0)) as http, \
                streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http) as (hr, hw), \
                ClientSession(hr, hw) as over_http:
            await over_stdio.initialize()
            await over_http.initialize()
            expected = session.run(QUERY, max_rows=MAX_ROWS).frame.height
            for n in range(WARMUP + ROUNDS):
                started = time.perf_counter()
                session.run(QUERY, max_rows=MAX_ROWS)
                lap = {"session": time.perf_counter() - started}
                for side, client in (("stdio", over_stdio), ("http", over_http)):
                    started = time.perf_counter()
                    result = await client.call_tool("run_sql", {"sql": QUERY, "max_rows": MAX_ROWS})
                    lap[side] = time.perf_counter() - started
                    rows = (result.structured_content or {}).get("row_count")
                    if result.is_error or rows != expected:
                        raise RuntimeError(f"{side}: run_sql answered {rows} rows, the session {expected}")
                if n >= WARMUP:
                    for side, seconds in lap.items():
                        times[side].append(seconds * 1000)
    finally:
        mesh.close()
        quiet.close()
    return times


def _row(name: str, values: list[float], base: float, best: float) -> str:
    median, fastest = statistics.median(values), min(values)
    p90 = statistics.quantiles(values, n=10)[-1]
    if name == "session":
        return f"| {name} | {median:.1f} ms | {fastest:.1f} ms | {p90:.1f} ms | | |"
    extra = median - base
    verdict = "within target" if extra <= TARGET_MS else "OVER the target"
    return (f"| {name} | {median:.1f} ms | {fastest:.1f} ms | {p90:.1f} ms | {extra:+.1f} ms ({verdict}) | "
            f"{fastest - best:+.1f} ms |")


def main(results: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as folder:
        root = _mesh(Path(folder))
        port = _free_port()
        server = subprocess.Popen(_command(root, "--http", "--port", str(port)), env=_env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for_port(port, server)
            times = anyio.run(_measure, root, port)
        finally:
            server.terminate()
            server.wait(20)
    base, best = statistics.median(times["session"]), min(times["session"])
    load = os.getloadavg()[0]
    lines = [
        "# MCP benchmark", "",
        f"One governed query on the banking sample, as the analyst {USER} (personal data masked): "
        f"`{QUERY}` ({MAX_ROWS} rows at most). Each round runs it once in a workbench session "
        "(`mesh.session(...).run`, in this process) and once as an MCP `run_sql` tool call with the SDK's own "
        "`ClientSession`, over stdio (`meshwork mcp`) and over streamable HTTP on 127.0.0.1 (`meshwork mcp "
        "--http`, bearer token), each in its own server process, the client's MCP session kept open. "
        f"{WARMUP} warm-up rounds, then {ROUNDS} measured, interleaved. Machine: 2 cores shared with other "
        f"jobs, load average {load:.1f} at the end.", "",
        "| path | median | fastest | p90 | MCP overhead (medians) | MCP overhead (fastest) |",
        "|---|---|---|---|---|---|",
        *(_row(side, times[side], base, best) for side in ("session", "stdio", "http")), "",
        "The fastest round trips are the least disturbed by the other jobs on the shared cores; the medians are "
        "what the target is judged on.", "",
        f"Target: one MCP `run_sql` round trip within {TARGET_MS:.0f} ms of the same query in a session. The MCP "
        "call does more than the session query: it resolves the caller (over HTTP: the token's hash on every "
        "request), opens a governed session, runs the same vetted query, records the usage event and one "
        "`mcp.run_sql` audit row, and sends the rows as JSON.", "",
        "Run with `make bench` (all benchmarks) or `python -m bench.run mcp`.", ""]
    out = results / "mcp.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    return out

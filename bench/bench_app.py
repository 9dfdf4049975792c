"""App speed in Chromium: cold load of each page to its first meaningful content, and the main interactions.

Two times per load: to the page's heading (first meaningful content), and to the whole page drawn (script run
finished, nothing stale). Each page is opened in a fresh browser context (a new user session) at 1440×900
against a server that has served the mesh once; the very first visit of a fresh server (mesh not yet cached) is
reported separately. Targets (issue 22, point 8), as ratios within one run: every page's first meaningful
content within 1.3× that of a one-line Streamlit page served the same way (median of 3 fresh sessions each);
every interaction under 0.5 s median.

    MESHWORK_BENCH_BEFORE=/path/to/an/older/checkout python -m bench.run app

also serves the older checkout's app (its own `app/serve.py` and `catalog`) in the same run and times every
page and interaction on both, alternating, so a change is judged before and after under the same load.
"""

from __future__ import annotations

import os
import statistics
import time
import urllib.parse
from pathlib import Path

from tests import harness

MESH = harness.REPO / "sample_data" / "banking"
PAGES = [  # (label, path with query) — deep links a user would follow
    ("Home", "/"),
    ("Discover", "/discover"),
    ("Product", "/product?product=retail.customers"),
    ("Lineage", "/lineage?product=marketing.customer_360"),
    ("Workbench", "/workbench"),
    ("Dashboards", "/dashboards"),
    ("Scorecards", "/scorecards"),
    ("Review", "/review"),
    ("Governance", "/governance"),
    ("Publish", "/publish"),
    ("Access & alerts", "/marketplace"),
]
REPEATS = 3  # fresh sessions per interaction
PAGE_REPEATS = 5  # fresh sessions per page: the target asks for the median of 3; 5 keeps one slow load on a shared
# machine from deciding a row
PAGE_RATIO = 1.3  # first meaningful content, × the one-line page's
INTERACTION_S = 0.5  # median
READ_MS = 500  # between two timed actions, as a person reads the outcome of one before the next
WARM_UP_S = 60  # at most: after the first visit a server builds the search index, compliance and the default
# role's database in the background; the pages are timed once every server is idle, as a person reads the first
# page before the next
IDLE_CPU = 0.03  # of one core, over IDLE_WINDOW_S: a server doing no background work
IDLE_WINDOW_S = 1.0
HEADING = "() => document.querySelector('[data-testid=\"stMain\"] h1, [data-testid=\"stMain\"] h2')"
CONTENT = "() => (" + HEADING + ")() && (" + harness.APP_IDLE + ")()"


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_idle(servers) -> float:
    """Wait until no server works in the background (each under IDLE_CPU of a core for IDLE_WINDOW_S), at most
    WARM_UP_S; the seconds waited. A fixed sleep was too short on a loaded machine, and the first pages timed
    paid for the warm-up."""
    started = time.perf_counter()
    while time.perf_counter() - started < WARM_UP_S:
        before = [_cpu_seconds(s.process.pid) for s in servers]
        time.sleep(IDLE_WINDOW_S)
        used = [_cpu_seconds(s.process.pid) - b for s, b in zip(servers, before)]
        if max(used) < IDLE_CPU * IDLE_WINDOW_S:
            break
    return time.perf_counter() - started


def _load(browser, url: str) -> tuple[float, float]:
    """(seconds to the page's heading, seconds to the whole page drawn with the script run finished)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_function(HEADING, timeout=60_000, polling=50)
    heading = time.perf_counter() - started
    page.wait_for_function(CONTENT, timeout=60_000, polling=50)
    done = time.perf_counter() - started
    context.close()
    return heading, done


QUERY = ("SELECT c.state, count(*) AS customers, round(avg(s.score)) AS avg_score FROM retail.customers c "
         "JOIN risk.credit_scores s USING (customer_id) GROUP BY c.state ORDER BY c.state")  # across two domains


def _interactions(browser, server) -> list[tuple[str, float]]:
    """Time what a user does most, each from the action to the settled result, in one fresh session. Each page
    is first left to finish drawing for a moment, as a person reads it before acting."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    timings = []

    def open_page(path: str) -> None:
        page.goto(f"{server.url}{path}")
        page.wait_for_function(CONTENT, timeout=60_000)
        page.wait_for_function(harness.NOTHING_STALE, timeout=60_000)
        page.wait_for_timeout(1500)

    def settle() -> None:
        """Until the person sees the outcome: the run ended, nothing stale, and every chart and table drawn on
        its canvas (a chart still drawing was counted in the next action's time instead)."""
        page.wait_for_timeout(60)  # let the rerun start before waiting for it to end
        page.wait_for_function(harness.APP_IDLE, timeout=60_000, polling=50)
        page.wait_for_function(harness.NOTHING_STALE, timeout=60_000, polling=50)
        page.wait_for_function(harness.CANVASES_PRESENT, timeout=60_000, polling=50)

    def timed(label: str, action) -> None:
        started = time.perf_counter()
        action()
        settle()
        timings.append((label, time.perf_counter() - started))
        page.wait_for_timeout(READ_MS)  # the person reads what came before acting again (not timed)

    open_page("/discover")
    box = page.get_by_role("textbox").first
    for text in ["customer", "card transactions", "churn"]:
        timed(f"search “{text}”", lambda text=text: (box.fill(text), box.press("Enter")))

    for path, label in (("/product?product=retail.customers", "product"), ("/governance", "governance")):
        open_page(path)
        for tab in page.get_by_role("tab").all()[1:4]:
            timed(f"{label} tab “{tab.inner_text().strip()}”", tab.click)

    open_page("/workbench?sql=" + urllib.parse.quote(QUERY))
    run = page.get_by_role("button", name="Run").first
    for i in range(3):
        timed(f"run a cross-domain query (#{i + 1})", run.click)
    context.close()
    return timings


def _baseline_server(folder: Path) -> harness.AppServer:
    """A one-line Streamlit app (`st.title`) served the same way: what Streamlit and Chromium cost here before any
    of ours. It is loaded beside every page, in the same rounds, so both see the same load."""
    script = folder / "hello.py"
    script.write_text('import streamlit as st\nst.title("Hello")\n')
    return harness.AppServer(MESH, script=script)


def _page_rows(loads: dict[str, dict[str, list[tuple[float, float]]]], baseline_heading: float, baseline: float,
               before: bool) -> list[str]:
    rows = []
    for label, path in PAGES:
        headings, samples = zip(*loads["now"][label])
        heading, median = statistics.median(headings), statistics.median(samples)
        ratio = heading / baseline_heading
        row = (f"| {label} | `{path}` | {heading:.2f} | {ratio:.2f}× | {'yes' if ratio <= PAGE_RATIO else '**no**'} "
               f"| {median:.2f} | {median / baseline:.2f}× |")
        if before:
            old_headings, old_samples = zip(*loads["before"][label])
            old, old_drawn = statistics.median(old_headings), statistics.median(old_samples)
            row += f" {old:.2f} | {old / baseline_heading:.2f}× | {old_drawn:.2f} |"
        rows.append(row)
    return rows


def main(results: Path) -> Path:
    import tempfile

    from playwright.sync_api import sync_playwright

    older = os.environ.get("MESHWORK_BENCH_BEFORE")
    with sync_playwright() as p, tempfile.TemporaryDirectory() as scratch:
        browser = harness.launch_chromium(p)
        servers = {"baseline": _baseline_server(Path(scratch)), "now": harness.AppServer(MESH)}
        try:
            if older:
                servers["before"] = harness.AppServer(MESH, tree=Path(older))
            first = {name: _load(browser, server.url)[1] for name, server in servers.items()}  # baseline: warm-up
            waited = _wait_until_idle(servers.values())
            loads: dict = {name: {} for name in servers}
            for label, path in PAGES:
                for _ in range(PAGE_REPEATS):  # alternating, so all see the same load
                    for name, server in servers.items():
                        loads[name].setdefault(label, []).append(
                            _load(browser, server.url + ("/" if name == "baseline" else path)))
            baseline_heading, baseline = (statistics.median(sample[i] for samples in loads["baseline"].values()
                                                            for sample in samples) for i in (0, 1))
            sessions: dict = {name: {} for name in servers if name != "baseline"}
            try:
                for _ in range(REPEATS):
                    for name, server in servers.items():
                        if name == "baseline":
                            continue
                        for action, seconds in _interactions(browser, server):
                            sessions[name].setdefault(action, []).append(seconds)
            except Exception as exc:  # a page missing its widget must not hide the load numbers
                sessions["now"][f"interactions failed: {type(exc).__name__}: {str(exc).splitlines()[0]}"] = [
                    float("nan")]
        finally:
            for server in servers.values():
                server.stop()
            browser.close()
    before = "before" in servers
    out = results / "app.md"
    compare_head = " before: heading, median s | before × baseline | before: all drawn, median s |" if before else ""
    compare_rule = "---|---|---|" if before else ""
    lines = [
        "# App speed in Chromium (banking sample)",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} (load average {os.getloadavg()[0]:.1f} when done; 2 cores "
        "shared with other work: compare within one run). The app is started by `app/serve.py`, as `make run` "
        "starts it."
        + (f" *Before* is the app of an older checkout (`{Path(older).name}`), served beside it and timed "
           "alternately in the same run." if before else ""),
        "",
        f"First visit of a fresh server (loads and caches the mesh): **{first['now']:.2f} s**"
        + (f" (before: {first['before']:.2f} s)" if before else "")
        + f"; the pages below are timed once every server is idle ({waited:.0f} s later: the background warm-up of "
        "search index, compliance and the default role's database is done).",
        "",
        f"Each page in a fresh browser session at 1440×900, {PAGE_REPEATS} times: to its heading (first meaningful "
        "content; the target, judged on the median) and to the whole page drawn with the script run finished and "
        f"nothing stale. Baseline: a one-line Streamlit app (`st.title`) served the same way, loaded beside every "
        f"page in the same rounds ({len(PAGES) * PAGE_REPEATS} loads), takes **{baseline_heading:.2f} s** to its heading "
        f"and **{baseline:.2f} s** to all drawn (medians).",
        "",
        f"| page | deep link | heading, median s | × baseline | within {PAGE_RATIO}× | all drawn, median s | "
        "× baseline |" + compare_head,
        "|---|---|---|---|---|---|---|" + compare_rule,
        *_page_rows(loads, baseline_heading, baseline, before),
        "",
        "Interactions, from the action to the settled page (the run ended, nothing stale, every chart and table "
        f"drawn; {READ_MS} ms of reading between two actions, not timed), in {REPEATS} fresh sessions each; "
        "judged on the median (one session's worst is shown beside it):",
        "",
        f"| interaction | median s | worst s | under {INTERACTION_S} s |" + (" before: median s |" if before else ""),
        "|---|---|---|---|" + ("---|" if before else ""),
        *[f"| {name} | {statistics.median(t):.2f} | {max(t):.2f} | "
          f"{'yes' if statistics.median(t) < INTERACTION_S else '**no**'} |"
          + (f" {statistics.median(sessions['before'].get(name, [float('nan')])):.2f} |" if before else "")
          for name, t in sessions["now"].items()],
        "",
    ]
    out.write_text("\n".join(lines))
    return out

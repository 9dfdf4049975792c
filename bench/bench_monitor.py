"""A monitor pass over the 10,000-product synthetic catalog (`meshwork sample synthetic`) with unchanged data:
every product checked (`--all`, whatever its schedule), none scanned again, incidents kept. Target: < 5 s.

The first pass scans every product once (the Checker's one scan each) and is timed too; it runs only when the
state under bench/data/ is new, because rebuilding the catalog would change every file's fingerprint.
Writes bench/results/monitor.md.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from datetime import datetime
from pathlib import Path

import catalog

PRODUCTS = 10_000
DATA = Path(__file__).parent / "data"
ROOT = DATA / "monitor_synthetic"
STATE = DATA / "monitor_synthetic_state"
PRIMED = STATE / "primed.json"
REPEAT = 3
TARGET_S = 5.0
CHUNK = 250


def _prime(budget_s: float | None = None) -> dict:
    """Build the catalog once and run the first (scanning) pass, in chunks whose state is kept, so an interrupted
    priming resumes where it stopped (the Checker reuses the runs already stored). Stops after `budget_s`."""
    from catalog.samples.synthetic import build_synthetic_catalog

    facts = json.loads(PRIMED.read_text()) if PRIMED.exists() else {"first_pass_s": 0.0, "scanned": 0, "opened": 0}
    if facts.get("done"):
        return facts
    if not (ROOT / "mesh.yaml").exists():
        build_synthetic_catalog(ROOT, products=PRODUCTS)
    mesh = catalog.open_mesh(ROOT, state_dir=STATE)
    began = time.monotonic()
    seen = mesh.monitor.state.load()
    waiting = [p for p in sorted(mesh.products) if p not in seen and not mesh.products[p].broken]
    for start in range(0, len(waiting), CHUNK):
        if budget_s is not None and time.monotonic() - began > budget_s:
            break
        done = mesh.monitor.run_once(products=waiting[start:start + CHUNK])
        facts["first_pass_s"] += done.seconds
        facts["scanned"] += done.scanned
        facts["opened"] += sum(t.action == "opened" for t in done.transitions)
        STATE.mkdir(parents=True, exist_ok=True)
        PRIMED.write_text(json.dumps(facts))
    seen = mesh.monitor.state.load()
    left = [p for p in mesh.products if p not in seen and not mesh.products[p].broken]
    facts.update(done=not left, left=len(left), at=datetime.now().strftime("%Y-%m-%d %H:%M"))
    PRIMED.write_text(json.dumps(facts))
    mesh.close()
    return facts


def main(results: Path, budget_s: float | None = None, measure_partial: bool = False) -> Path:
    """With `measure_partial`, a priming that has not finished is measured over the products it reached (and
    the table says so); otherwise an unfinished priming is an error (run again: it resumes)."""
    primed = _prime(budget_s)
    if not primed.get("done") and not measure_partial:
        raise RuntimeError(f"priming stopped with {primed['left']:,} products not yet checked once; run again")
    began = time.perf_counter()
    mesh = catalog.open_mesh(ROOT, state_dir=STATE)
    open_s = time.perf_counter() - began
    reached = sorted(mesh.monitor.state.load()) if not primed.get("done") else None
    passes, seconds = [], []
    for _ in range(REPEAT):
        began = time.perf_counter()
        if reached is None:
            passes.append(mesh.monitor_pass(force=True))  # the whole call: the pass and the change notifications
        else:
            passes.append(mesh.monitor_pass(products=reached))
        seconds.append(time.perf_counter() - began)
    scheduled = mesh.monitor_pass() if reached is None else None  # partial: the unreached ones are all due
    last = passes[-1]
    failing = sum(bool(f) for f in last.findings.values())
    open_incidents = mesh.incident_list(state="open").height
    best, median = min(seconds), statistics.median(seconds)
    out = results / "monitor.md"
    partial = "" if reached is None else (
        f"\n**Partial run.** The first (scanning) pass had reached {len(reached):,} of {len(mesh.products):,} "
        f"products when this was measured, so the unchanged passes below cover those {len(reached):,} only; "
        f"the 10,000-product target is not measured here (a full pass would be about "
        f"{best / max(len(reached), 1) * len(mesh.products):.1f} s at the same cost per product). "
        "`python -m bench.run monitor` resumes the priming and measures the whole catalog.\n")
    out.write_text(f"""# Monitor: one pass over the 10,000-product synthetic catalog, data unchanged
{partial}
{len(mesh.products):,} products (`meshwork sample synthetic`), DuckDB engine, {platform.machine()} with
{os.cpu_count()} cores shared with other work (load average {os.getloadavg()[0]:.1f} at the end). Measured on
{datetime.now():%Y-%m-%d %H:%M} with `python -m bench.run monitor`; best of {REPEAT} passes in one process.

| pass | seconds | products | scanned | unchanged |
|---|---|---|---|---|
| first pass (each product checked once, in chunks of {CHUNK}; as of {primed['at']}) | {primed['first_pass_s']:.1f} | {len(mesh.products) - primed['left']:,} | {primed['scanned']:,} | 0 |
| `monitor --all`, data unchanged (best of {REPEAT}) | {best:.2f} | {last.due:,} | {last.scanned:,} | {last.reused:,} |
| same, median of {REPEAT} | {median:.2f} | | | |
{f"| `monitor --once` on schedule (nothing due yet) | {scheduled.seconds:.3f} | {scheduled.due:,} | {scheduled.scanned:,} | {scheduled.reused:,} |" if scheduled else "| `monitor --once` on schedule | not measured (partial) | | | |"}
| open the mesh (descriptors from the parse cache) | {open_s:.2f} | | | |

| target | met | measured |
|---|---|---|
| a pass over 10,000 products with unchanged data < {TARGET_S:g} s | {('yes' if best < TARGET_S else 'no') if reached is None else 'not measured (partial)'} | {best:.2f} s over {last.due:,} products |

{failing:,} products have a failing cause in the last pass; {open_incidents:,} incidents are open (the first
pass opened {primed['opened']:,}; the unchanged passes opened, reopened or resolved {sum(len(p.transitions) for p in passes)}).

How: a pass computes each product's data version (its sources' fingerprints, memoized across the shared files
and the derived products' inputs within the pass, plus its checks, SLA and version), and only a product whose
version changed goes to the Checker. The others' latest stored results are read in one query and judged again
(a freshness result ages with time alone); volume is judged against the row counts of earlier data versions
(`monitor_volumes`); all findings go to the incident desk in one transaction, and the pass's state in another.
""")
    mesh.close()
    return out


if __name__ == "__main__":
    import sys

    budget = float(sys.argv[1]) if len(sys.argv) > 1 else None
    print(main(Path(__file__).parent / "results", budget, measure_partial="--partial" in sys.argv))

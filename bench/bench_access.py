"""What identity, grants and change tracking cost: per-query grant resolution on the banking
sample, and change sync / trust signals on the 10,000-product synthetic catalog.

Writes bench/results/access.md. Ratios are measured within one run on one machine.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

import catalog
from catalog.descriptors.ports import output_ports

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
QUERIES = 200
PRODUCTS = 10_000


def _median_ms(fn, n: int) -> float:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _timed_ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _grant_overhead() -> list[tuple[str, float]]:
    root = DATA / "access_banking"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(REPO / "sample_data" / "banking", root, ignore=shutil.ignore_patterns(".meshwork"))
    mesh = catalog.open_mesh(root)
    restricted = next(p for p in mesh.products.values() if p.descriptor.access.restricted and not p.broken)
    owner = next(iter(sorted(mesh.access.owners_of(restricted.id))))
    plain = mesh.session(role="steward", user="plain@bank.example")
    granted = mesh.session(role="analyst", user="granted@bank.example")
    port = output_ports(restricted)[0].name  # a grant is an approved access agreement
    agreement = mesh.agreements.request("granted@bank.example", restricted.id, port, "Benchmarking the grant path", 1)
    mesh.agreements.approve(agreement.id, owner)
    for _ in range(200):  # history: 200 expired grants for the same user on other products
        mesh.state.query("INSERT INTO grants (user, product_id, kind, granted_by, granted_at, expires_at) "
                         "VALUES ('granted@bank.example', 'retail.customers', 'pii', 'x', '2020-01-01', '2020-01-02')")
    sql = f"SELECT count(*) FROM {restricted.id}"
    plain.sql(sql)
    granted.sql(sql)
    rows = [
        ("query by role (steward sees it; no grant)", _median_ms(lambda: plain.sql(sql), QUERIES)),
        ("query through an access grant (analyst + grant, audited per query)", _median_ms(lambda: granted.sql(sql), QUERIES)),
        ("grant resolution alone (engine.database_for)", _median_ms(
            lambda: mesh.engine.database_for("analyst", "granted@bank.example"), QUERIES)),
    ]
    mesh.close()
    return rows


def _synthetic() -> list[tuple[str, float]]:
    from catalog.samples.synthetic import build_synthetic_catalog

    root = DATA / "access_synthetic"
    build_synthetic_catalog(root, products=PRODUCTS)
    state = DATA / "access_synthetic_state"
    shutil.rmtree(state, ignore_errors=True)
    mesh = catalog.open_mesh(root, state_dir=state)
    baseline = _timed_ms(lambda: mesh.changes.sync(force=True))
    unchanged = _timed_ms(lambda: mesh.changes.sync(force=True))
    source = next(p for p in mesh.products.values() if mesh.downstreams(p.id) and p.columns and not p.broken)
    path = source.path
    original = path.read_text()
    first = source.columns[0].name
    path.write_text(original.replace(f"name: {first}", f"name: {first}_renamed", 1))
    try:
        changed_mesh = catalog.open_mesh(root, state_dir=state)
        one_change = _timed_ms(lambda: changed_mesh.changes.sync(force=True))
        alerts = changed_mesh.state.query("SELECT count(*) FROM alerts")[0][0]
    finally:
        path.write_text(original)
    signals = _timed_ms(mesh.trust_signals)
    return [
        (f"change sync, first run (baseline of {len(mesh.products):,} descriptors)", baseline),
        ("change sync, nothing changed", unchanged),
        (f"change sync, one column renamed ({alerts} alert(s) written)", one_change),
        (f"trust_signals() for {len(mesh.products):,} products", signals),
    ]


def main(results: Path) -> Path:
    DATA.mkdir(exist_ok=True)
    grant_rows = _grant_overhead()
    base = grant_rows[0][1]
    lines = ["# Access, grants and change tracking", "",
             f"Median of {QUERIES} queries on the banking sample (same query, warm database).", "",
             "| what | median ms | vs. role-only query |", "|---|---:|---:|"]
    lines += [f"| {name} | {ms:.2f} | {ms / base:.2f}x |" for name, ms in grant_rows]
    lines += ["", f"Synthetic catalog of {PRODUCTS:,} products (one run each).", "", "| what | ms |", "|---|---:|"]
    lines += [f"| {name} | {ms:.0f} |" for name, ms in _synthetic()]
    out = results / "access.md"
    out.write_text("\n".join(lines) + "\n")
    return out

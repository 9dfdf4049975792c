"""What governance, publishing and contracts cost: policy evaluation on the 10,000-product synthetic
catalog, drafting (read + profile + suggestions) and publishing a 200,000-row CSV, ODCS export/import.

Writes bench/results/governance.md. Ratios are measured within one run on one machine.
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

import duckdb

import catalog
from catalog.interop import odcs as contracts

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
PRODUCTS = 10_000
ROWS = 200_000
OWNER = "bench@bank.example"
PUBLISHER = "ana.silva@bank.example"  # on the retail team: publishing is authorized (catalog.access.authority)


def _timed_ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _median_ms(fn, n: int) -> float:
    return statistics.median(_timed_ms(fn) for _ in range(n))


def _governance() -> list[tuple[str, float]]:
    from catalog.samples.synthetic import build_synthetic_catalog

    root = DATA / "governance_synthetic"
    build_synthetic_catalog(root, products=PRODUCTS)
    state = DATA / "governance_synthetic_state"
    shutil.rmtree(state, ignore_errors=True)
    mesh = catalog.open_mesh(root, state_dir=state)
    first = _timed_ms(mesh.compliance)
    frame = mesh.compliance()
    return [
        (f"compliance(): {frame.height:,} evaluations on {len(mesh.products):,} products", first),
        ("compliance() again on the same loaded mesh (cached)", _timed_ms(mesh.compliance)),
        ("pii_inventory()", _timed_ms(mesh.pii_inventory)),
        (f"access_rules() ({len(mesh.roles)} roles x {len(mesh.products):,} products)", _timed_ms(mesh.access_rules)),
    ]


def _publishing() -> list[tuple[str, float, str]]:
    root = DATA / "governance_banking"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(REPO / "sample_data" / "banking", root, ignore=shutil.ignore_patterns(".meshwork"))
    upload = DATA / "governance_visits.csv"
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT 'V' || i AS visit_id, 'B' || (i % 40) AS branch_id,
                        'user' || i || '@mail.example' AS customer_email, (i % 97) / 3.0 AS minutes,
                        ['walk_in', 'appointment', 'video'][1 + i % 3] AS channel,
                        TIMESTAMP '2026-01-01' + INTERVAL (i) SECOND AS visited_at
                    FROM range({ROWS}) t(i)) TO '{upload}' (HEADER)""")
    data = upload.read_bytes()
    read_only = _median_ms(lambda: con.execute(f"SELECT * FROM read_csv('{upload}')").arrow(), 3)
    con.close()
    mesh = catalog.open_mesh(root)
    draft_ms = _median_ms(lambda: mesh.publisher.draft_from_upload(data, "visits.csv", domain="retail", name="visits",
                                                        owner=OWNER, description="Branch visits"), 3)
    draft = mesh.publisher.draft_from_upload(data, "visits.csv", domain="retail", name="visits", owner=OWNER,
                                  description="Branch visits")
    publish_ms = _timed_ms(lambda: mesh.publisher.publish(draft, user=PUBLISHER))
    reopened = catalog.open_mesh(root)
    query_ms = _timed_ms(lambda: reopened.session(role="analyst").sql(
        "SELECT channel, count(*) FROM retail.visits GROUP BY ALL"))
    export_ms = _median_ms(lambda: contracts.export_contract(reopened, "retail.customers"), 20)
    text = contracts.export_contract(reopened, "retail.customers")
    import_ms = _median_ms(lambda: contracts.from_contract(contracts.read_contract(text)), 20)
    mb = len(data) / 1e6
    return [
        (f"DuckDB reads the {ROWS:,}-row CSV ({mb:.1f} MB), for reference", read_only, "1.00x"),
        ("draft_from_upload: sniff, read, profile, suggest PII and checks, check policies", draft_ms,
         f"{draft_ms / read_only:.2f}x"),
        ("publish: atomic write, re-read the mesh, probe the file", publish_ms, f"{publish_ms / read_only:.2f}x"),
        ("first governed query on the new product (builds its view)", query_ms, f"{query_ms / read_only:.2f}x"),
        ("ODCS export of retail.customers (incl. JSON-schema validation)", export_ms, ""),
        ("ODCS import to a descriptor (validation + mapping)", import_ms, ""),
    ]


def main(results: Path) -> Path:
    DATA.mkdir(exist_ok=True)
    lines = ["# Governance, publishing and data contracts", "",
             f"Synthetic catalog of {PRODUCTS:,} products (one run each).", "", "| what | ms |", "|---|---:|"]
    lines += [f"| {name} | {ms:.1f} |" for name, ms in _governance()]
    lines += ["", "Publishing on a copy of the banking mesh (median of 3 drafts; ODCS median of 20).", "",
              "| what | ms | vs. a plain DuckDB read |", "|---|---:|---:|"]
    lines += [f"| {name} | {ms:.1f} | {ratio} |" for name, ms, ratio in _publishing()]
    out = results / "governance.md"
    out.write_text("\n".join(lines) + "\n")
    return out

"""Quality checks on a 10-million-row parquet product with 20 checks (two exact uniqueness checks on
high-cardinality columns): our one-scan run vs. one query per check, a hand-written single aggregate
query, and Soda Core (soda-core-duckdb) running the same checks; plus a re-check of unchanged data.

Writes bench/results/quality.md. The data is generated into bench/data/quality/ (git-ignored).
"""

from __future__ import annotations

import platform
import textwrap
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

import duckdb

import catalog

ROWS = 10_000_000
DATA = Path(__file__).parent / "data" / "quality"
MESH = DATA / "mesh"
PARQUET = MESH / "sales" / "data" / "orders.parquet"
REPEAT = 3
THREADS = 2
MEMORY = "2GB"

STATUSES = ["new", "paid", "shipped", "refunded", "cancelled"]
COUNTRIES = ["US", "PT", "DE", "FR", "BR", "IN", "JP"]
CHANNELS = ["web", "app", "store", "phone"]

CHECKS = textwrap.dedent("""
    quality:
      - {check: unique, column: order_id}
      - {check: unique, column: order_ref}
      - {check: not_null, column: order_id}
      - {check: not_null, column: customer_id}
      - {check: not_null, column: email, severity: warning}
      - {check: not_null, column: amount}
      - {check: not_null, column: created_at}
      - {check: not_null, column: status}
      - {check: accepted_values, column: status, values: [new, paid, shipped, refunded, cancelled]}
      - {check: accepted_values, column: country, values: [US, PT, DE, FR, BR, IN, JP]}
      - {check: accepted_values, column: channel, values: [web, app, store, phone], severity: warning}
      - {check: range, column: amount, min: 0, max: 10000}
      - {check: range, column: score, min: 300, max: 850}
      - {check: range, column: created_at, min: '2020-01-01'}
      - {check: regex, column: code, pattern: '^[A-Z]{2}[0-9]{4}$'}
      - {check: regex, column: email, pattern: '^[^@]+@[^@]+$', severity: info}
      - {check: row_count, min: 1000000}
      - {check: freshness, column: created_at, max_age_hours: 1000000}
      - {check: expression, expression: "amount >= 0 OR status = 'refunded'", name: no negative sales}
      - {check: expression, expression: "quantity > 0", name: positive quantity}
""")

HAND_WRITTEN = """
SELECT count(*) AS n,
  count(*) - count(DISTINCT order_id) AS order_id_dup,
  count(*) - count(DISTINCT order_ref) AS order_ref_dup,
  count(*) FILTER (WHERE order_id IS NULL), count(*) FILTER (WHERE customer_id IS NULL),
  count(*) FILTER (WHERE email IS NULL), count(*) FILTER (WHERE amount IS NULL),
  count(*) FILTER (WHERE created_at IS NULL), count(*) FILTER (WHERE status IS NULL),
  count(*) FILTER (WHERE status NOT IN ('new', 'paid', 'shipped', 'refunded', 'cancelled')),
  count(*) FILTER (WHERE country NOT IN ('US', 'PT', 'DE', 'FR', 'BR', 'IN', 'JP')),
  count(*) FILTER (WHERE channel NOT IN ('web', 'app', 'store', 'phone')),
  count(*) FILTER (WHERE amount < 0 OR amount > 10000),
  count(*) FILTER (WHERE score < 300 OR score > 850),
  count(*) FILTER (WHERE created_at < '2020-01-01'),
  count(*) FILTER (WHERE NOT regexp_matches(code, '^[A-Z]{2}[0-9]{4}$')),
  count(*) FILTER (WHERE NOT regexp_matches(email, '^[^@]+@[^@]+$')),
  max(created_at),
  count(*) FILTER (WHERE NOT (amount >= 0 OR status = 'refunded')),
  count(*) FILTER (WHERE NOT (quantity > 0))
FROM orders
"""

PER_CHECK = [
    "SELECT count(*) - count(DISTINCT order_id) FROM orders",
    "SELECT count(*) - count(DISTINCT order_ref) FROM orders",
    "SELECT count(*) FROM orders WHERE order_id IS NULL",
    "SELECT count(*) FROM orders WHERE customer_id IS NULL",
    "SELECT count(*) FROM orders WHERE email IS NULL",
    "SELECT count(*) FROM orders WHERE amount IS NULL",
    "SELECT count(*) FROM orders WHERE created_at IS NULL",
    "SELECT count(*) FROM orders WHERE status IS NULL",
    "SELECT count(*) FROM orders WHERE status NOT IN ('new', 'paid', 'shipped', 'refunded', 'cancelled')",
    "SELECT count(*) FROM orders WHERE country NOT IN ('US', 'PT', 'DE', 'FR', 'BR', 'IN', 'JP')",
    "SELECT count(*) FROM orders WHERE channel NOT IN ('web', 'app', 'store', 'phone')",
    "SELECT count(*) FROM orders WHERE amount < 0 OR amount > 10000",
    "SELECT count(*) FROM orders WHERE score < 300 OR score > 850",
    "SELECT count(*) FROM orders WHERE created_at < '2020-01-01'",
    "SELECT count(*) FROM orders WHERE NOT regexp_matches(code, '^[A-Z]{2}[0-9]{4}$')",
    "SELECT count(*) FROM orders WHERE NOT regexp_matches(email, '^[^@]+@[^@]+$')",
    "SELECT count(*) FROM orders",
    "SELECT max(created_at) FROM orders",
    "SELECT count(*) FROM orders WHERE NOT (amount >= 0 OR status = 'refunded')",
    "SELECT count(*) FROM orders WHERE NOT (quantity > 0)",
]

SODA_CHECKS = """
checks for orders:
  - duplicate_count(order_id) = 0
  - duplicate_count(order_ref) = 0
  - missing_count(order_id) = 0
  - missing_count(customer_id) = 0
  - missing_count(email) = 0
  - missing_count(amount) = 0
  - missing_count(created_at) = 0
  - missing_count(status) = 0
  - invalid_count(status) = 0:
      valid values: [new, paid, shipped, refunded, cancelled]
  - invalid_count(country) = 0:
      valid values: [US, PT, DE, FR, BR, IN, JP]
  - invalid_count(channel) = 0:
      valid values: [web, app, store, phone]
  - invalid_count(amount) = 0:
      valid min: 0
      valid max: 10000
  - invalid_count(score) = 0:
      valid min: 300
      valid max: 850
  - failed rows:
      name: created after 2020
      fail condition: created_at < '2020-01-01'
  - invalid_count(code) = 0:
      valid regex: '^[A-Z]{2}[0-9]{4}$'
  - invalid_count(email) = 0:
      valid regex: '^[^@]+@[^@]+$'
  - row_count > 1000000
  - freshness(created_at) < 1000000h
  - failed rows:
      name: no negative sales
      fail condition: NOT (amount >= 0 OR status = 'refunded')
  - failed rows:
      name: positive quantity
      fail condition: NOT (quantity > 0)
"""


def generate() -> None:
    """10M orders with a few known defects (NULL e-mails, bad codes, out-of-range scores), unique keys."""
    if PARQUET.exists():
        return
    PARQUET.parent.mkdir(parents=True, exist_ok=True)
    (MESH / "mesh.yaml").write_text("name: quality_bench\ntitle: Quality benchmark\nthreads: 2\n")
    (MESH / "sales" / "domain.yaml").write_text("name: sales\nowner: sales@bench.example\n")
    (MESH / "sales" / "products").mkdir(exist_ok=True)
    (MESH / "sales" / "products" / "orders.yaml").write_text(textwrap.dedent("""
        name: orders
        description: Ten million orders for the quality benchmark.
        owner: olga@bench.example
        source: {kind: parquet, path: data/orders.parquet}
        columns:
          - {name: order_id, type: BIGINT}
          - {name: order_ref, type: VARCHAR}
          - {name: customer_id, type: BIGINT}
          - {name: email, type: VARCHAR}
          - {name: status, type: VARCHAR}
          - {name: country, type: VARCHAR}
          - {name: channel, type: VARCHAR}
          - {name: amount, type: DOUBLE}
          - {name: quantity, type: INTEGER}
          - {name: score, type: INTEGER}
          - {name: code, type: VARCHAR}
          - {name: created_at, type: TIMESTAMP}
    """).lstrip() + CHECKS.lstrip("\n"))
    con = duckdb.connect()
    con.execute(f"SET threads = {THREADS}")
    con.execute(f"""COPY (
        SELECT i AS order_id,
               'ORD-' || lpad(CAST((i * 7919) % {ROWS} AS VARCHAR), 9, '0') AS order_ref,
               (i * 31) % 500000 AS customer_id,
               CASE WHEN i % 997 = 0 THEN NULL ELSE 'c' || CAST(i % 500000 AS VARCHAR) || '@shop.example' END AS email,
               ['new', 'paid', 'shipped', 'refunded', 'cancelled'][1 + i % 5] AS status,
               ['US', 'PT', 'DE', 'FR', 'BR', 'IN', 'JP'][1 + i % 7] AS country,
               ['web', 'app', 'store', 'phone'][1 + i % 4] AS channel,
               CAST((i * 13) % 900000 AS DOUBLE) / 100 AS amount,
               CAST(1 + i % 9 AS INTEGER) AS quantity,
               CAST(CASE WHEN i % 100003 = 0 THEN 999 ELSE 300 + i % 551 END AS INTEGER) AS score,
               CASE WHEN i % 50021 = 0 THEN 'bad' ELSE chr(65 + CAST(i % 26 AS INTEGER))
                    || chr(65 + CAST(i // 26 % 26 AS INTEGER)) || lpad(CAST(i % 10000 AS VARCHAR), 4, '0') END AS code,
               TIMESTAMP '2024-01-01' + to_seconds(i * 3) AS created_at
        FROM range({ROWS}) t(i)
    ) TO '{PARQUET}' (FORMAT parquet, ROW_GROUP_SIZE 1000000, COMPRESSION zstd)""")
    con.close()


def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": THREADS, "memory_limit": MEMORY})
    con.execute(f"CREATE VIEW orders AS SELECT * FROM read_parquet('{PARQUET}')")
    return con


def _best(fn: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def _soda_scan(con: duckdb.DuckDBPyConnection) -> tuple[Callable[[], int] | None, str]:
    """A function that runs the Soda Core scan of the same checks (None when Soda Core is missing)."""
    try:
        from soda.scan import Scan
    except ImportError as exc:
        return None, (f"Soda Core is not installed ({exc}); `make bench` installs it: soda-core==3.5.6 from the "
                      "`bench` extra and soda-core-duckdb==3.5.6 with --no-deps (its metadata asks for "
                      "duckdb<1.1.0 but it runs on duckdb 1.5.5)")
    import importlib.metadata as md

    def scan() -> int:
        s = Scan()
        s.set_data_source_name("bench")
        s.add_duckdb_connection(con, data_source_name="bench")
        s.add_sodacl_yaml_str(SODA_CHECKS)
        return s.execute()

    return scan, f"soda-core {md.version('soda-core')}, soda-core-duckdb {md.version('soda-core-duckdb')}"


def _verify(report: object, hand: tuple) -> None:
    """Our counts must equal the hand-written query's: the same failing rows per check (CHECKS order), rows, newest."""
    expected = [*hand[1:17], hand[0], hand[17], *hand[18:20]]
    got = [c.failing for c in report.checks]  # type: ignore[attr-defined]
    got[16], got[17] = report.rows, report.checks[17].observed  # type: ignore[attr-defined]
    expected[17] = expected[17].isoformat(sep=" ")
    if got != expected:
        raise RuntimeError(f"mesh.check disagrees with the hand-written query: {got} != {expected}")


def main(results: Path) -> Path:
    import os

    os.environ.setdefault("SODA_CORE_TELEMETRY_LOCAL_DEBUG_MODE", "false")
    os.environ["OTEL_SDK_DISABLED"] = "true"
    started = time.perf_counter()
    generate()
    generated = time.perf_counter() - started
    mesh = catalog.open_mesh(MESH, state_dir=DATA / "state")
    if "sales.orders" not in mesh.products or mesh.products["sales.orders"].broken:
        raise RuntimeError(f"the benchmark mesh is broken: {[str(p) for p in mesh.problems]}")
    report = mesh.checker.run("sales.orders", reuse=False)  # warm-up: views, extension, file cache
    con = _connection()
    _verify(report, con.execute(HAND_WRITTEN).fetchone())
    soda_scan, soda_note = _soda_scan(con)
    if soda_scan is not None:
        soda_note += f"; exit code {soda_scan()} (its checks fail on the seeded defects, as ours do)"
    runs: dict[str, Callable[[], object]] = {
        "ours": lambda: mesh.checker.run("sales.orders", reuse=False),
        "per_check": lambda: [con.execute(q).fetchall() for q in PER_CHECK],
        "hand": lambda: con.execute(HAND_WRITTEN).fetchall(),
        "distinct": lambda: con.execute("SELECT count(DISTINCT order_id), count(DISTINCT order_ref) FROM orders"
                                        ).fetchall(),
    }
    if soda_scan is not None:
        runs["soda"] = soda_scan
    best: dict[str, float] = {}
    for _ in range(REPEAT):  # interleaved, so load from other work hits every contender alike
        for name, fn in runs.items():
            best[name] = min(best.get(name, float("inf")), _best(fn, repeat=1))
    ours, per_check, hand, distinct_only = best["ours"], best["per_check"], best["hand"], best["distinct"]
    soda = best.get("soda")
    recheck = _best(lambda: mesh.checker.run("sales.orders", reuse=True), repeat=5)
    assert mesh.checker.run("sales.orders", reuse=True).reused
    con.close()

    gen_note = f"data generated in {generated:.1f} s" if generated > 1 else "data reused from bench/data"
    failing = {c.name: c.failing for c in report.checks if c.status == "fail"}
    proven = sum("parquet statistics" in c.message for c in report.checks)
    rows = [("Meshwork `mesh.check` (one scan, examples of failing rows)", ours),
            ("(a) one query per check, same DuckDB", per_check),
            ("(b) hand-written single aggregate query", hand),
            ("(c) Soda Core, same checks", soda)]
    table = "\n".join(f"| {name} | {'–' if t is None else f'{t:.2f}'} | "
                      f"{'–' if t is None else f'{t / ours:.2f}×'} |" for name, t in rows)
    targets = [
        ("at least 1.5× faster than Soda Core", soda is not None and soda / ours >= 1.5,
         f"{soda / ours:.2f}×" if soda else "not measured"),
        ("within 1.1× of the hand-written query", ours / hand <= 1.1, f"{ours / hand:.2f}×"),
        ("re-check of unchanged data < 5 % of a full run", recheck / ours < 0.05, f"{100 * recheck / ours:.2f} %"),
    ]
    out = results / "quality.md"
    out.write_text(f"""# Quality checks: one scan vs. one query per check vs. Soda Core

{ROWS:,} rows of parquet (`sales.orders`, {PARQUET.stat().st_size / 1e6:.0f} MB, zstd, row groups of 1M), 20 checks
(two exact uniqueness checks on high-cardinality columns: `order_id` BIGINT and `order_ref` VARCHAR), DuckDB
{duckdb.__version__}, {THREADS} threads, memory limit {MEMORY}, on {platform.machine()} with {os.cpu_count()} cores
shared with other work. Best of {REPEAT} interleaved rounds, measured in one run of `python -m bench.run quality` on
{datetime.now():%Y-%m-%d %H:%M} (load average {os.getloadavg()[0]:.1f} at the end: absolute times vary with the other
work on the machine, ratios within one run much less); {gen_note}.

| run | seconds | × ours |
|---|---|---|
{table}
| Meshwork re-check of unchanged data (same source fingerprint) | {recheck:.4f} | {recheck / ours:.4f}× |
| of which: the two exact distinct counts alone | {distinct_only:.2f} | {distinct_only / ours:.2f}× |

| target | met | measured |
|---|---|---|
""" + "\n".join(f"| {t} | {'yes' if ok else 'no'} | {m} |" for t, ok, m in targets) + f"""

Soda Core: {soda_note}.

Failing checks found (seeded): {', '.join(f'{k} ({v:,})' for k, v in failing.items())}.

How: the parquet file's own statistics (exact null counts, numeric min/max per row group) prove
{proven} of the 20 checks passing, so they leave the scan (`catalog.quality.statistics`); the other checks compile
to one `SELECT count(*) FILTER (WHERE …), …` over the product (`catalog.quality.compile.compile_checks`), so the file is read
once and columns only statistics needed are not read at all. A uniqueness check on an integer key whose exact
min and max the statistics give counts distinct values with a bitmap over that range,
`count(x) - bit_count(bitstring_agg(x, min, max))` (exact; DuckDB only: Spark, and keys without such bounds,
keep `count(x) - count(DISTINCT x)`; if the file changed under its statistics the scan is recompiled without
it), so of the two uniqueness checks only `order_ref` (VARCHAR) still hashes every value. The example-row
queries (LIMIT 5) run only for failing checks (run side by side on two cursors they took as long: 0.63 s
against 0.64 s at load 11, so they run one after the other). The benchmark checks
that our failing-row counts, row count and newest timestamp equal the hand-written query's before timing.
A re-check reads the source files' size and mtime (the fingerprint) and reuses the stored counts.

Measured and not used (DuckDB 1.5.5, CPU seconds of the scan without the uniqueness checks, on a loaded machine):
collecting example rows inside the scan, `min_by(struct_pack(…), 0, 5) FILTER (WHERE NOT cond)` per check, took
8.9 s against 5.9 s (DuckDB builds the struct for every row before the FILTER) and a CASE-guarded struct about
20 s, while the three LIMIT 5 queries take about 0.3 s each; counting `DISTINCT hash(order_ref)` first (an exact
proof when no hashes collide) saved nothing measurable (3.9 s against 4.0 s). On a loaded machine the ratios
swing from run to run: compare runs.
""", encoding="utf-8")
    mesh.close()
    return out

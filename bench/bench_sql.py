"""What governance costs on real analytical SQL: the 22 TPC-H queries at scale factor 1.

TPC-H is generated with DuckDB's `tpch` extension and split into a three-domain mesh of parquet
files (sales: customer, orders, lineitem; supply: part, supplier, partsupp; geography: nation,
region). The 22 queries then run, in one process and interleaved so both see the same machine state:
(a) through a governed session (the default-deny gate, the locked connection, views, usage events,
arrow -> polars), and (b) on a raw DuckDB connection with the same thread and memory settings over
views of the same files. Memory peaks come from one child process per side. (c) A few of the same
joins in pandas, for reference. The gate's own time per query is measured alone too. Writes
bench/results/sql.md. BENCH_TPCH_SF=0.1 runs a smaller scale (on a busy machine).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import polars as pl
import sqlglot
from sqlglot import exp

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SF = float(os.environ.get("BENCH_TPCH_SF", "1"))
ROUNDS = 3  # each query runs ROUNDS times per side (interleaved); the median round counts
DOMAINS = {"sales": ["customer", "orders", "lineitem"], "supply": ["part", "supplier", "partsupp"],
           "geography": ["nation", "region"]}
DOMAIN_OF = {table: domain for domain, tables in DOMAINS.items() for table in tables}
PII = {"customer": {"c_name": "name", "c_address": "address", "c_phone": "phone"},
       "supplier": {"s_address": "address", "s_phone": "phone"}}


def build_mesh(root: Path, sf: float = SF) -> Path:
    """TPC-H at `sf` as a mesh of parquet products (kept between runs; delete bench/data to rebuild)."""
    marker = root / f".tpch_sf{sf:g}"
    if marker.is_file():
        return root
    root.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    from catalog.engines.extensions import load_extension

    load_extension(con, "tpch")
    con.execute(f"CALL dbgen(sf={sf})")
    (root / "mesh.yaml").write_text(f"name: tpch\ntitle: TPC-H SF{sf:g}\nthreads: 2\nmemory_limit: 4GB\n")
    for domain, tables in DOMAINS.items():
        (root / domain / "products").mkdir(parents=True, exist_ok=True)
        (root / domain / "data").mkdir(parents=True, exist_ok=True)
        (root / domain / "domain.yaml").write_text(f"name: {domain}\nowner: {domain}-team@tpch.example\n")
        for table in tables:
            path = root / domain / "data" / f"{table}.parquet"
            con.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
            columns = con.execute(f"DESCRIBE {table}").fetchall()
            lines = [f"name: {table}", f"title: TPC-H {table}", f"description: The TPC-H {table} table.",
                     f"owner: {domain}-team@tpch.example", f"source: {{kind: parquet, path: data/{table}.parquet}}",
                     "columns:"]
            for name, dtype, *_ in columns:
                pii = PII.get(table, {}).get(name)
                lines.append(f"  - {{name: {name}, type: {dtype.split('(')[0]}" + (f", pii: {pii}" if pii else "") + "}")
            (root / domain / "products" / f"{table}.yaml").write_text("\n".join(lines) + "\n")
    marker.write_text("ok\n")
    con.close()
    return root


def queries() -> list[str]:
    con = duckdb.connect()
    from catalog.engines.extensions import load_extension

    load_extension(con, "tpch")
    return [q for (q,) in con.execute("SELECT query FROM tpch_queries() ORDER BY query_nr").fetchall()]


def on_products(sql: str) -> str:
    """The same query naming products (`sales.lineitem`) instead of bare tables."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.db and node.name in DOMAIN_OF and node.name not in ctes:
            node.set("db", exp.to_identifier(DOMAIN_OF[node.name]))
        return node

    return tree.transform(swap).sql("duckdb")


def raw_connection(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": 2, "memory_limit": "4GB"})
    for table, domain in DOMAIN_OF.items():
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{root / domain / 'data' / table}.parquet')")
    return con


def _raw(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    frame = pl.from_arrow(con.execute(sql).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def same_answer(governed: pl.DataFrame, raw: pl.DataFrame) -> bool:
    """The same rows in the same order; numbers equal to 1e-9 relative (the views may carry DECIMALs at
    another scale than the raw files)."""
    if governed.shape != raw.shape:
        return False
    for left, right in zip(governed.rows(), raw.rows()):
        for a, b in zip(left, right):
            if isinstance(a, (int, float, Decimal)) and isinstance(b, (int, float, Decimal)):
                if abs(float(a) - float(b)) > 1e-9 * max(1.0, abs(float(b))):
                    return False
            elif a != b:
                return False
    return True


def gate_times(mesh, texts: list[str], rounds: int) -> tuple[list[float], list[float]]:
    """Milliseconds the gate alone (catalog.query.gate.vet) takes per query, `rounds` times each: wall-clock,
    and the CPU time of this thread (what the gate costs, less the waiting for a core on a busy machine)."""
    from catalog.query import gate as sandbox

    visible = set(mesh.products)
    wall, cpu = [], []
    for _ in range(rounds):
        for text in texts:
            started, used = time.perf_counter(), time.thread_time()
            sandbox.vet(text, visible, deadline=time.monotonic() + 30)
            cpu.append((time.thread_time() - used) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
    return wall, cpu


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def compare(root: Path, rounds: int = ROUNDS) -> tuple[list[dict], tuple[list[float], list[float]]]:
    import catalog

    mesh = catalog.open_mesh(root, state_dir=DATA / "tpch_state")
    session = mesh.session("steward", "bench@tpch.example", timeout_s=600)
    analyst = mesh.session("analyst", "bench@tpch.example", timeout_s=600)
    con = raw_connection(root)
    rows = []
    texts = [on_products(sql) for sql in queries()]
    for n, sql in enumerate(queries(), start=1):
        governed_sql = texts[n - 1]
        first, reference = session.sql(governed_sql), _raw(con, sql)  # warm both: views, metadata, OS cache
        governed, raw = [], []
        for r in range(rounds):
            for side in (("g", "r") if r % 2 == 0 else ("r", "g")):
                started = time.perf_counter()
                out = session.sql(governed_sql) if side == "g" else _raw(con, sql)
                (governed if side == "g" else raw).append(time.perf_counter() - started)
        assert out.height >= 0
        analyst.sql(governed_sql)  # warm the analyst's (masked) views
        started = time.perf_counter()
        analyst.sql(governed_sql)
        rows.append({"query": f"Q{n:02d}", "governed_ms": sorted(governed)[len(governed) // 2] * 1000,
                     "raw_ms": sorted(raw)[len(raw) // 2] * 1000, "rows": out.height,
                     "analyst_ms": (time.perf_counter() - started) * 1000,
                     "same": same_answer(first, reference)})
    gate, gate_cpu = gate_times(mesh, texts, rounds=10)
    for i, row in enumerate(rows):
        row["gate_ms"] = _percentile(gate[i::len(texts)], 0.5)
        row["gate_cpu_ms"] = _percentile(gate_cpu[i::len(texts)], 0.5)
    mesh.close()
    return rows, (gate, gate_cpu)


_CHILD = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {repo!r})
    from bench.bench_sql import queries, on_products, raw_connection, _raw
    from pathlib import Path
    root = Path({root!r})
    started = time.perf_counter()
    if {side!r} == "governed":
        import catalog
        mesh = catalog.open_mesh(root, state_dir=Path({state!r}))
        session = mesh.session("steward", "bench@tpch.example", timeout_s=600)
        for q in queries():
            session.sql(on_products(q))
    else:
        con = raw_connection(root)
        for q in queries():
            _raw(con, q)
    # VmHWM is this process's own peak; ru_maxrss would carry the parent's peak over fork and exec
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    print(json.dumps({{"seconds": time.perf_counter() - started, "peak_mb": int(hwm.split()[1]) / 1024}}))
""")


def memory_peak(root: Path, side: str) -> dict:
    code = _CHILD.format(repo=str(REPO), root=str(root), side=side, state=str(DATA / "tpch_state_mem"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def pandas_reference(root: Path) -> list[dict]:
    """Q1, Q3, Q5 and Q6 written in pandas over the same parquet files (load time not counted)."""
    import pandas as pd

    def load(table: str, columns: list[str]) -> pd.DataFrame:
        frame = pd.read_parquet(root / DOMAIN_OF[table] / "data" / f"{table}.parquet", columns=columns)
        for column in frame.columns:  # TPC-H money is DECIMAL: pandas would hold Python Decimal objects
            if frame[column].dtype == object and isinstance(frame[column].iloc[0], Decimal):
                frame[column] = frame[column].astype("float64")
        return frame

    li = load("lineitem", ["l_orderkey", "l_suppkey", "l_quantity", "l_extendedprice", "l_discount", "l_tax",
                           "l_returnflag", "l_linestatus", "l_shipdate"])
    orders = load("orders", ["o_orderkey", "o_custkey", "o_orderdate", "o_shippriority"])
    customer = load("customer", ["c_custkey", "c_mktsegment", "c_nationkey"])
    supplier = load("supplier", ["s_suppkey", "s_nationkey"])
    nation = load("nation", ["n_nationkey", "n_name", "n_regionkey"])
    region = load("region", ["r_regionkey", "r_name"])
    for frame, column in ((li, "l_shipdate"), (orders, "o_orderdate")):
        frame[column] = pd.to_datetime(frame[column])
    out = []

    def timed(name: str, fn) -> None:
        started = time.perf_counter()
        result = fn()
        out.append({"query": name, "pandas_ms": (time.perf_counter() - started) * 1000, "rows": len(result)})

    def q1():
        f = li[li.l_shipdate <= pd.Timestamp("1998-09-02")].copy()
        f["disc_price"] = f.l_extendedprice * (1 - f.l_discount)
        f["charge"] = f.disc_price * (1 + f.l_tax)
        return f.groupby(["l_returnflag", "l_linestatus"]).agg(
            sum_qty=("l_quantity", "sum"), sum_base_price=("l_extendedprice", "sum"),
            sum_disc_price=("disc_price", "sum"), sum_charge=("charge", "sum"), avg_qty=("l_quantity", "mean"),
            avg_price=("l_extendedprice", "mean"), avg_disc=("l_discount", "mean"),
            count_order=("l_quantity", "size")).reset_index()

    def q3():
        c = customer[customer.c_mktsegment == "BUILDING"]
        o = orders[orders.o_orderdate < pd.Timestamp("1995-03-15")]
        lf = li[li.l_shipdate > pd.Timestamp("1995-03-15")]
        j = c.merge(o, left_on="c_custkey", right_on="o_custkey").merge(lf, left_on="o_orderkey",
                                                                         right_on="l_orderkey")
        j["revenue"] = j.l_extendedprice * (1 - j.l_discount)
        g = j.groupby(["l_orderkey", "o_orderdate", "o_shippriority"], as_index=False).revenue.sum()
        return g.sort_values(["revenue", "o_orderdate"], ascending=[False, True]).head(10)

    def q5():
        r = region[region.r_name == "ASIA"].merge(nation, left_on="r_regionkey", right_on="n_regionkey")
        o = orders[(orders.o_orderdate >= pd.Timestamp("1994-01-01")) & (orders.o_orderdate < pd.Timestamp("1995-01-01"))]
        j = (customer.merge(r, left_on="c_nationkey", right_on="n_nationkey")
             .merge(o, left_on="c_custkey", right_on="o_custkey")
             .merge(li, left_on="o_orderkey", right_on="l_orderkey")
             .merge(supplier, left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "s_nationkey"]))
        j["revenue"] = j.l_extendedprice * (1 - j.l_discount)
        return j.groupby("n_name", as_index=False).revenue.sum().sort_values("revenue", ascending=False)

    def q6():
        f = li[(li.l_shipdate >= pd.Timestamp("1994-01-01")) & (li.l_shipdate < pd.Timestamp("1995-01-01"))
               & li.l_discount.between(0.05, 0.07) & (li.l_quantity < 24)]
        return pd.DataFrame({"revenue": [(f.l_extendedprice * f.l_discount).sum()]})

    for name, fn in (("Q01", q1), ("Q03", q3), ("Q05", q5), ("Q06", q6)):
        timed(name, fn)
    return out


def main(results: Path) -> Path:
    root = build_mesh(DATA / f"tpch_sf{SF:g}")
    load = os.getloadavg()[0]
    rows, (gate, gate_cpu) = compare(root)
    same = sum(r["same"] for r in rows)
    governed = sum(r["governed_ms"] for r in rows)
    raw = sum(r["raw_ms"] for r in rows)
    overhead = (governed / raw - 1) * 100
    peaks = {side: memory_peak(root, side) for side in ("raw", "governed")}
    reference = {r["query"]: r for r in pandas_reference(root)}
    lines = [
        f"# Governed SQL: TPC-H SF{SF:g}, 22 queries",
        "",
        f"Generated by `bench/bench_sql.py` (`make bench` or `python -m bench.run sql`) on "
        f"{time.strftime('%Y-%m-%d')}. Three-domain mesh of parquet products; each query runs {ROUNDS} times per "
        "side, interleaved, after one warm-up; the median counts. The governed side runs as `steward` (the raw "
        "side has no masking to compare with); its time includes the default-deny gate, "
        "usage events and the polars result. "
        f"Load average when it started: {load:.1f} on {os.cpu_count()} cores (a shared machine makes single "
        "queries noisy; the total is what the target is about).",
        "",
        f"**Total: governed {governed / 1000:.2f} s, raw DuckDB {raw / 1000:.2f} s: overhead {overhead:+.1f} %** "
        f"(target: under 5 %); **{same} of {len(rows)} answers equal** to raw DuckDB's. "
        f"**The gate alone** (`catalog.query.gate.vet`: length and token caps, sqlglot parse, scope resolution, "
        f"allow-lists, sizes, rendering, DuckDB's parser on the rendered SQL), 10 runs of each query: "
        f"**p50 {_percentile(gate, 0.5):.2f} ms, p95 {_percentile(gate, 0.95):.2f} ms** wall-clock (max "
        f"{max(gate):.2f} ms); CPU time of the gate's thread p50 {_percentile(gate_cpu, 0.5):.2f} ms, p95 "
        f"{_percentile(gate_cpu, 0.95):.2f} ms (target: p95 under 5 ms). As `analyst`, with customers' and suppliers' names, addresses and phones masked "
        f"in the views (one run per query): {sum(r['analyst_ms'] for r in rows) / 1000:.2f} s "
        f"({(sum(r['analyst_ms'] for r in rows) / raw - 1) * 100:+.1f} % over raw; Q22 then filters masked phones).",
        "",
        "| side | peak memory (RSS, one process running the 22 queries once) | wall time |",
        "|---|---:|---:|",
        *[f"| {side} | {p['peak_mb']:,.1f} MB | {p['seconds']:.2f} s |" for side, p in peaks.items()],
        "",
        "| query | governed ms | raw ms | overhead | gate ms (median) | gate CPU ms | rows | same answer | pandas ms (reference) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        ref = reference.get(r["query"])
        pandas_ms = f"{ref['pandas_ms']:,.1f}" if ref else ""
        lines.append(f"| {r['query']} | {r['governed_ms']:,.1f} | {r['raw_ms']:,.1f} | "
                     f"{(r['governed_ms'] / r['raw_ms'] - 1) * 100:+.1f} % | {r['gate_ms']:.2f} | {r['gate_cpu_ms']:.2f} | {r['rows']:,} | "
                     f"{'yes' if r['same'] else 'NO'} | {pandas_ms} |")
    lines += ["", "pandas reference: Q1, Q3, Q5 and Q6 written by hand with `merge`/`groupby` over the same parquet "
              "files already in memory as float64 (reading and converting them is not counted), single-threaded as pandas "
              "is.", ""]
    out = results / "sql.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    return out

"""A small mesh whose data has known defects, one per check kind, with exact failing counts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb

from minimesh import write

# order_id, customer_id, email, status, amount, code, created_at
ORDERS = [
    ("O1", "C1", "ana@shop.example", "paid", 10.0, "ABC", "2020-01-01 10:00:00"),
    ("O2", "C2", None, "paid", 20.0, "ABD", "2020-01-02 10:00:00"),
    ("O3", "C3", "cy@shop.example", "new", 30.0, "ab1", "2020-01-03 10:00:00"),
    ("O3", "C3", "cy@shop.example", "new", 30.0, "ABE", "2020-01-03 10:00:00"),
    ("O5", "C9", "dee@shop.example", "lost", -5.0, None, "2020-01-04 10:00:00"),
    ("O6", "C8", None, "shipped", 2000.0, "ABF", "2020-01-05 10:00:00"),
    ("O7", "C1", "ana@shop.example", "lost", 70.0, "ABG", "2020-01-06 10:00:00"),
    ("O8", None, "x@shop.example", "paid", 80.0, "ABH", "2020-01-07 10:00:00"),
]
"""8 rows. Known defects: email NULL ×2; order_id O3 twice (1 duplicate row); (customer_id, status) (C3, new)
twice (1 duplicate); status 'lost' ×2 not accepted; amount out of [0, 1000] ×2 (-5, 2000); code not
^[A-Z]{3}$ ×1 ('ab1'; NULL is not counted); 8 rows < min 10; newest created_at in 2020 (stale);
customer_id C9, C8 not in crm.customers ×2 (NULL not counted); expression amount < 1000 false ×1."""

CHECKS = """
quality:
  - {check: not_null, column: email}
  - {check: unique, column: order_id}
  - {check: unique, columns: [customer_id, status], severity: warning}
  - {check: accepted_values, column: status, values: [new, paid, shipped], severity: warning}
  - {check: range, column: amount, min: 0, max: 1000}
  - {check: regex, column: code, pattern: '^[A-Z]{3}$', severity: info}
  - {check: row_count, min: 10}
  - {check: freshness, column: created_at, max_age_hours: 24}
  - {check: references, column: customer_id, product: crm.customers}
  - {check: expression, expression: amount < 1000, name: amount below 1000}
  - {check: not_null, column: shoe_size, severity: warning}
  - {check: expression, expression: 'amount >>> (', name: broken expression}
"""

EXPECTED = {  # check label -> (status, failing rows)
    "email not null": ("fail", 2),
    "order_id unique": ("fail", 1),
    "customer_id, status unique": ("fail", 1),
    "status in accepted values": ("fail", 2),
    "amount in range": ("fail", 2),
    "code matches pattern": ("fail", 1),
    "row count": ("fail", 1),
    "freshness": ("fail", 1),
    "customer_id references crm.customers": ("fail", 2),
    "amount below 1000": ("fail", 1),
    "shoe_size not null": ("error", None),
    "broken expression": ("error", None),
}


def _sql_value(v):
    if v is None:
        return "NULL"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


def build_quality_mesh(root: Path, checks: str = CHECKS) -> Path:
    write(root / "mesh.yaml", "name: shopmesh\ntitle: Shop mesh\n")
    write(root / "shop/domain.yaml", "name: shop\nowner: shop-team@shop.example\n")
    write(root / "crm/domain.yaml", "name: crm\nowner: crm-team@shop.example\n")
    (root / "shop/data").mkdir(parents=True)
    values = ", ".join("(" + ", ".join(_sql_value(v) for v in row) + ")" for row in ORDERS)
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT order_id, customer_id, email, status, amount, code,
        CAST(created_at AS TIMESTAMP) AS created_at FROM (VALUES {values})
        t(order_id, customer_id, email, status, amount, code, created_at))
        TO '{root}/shop/data/orders.parquet' (FORMAT parquet)""")
    con.close()
    write(root / "crm/data/customers.csv", "customer_id,name\nC1,Ana\nC2,Bo\nC3,Cy\nC4,Di\n")
    write(root / "shop/products/orders.yaml", textwrap.dedent("""
        name: orders
        title: Shop orders
        description: Every order placed in the web shop.
        owner: olga@shop.example
        version: 2.1.0
        source: {kind: parquet, path: data/orders.parquet}
        columns:
          - {name: order_id, type: VARCHAR, description: Order key}
          - {name: customer_id, type: VARCHAR, pii: identifier, description: Customer}
          - {name: email, type: VARCHAR, pii: email, description: Contact e-mail}
          - {name: status, type: VARCHAR, description: Order status}
          - {name: amount, type: DOUBLE}
          - {name: code, type: VARCHAR}
          - {name: created_at, type: TIMESTAMP, description: When the order was placed}
    """).lstrip() + checks.lstrip("\n"))
    write(root / "crm/products/customers.yaml", """
        name: customers
        description: Customers of the shop.
        owner: carl@shop.example
        source: {kind: csv, path: data/customers.csv}
        columns:
          - {name: customer_id, type: VARCHAR, description: Customer key}
          - {name: name, type: VARCHAR, pii: name, description: Name}
        quality:
          - {check: unique, column: customer_id}
          - {check: not_null, column: name, severity: warning}
    """)
    write(root / "crm/products/ledger.yaml", """
        name: ledger
        description: A ledger in a database that is not reachable.
        owner: carl@shop.example
        source: {kind: postgres, dsn: "postgresql://nobody@127.0.0.1:1/nowhere?connect_timeout=2", table: ledger}
        columns:
          - {name: entry_id, type: VARCHAR, description: Entry}
        quality:
          - {check: not_null, column: entry_id}
          - {check: row_count, min: 1}
    """)
    return root

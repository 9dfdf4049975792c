"""Builds a small mesh in a folder: every file source kind, a derived product, PII."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import duckdb


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def build_minimesh(root: Path) -> Path:
    write(root / "mesh.yaml", """
        name: mini
        title: Mini mesh
        roles:
          risk_officer: {description: sees restricted risk data, pii: false}
    """)
    write(root / "retail/domain.yaml", "name: retail\nowner: retail-team@bank.example\n")
    write(root / "risk/domain.yaml", "name: risk\nowner: risk-team@bank.example\n")
    data = root / "retail/data"
    data.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"""COPY (SELECT * FROM (VALUES
        ('C1', 'Ana Silva', 'ana@bank.example', '123-45-6789', 34),
        ('C2', 'Bo Chen', 'bo@mail.example', '987-65-4321', 51),
        ('C3', 'Cy Diaz', NULL, '555-12-3456', 29)) t(customer_id, full_name, email, ssn, age))
        TO '{data}/customers.parquet' (FORMAT parquet)""")
    write(data / "branches.csv", "branch_id,city\nB1,Lisbon\nB2,Porto\n")
    risk = root / "risk/data"
    risk.mkdir(parents=True)
    lite = sqlite3.connect(risk / "scores.sqlite")
    lite.execute("CREATE TABLE scores (customer_id TEXT, score INTEGER)")
    lite.executemany("INSERT INTO scores VALUES (?, ?)", [("C1", 700), ("C2", 640), ("C3", 580)])
    lite.commit()
    lite.close()
    ddb = duckdb.connect(str(risk / "limits.duckdb"))
    ddb.execute("CREATE TABLE limits AS SELECT * FROM (VALUES ('C1', 5000), ('C2', 2000)) t(customer_id, credit_limit)")
    ddb.close()
    write(root / "retail/products/customers.yaml", """
        name: customers
        title: Retail customers
        description: Every retail customer with contact details.
        owner: ana.silva@bank.example
        tags: [customer, retail]
        source: {kind: parquet, path: data/customers.parquet}
        columns:
          - {name: customer_id, type: VARCHAR, pii: identifier, key: true, description: Customer key}
          - {name: full_name, type: VARCHAR, pii: name, description: Full name}
          - {name: email, type: VARCHAR, pii: email, description: Email}
          - {name: ssn, type: VARCHAR, pii: ssn, description: Social security number}
          - {name: age, type: INTEGER, description: Age in years}
        quality:
          - {check: not_null, column: email}
    """)
    write(root / "retail/products/branches.yaml", """
        name: branches
        description: Bank branches.
        owner: ana.silva@bank.example
        source: {kind: csv, path: data/branches.csv}
        columns:
          - {name: branch_id, type: VARCHAR}
          - {name: city, type: VARCHAR}
    """)
    write(root / "risk/products/scores.yaml", """
        name: scores
        description: Credit scores per customer.
        owner: rui.costa@bank.example
        source: {kind: sqlite, path: data/scores.sqlite, table: scores}
        columns:
          - {name: customer_id, type: VARCHAR, pii: identifier, key: true}
          - {name: score, type: INTEGER}
    """)
    write(root / "risk/products/limits.yaml", """
        name: limits
        description: Credit limits (restricted).
        owner: rui.costa@bank.example
        access: {restricted: true, roles: [steward, risk_officer]}
        source: {kind: duckdb, path: data/limits.duckdb, table: limits}
        columns:
          - {name: customer_id, type: VARCHAR, pii: identifier, key: true}
          - {name: credit_limit, type: INTEGER}
    """)
    write(root / "risk/products/customer_risk.yaml", """
        name: customer_risk
        description: Customers with their credit score.
        owner: rui.costa@bank.example
        source:
          kind: sql
          sql: |
            SELECT c.customer_id, c.full_name, c.age, s.score
            FROM retail.customers c JOIN risk.scores s USING (customer_id)
        columns:
          - {name: customer_id, type: VARCHAR, pii: identifier, key: true}
          - {name: full_name, type: VARCHAR, pii: name}
          - {name: age, type: INTEGER}
          - {name: score, type: INTEGER}
    """)
    return root


MINI_STEWARD = "sam.steward@bank.example"


def build_steward_minimesh(root, monkeypatch):
    """The mini mesh with a steward named in mesh.yaml, acting as the local user (who may write what:
    tests/access/test_authority.py)."""
    root = build_minimesh(root)
    with open(root / "mesh.yaml", "a") as handle:
        handle.write(f"users:\n  {MINI_STEWARD}: {{roles: [steward]}}\n")
    monkeypatch.setenv("MESHWORK_USER", MINI_STEWARD)
    return root


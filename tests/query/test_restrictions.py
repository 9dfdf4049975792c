"""Restrictions follow the data through the engine: a new product over a restricted product's source (the same
file, a glob over its folder, a symlink, another relative path, the same database table, a derived product
over it) is restricted for the analyst, who can read none of its rows."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

import catalog
from catalog.errors import QueryRejected
from minimesh import build_minimesh, write

SECRET_ROWS = 2


@pytest.fixture
def mesh_with_copies(tmp_path: Path) -> catalog.Mesh:
    root = build_minimesh(tmp_path / "mini")
    data = root / "risk/data"
    duckdb.connect().execute(f"COPY (SELECT * FROM (VALUES ('C1', 'watch'), ('C2', 'fraud')) t(customer_id, flag)) "
                             f"TO '{data}/flags.parquet'")
    os.symlink(data / "flags.parquet", data / "innocent.parquet")
    write(root / "risk/products/flags.yaml", """
        name: flags
        description: Fraud flags (restricted).
        owner: rui.costa@bank.example
        access: {restricted: true, roles: [steward, risk_officer]}
        source: {kind: parquet, path: data/flags.parquet}
        columns:
          - {name: customer_id, type: VARCHAR}
          - {name: flag, type: VARCHAR}
    """)
    copies = {
        "same_path": "{kind: parquet, path: data/flags.parquet}",
        "globbed": "{kind: parquet, path: 'data/*.parquet'}",
        "symlink": "{kind: parquet, path: data/innocent.parquet}",
        "dotted": "{kind: parquet, path: ../risk/data/./flags.parquet}",
        "limits_again": "{kind: duckdb, path: data/limits.duckdb, table: limits}",
    }
    for name, source in copies.items():
        domain = "retail" if name == "dotted" else "risk"
        write(root / f"{domain}/products/{name}.yaml", f"""
            name: {name}
            description: Looks harmless.
            owner: rui.costa@bank.example
            source: {source}
            columns:
              - {{name: customer_id, type: VARCHAR}}
              - {{name: flag, type: VARCHAR}}
              - {{name: credit_limit, type: INTEGER}}
        """)
    write(root / "retail/products/flag_counts.yaml", """
        name: flag_counts
        description: An aggregate over the flags.
        owner: ana.silva@bank.example
        source: {kind: sql, sql: "SELECT flag, count(*) AS n FROM risk.flags GROUP BY flag"}
        columns:
          - {name: flag, type: VARCHAR}
          - {name: n, type: BIGINT}
    """)
    return catalog.open_mesh(root)


COPIES = ["risk.same_path", "risk.globbed", "risk.symlink", "retail.dotted", "risk.limits_again", "retail.flag_counts"]


@pytest.mark.parametrize("product", COPIES)
def test_a_product_over_a_restricted_source_is_restricted_too(mesh_with_copies, product):
    mesh = mesh_with_copies
    assert not mesh.products[product].broken, mesh.problem_summary(product)
    analyst = mesh.session("analyst")
    assert product not in analyst.visible_products()
    with pytest.raises(QueryRejected):
        analyst.sql(f"SELECT * FROM {product}")
    with pytest.raises(QueryRejected):
        analyst.sql(f"SELECT count(*) FROM (SELECT * FROM {product}) t")
    # the roles the restriction names still read it
    assert mesh.session("risk_officer").sql(f"SELECT count(*) AS n FROM {product}")["n"][0] >= 1


def test_open_products_stay_open(mesh_with_copies):
    analyst = mesh_with_copies.session("analyst")
    assert {"retail.customers", "retail.branches", "risk.scores", "risk.customer_risk"} <= set(
        analyst.visible_products())
    assert analyst.sql("SELECT count(*) AS n FROM retail.customers")["n"][0] == 3

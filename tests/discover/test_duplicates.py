"""Possible duplicates: the seeded cross-domain copy of every sample mesh is found, nothing unrelated is."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

import catalog
from catalog.discover.duplicates import type_family
from catalog.samples.build import defects
from minimesh import write

SEEDED = {
    "banking": ("marketing.customer_contacts", "retail.customers"),
    "life_sciences": ("research.partner_lab_results", "lab.results"),
    "supply_chain": ("logistics.supplier_contacts", "procurement.suppliers"),
}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_the_seeded_duplicate_is_found_and_nothing_else(sample_copy, name):
    copy, original = SEEDED[name]
    seeded = [(pid, d.copy_of) for pid, ds in defects(name).items() for d in ds if d.kind == "duplicate_product"]
    assert seeded == [(copy, original)]
    mesh = catalog.open_mesh(sample_copy(name))
    report = mesh.duplicates()
    assert report.height == 1, report
    row = report.row(0, named=True)
    assert {row["product_id"], row["duplicate_id"]} == {copy, original}
    assert row["score"] >= 0.8 and row["key_overlap"] >= 0.9 and row["domain"] != row["duplicate_domain"]
    for_copy = mesh.duplicates(copy)
    assert for_copy["product_id"].to_list() == [copy] and for_copy["duplicate_id"].to_list() == [original]
    unrelated = next(pid for pid in mesh.products if pid not in (copy, original))
    assert mesh.duplicates(unrelated).is_empty()


def _copy_of_customers(root: Path, name: str, domain: str, keys: list[str]) -> None:
    con = duckdb.connect()
    rows = ", ".join(f"('{k}', 'N {k}', '{k}@x.example', '000', {30 + i})" for i, k in enumerate(keys))
    data = root / domain / "data"
    data.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY (SELECT * FROM (VALUES {rows}) t(customer_id, full_name, email, ssn, age)) "
                f"TO '{data}/{name}.parquet' (FORMAT parquet)")
    write(root / domain / "domain.yaml", f"name: {domain}\nowner: team@x.example\n")
    write(root / domain / "products" / f"{name}.yaml", f"""
        name: {name}
        owner: someone@x.example
        source: {{kind: parquet, path: data/{name}.parquet}}
        columns:
          - {{name: customer_id, type: TEXT, key: true}}
          - {{name: full_name, type: VARCHAR}}
          - {{name: email, type: VARCHAR}}
          - {{name: ssn, type: VARCHAR}}
          - {{name: age, type: BIGINT}}
    """)


def test_same_columns_with_other_keys_is_not_a_duplicate(minimesh):
    _copy_of_customers(minimesh, "prospects", "sales", ["P1", "P2", "P3"])
    mesh = catalog.open_mesh(minimesh)
    assert mesh.duplicates("sales.prospects").is_empty()
    scored = mesh.duplicates("sales.prospects", min_score=0).row(by_predicate=pl.col("duplicate_id")
                                                                 == "retail.customers", named=True)
    assert scored["key_overlap"] == 0.0 and scored["column_similarity"] == 1.0


def test_same_columns_and_same_keys_in_another_domain_is_a_duplicate(minimesh):
    _copy_of_customers(minimesh, "crm_customers", "sales", ["C1", "C2", "C3"])
    mesh = catalog.open_mesh(minimesh)
    report = mesh.duplicates("sales.crm_customers")
    assert report["duplicate_id"][0] == "retail.customers"  # best first (customer_risk is built from it)
    assert report["score"][0] == 1.0 and "customer_id" in report["reason"][0]


def test_a_derived_product_is_lineage_not_a_copy(minimesh):
    mesh = catalog.open_mesh(minimesh)
    assert mesh.duplicates("risk.customer_risk", min_score=0).is_empty()


def test_widened_types_count_as_the_same_column():
    assert type_family("VARCHAR(20)") == type_family("TEXT") == "text"
    assert type_family("INTEGER") == type_family("BIGINT") == "integer"
    assert type_family("TIMESTAMP WITH TIME ZONE") == "time"


def test_unknown_product_is_a_clear_error(minimesh):
    with pytest.raises(catalog.UnknownProduct):
        catalog.open_mesh(minimesh).duplicates("retail.nope")

"""ODCS v3 data contracts: export validates against the package's JSON schema; import publishes; round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import catalog
from catalog.interop import odcs as contracts
from catalog.errors import PublishError
from minimesh import MINI_STEWARD, build_steward_minimesh

STEWARD = MINI_STEWARD


@pytest.fixture
def minimesh(tmp_path, monkeypatch):
    """The mini mesh with a steward, who imports here."""
    return build_steward_minimesh(tmp_path / "mini", monkeypatch)

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.mark.parametrize("sample", ["banking", "life_sciences", "supply_chain"])
def test_every_sample_product_exports_a_valid_contract_and_round_trips_losslessly(sample):
    mesh = catalog.open_mesh(SAMPLES / sample)
    for product_id, product in mesh.products.items():
        text = contracts.export_contract(mesh, product_id)
        data = yaml.safe_load(text)
        assert contracts.validate_contract(data) == [], product_id
        assert data["apiVersion"] == contracts.API_VERSION and data["kind"] == "DataContract"
        [item] = contracts.from_contract(contracts.read_contract(text))
        assert item.domain == product.domain and item.notes == [] and item.dropped == []
        assert item.descriptor.model_copy(update={"odcs": {}}).model_dump() == product.descriptor.model_dump(), \
            product_id


def test_export_uses_standard_fields_other_tools_read(minimesh):
    mesh = catalog.open_mesh(minimesh)
    data = yaml.safe_load(contracts.export_contract(mesh, "retail.customers"))
    assert data["id"] == "retail-customers" and data["domain"] == "retail"
    assert data["team"][0] == {"username": "ana.silva@bank.example", "role": "owner"}
    schema = data["schema"][0]
    email = next(p for p in schema["properties"] if p["name"] == "email")
    assert email["classification"] == "pii" and email["logicalType"] == "string"
    assert email["required"] is True  # not_null in the standard's own word
    customer_id = next(p for p in schema["properties"] if p["name"] == "customer_id")
    assert customer_id["primaryKey"] is True
    assert data["servers"][0] == {"server": "source", "type": "local", "format": "parquet",
                                  "path": "retail/data/customers.parquet"}  # relative to the mesh folder
    limits = yaml.safe_load(contracts.export_contract(mesh, "risk.limits"))
    assert [r["role"] for r in limits["roles"]] == ["steward", "risk_officer"]


def test_schema_validation_reports_where_a_document_is_wrong():
    assert contracts.validate_contract({"apiVersion": "v9"}) == [
        "$.apiVersion: 'v9' is not an ODCS version Meshwork reads (one of v3.0.0, v3.0.1, v3.0.2, v3.1.0, v3.2.0)"]
    errors = contracts.validate_contract({"apiVersion": "v3.1.0", "kind": "Contract", "id": "a", "version": "1",
                                          "status": "active",
                                          "schema": [{"name": "t", "properties": [{"name": "c", "logicalType": "x"}]}]})
    assert any(e.startswith("$.kind:") for e in errors)
    assert any(e.startswith("$.schema[0].properties[0]") for e in errors), errors
    with pytest.raises(PublishError, match=r"c.yaml:2: not a valid ODCS v3 document \(by the schema of its apiVersion v3.1.0\): \$.kind: 'Contract'"):
        contracts.read_contract("apiVersion: v3.1.0\nkind: Contract\nid: x\nversion: 1.0.0\nstatus: active\n",
                                "c.yaml")
    with pytest.raises(PublishError, match="invalid YAML"):
        contracts.read_contract("apiVersion: [")


FOREIGN = """
apiVersion: v3.0.2
kind: DataContract
id: sales-orders
name: orders
version: 2.1.0
status: active
domain: sales
description: {purpose: Orders placed in the web shop}
team:
  - {username: lea@shop.example, role: owner}
servers:
  - {server: local, type: local, format: csv, path: data/orders.csv}
slaProperties:
  - {property: latency, value: 2, unit: d, element: orders.placed_at}
schema:
  - name: orders
    physicalType: table
    quality:
      - {type: library, metric: rowCount, mustBeGreaterThan: 0}
      - {type: sql, query: "SELECT COUNT(*) FROM orders WHERE total < 0", mustBe: 0}
    properties:
      - {name: order_id, logicalType: string, primaryKey: true,
         quality: [{type: library, metric: duplicateValues, mustBe: 0}]}
      - {name: buyer_email, logicalType: string, classification: pii}
      - {name: total, logicalType: number, quality: [{metric: nullValues, mustBe: 0}]}
      - {name: placed_at, logicalType: timestamp}
      - {name: state, logicalType: string,
         quality: [{metric: invalidValues, arguments: {validValues: [new, paid]}, mustBe: 0}]}
"""


def test_a_foreign_contract_is_imported_as_a_product_and_queried(minimesh):
    (minimesh / "sales/data").mkdir(parents=True)
    (minimesh / "sales/data/orders.csv").write_text(
        "order_id,buyer_email,total,placed_at,state\nO1,a@shop.example,10.5,2026-11-01 10:00:00,new\n"
        "O2,b@shop.example,3,2026-11-02 10:00:00,paid\n")
    mesh = catalog.open_mesh(minimesh)
    result, notes = contracts.import_contract(mesh, FOREIGN, where="orders.odcs.yaml")
    assert result.product_id == "sales.orders" and result.version == "2.1.0" and result.created_domain
    assert not any("no Meshwork equivalent" in n for n in notes)  # the SQL rule is an expression check
    mesh = catalog.open_mesh(minimesh)
    product = mesh.products["sales.orders"]
    assert product.owner == "lea@shop.example" and not product.broken
    assert product.column("buyer_email").pii and product.column("order_id").key
    assert product.descriptor.sla.freshness_hours == 48 and product.descriptor.sla.timestamp_column == "placed_at"
    kinds = sorted(q.check for q in product.descriptor.quality)
    assert kinds == ["accepted_values", "expression", "not_null", "row_count", "unique"]
    assert next(q for q in product.descriptor.quality if q.check == "expression").expression == "NOT (total < 0)"
    out = mesh.session(role="analyst").sql("SELECT buyer_email, total FROM sales.orders ORDER BY order_id")
    assert out["buyer_email"][0] == "*** (hidden)" and out["total"].to_list() == [10.5, 3.0]


def test_import_refuses_overwrite_and_missing_sources_and_writes_nothing(minimesh):
    mesh = catalog.open_mesh(minimesh)
    text = contracts.export_contract(mesh, "retail.customers")
    before = sorted(p for p in minimesh.rglob("*") if ".meshwork" not in p.parts)
    with pytest.raises(PublishError, match="already exists"):
        contracts.import_contract(mesh, text)
    with pytest.raises(PublishError, match="source file 'data/customers.parquet' not found"):
        contracts.import_contract(mesh, text, domain="marketing")
    no_server = yaml.safe_load(FOREIGN)
    no_server.pop("servers")
    with pytest.raises(PublishError, match="no server Meshwork can read"):
        contracts.import_contract(mesh, yaml.safe_dump(no_server))
    assert sorted(p for p in minimesh.rglob("*") if ".meshwork" not in p.parts) == before
    result, _ = contracts.import_contract(mesh, text, version="1.1.0")
    assert catalog.open_mesh(minimesh).products["retail.customers"].descriptor.version == "1.1.0"
    assert result.data_path is None

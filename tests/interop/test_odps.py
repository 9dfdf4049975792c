"""ODPS v1.1.0 out and in: every sample product's document validates against the vendored bitol-io schema, a
document read back gives the same descriptor (ports, owner, SLA, terms, contract references), publishing it
recreates the product, and a bad document is refused naming the field, with nothing written."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import catalog
from catalog.cli import app as cli
from catalog.interop import odps
from tests.conftest import SAMPLES

runner = CliRunner()
DANA = "dana.kowalski@bank.example"


@pytest.mark.parametrize("name", ["banking", "life_sciences", "supply_chain"])
def test_every_sample_product_exports_a_valid_document_that_reads_back_the_same(name, tmp_path):
    mesh = catalog.open_mesh(SAMPLES / name, state_dir=tmp_path)
    for product_id, product in mesh.products.items():
        document = odps.to_document(mesh, product_id)
        assert odps.validate_document(document) == [], product_id
        assert document["outputPorts"][0]["contractId"] == product_id.replace(".", "-")
        domain, descriptor = odps.from_document(odps.read_document(odps.export_document(mesh, product_id, "json")))
        assert (domain, descriptor) == (product.domain, product.descriptor), product_id


def test_the_document_names_ports_owners_and_upstream_contracts(tmp_path):
    mesh = catalog.open_mesh(SAMPLES / "banking", state_dir=tmp_path)
    document = odps.to_document(mesh, "risk.customer_exposure")
    assert [p["name"] for p in document["inputPorts"]] == ["retail.accounts", "risk.credit_scores"]
    assert document["inputPorts"][0]["contractId"] == "retail-accounts"
    assert document["team"]["members"][0] == {"username": DANA, "role": "owner"}
    props = {c["property"]: c["value"] for c in document["customProperties"]}
    assert props["meshworkTerms"] == ["exposure"] and props["meshworkSla"]["freshness_hours"] > 0


def test_publishing_an_exported_document_recreates_the_product_with_its_declared_ports(sample_copy):
    root = sample_copy("banking")
    with open(root / "mesh.yaml", "a") as handle:  # its checks read restricted data: a steward sets them up
        handle.write("users:\n  sam.steward@bank.example: {roles: [steward]}\n")
    path = root / "risk/products/customer_exposure.yaml"
    path.write_text(path.read_text() + "ports:\n  output:\n  - {name: sql, approval: owner+steward}\n  - {name: "
                    "board_file, kind: file, location: exports/exposure.parquet}\n")
    mesh = catalog.open_mesh(root, state_dir=root.parent / "state")
    original = mesh.products["risk.customer_exposure"].descriptor
    exported = root.parent / "exposure.odps.yaml"
    result = runner.invoke(cli, ["export", "odps", str(root), "risk.customer_exposure", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    path.unlink()
    imported = runner.invoke(cli, ["import", "odps", str(root), str(exported), "--user",
                                    "sam.steward@bank.example"])
    assert imported.exit_code == 0, imported.output
    assert "imported risk.customer_exposure v1.0.0" in imported.output
    again = catalog.open_mesh(root, state_dir=root.parent / "state")
    assert again.products["risk.customer_exposure"].descriptor == original
    assert [p.name for p in again.ports("risk.customer_exposure")["output"]] == ["sql", "board_file"]


def test_export_all_writes_one_valid_document_per_product(tmp_path):
    out = tmp_path / "odps"
    result = runner.invoke(cli, ["export", "odps", str(SAMPLES / "supply_chain"), "-o", str(out), "--format",
                                 "json"])
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.odps.json"))
    assert len(files) == 18
    assert all(odps.validate_document(json.loads(f.read_text())) == [] for f in files)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(kind="DataContract"), "kind: 'DataContract' is not one of ['DataProduct']"),
    (lambda d: d["outputPorts"][0].update(colour="red"), "outputPorts.0: Additional properties are not allowed"),
    (lambda d: d.pop("id"), "(top): 'id' is a required property"),
    (lambda d: d.update(customProperties=[]), "carries no Meshwork source"),
])
def test_a_bad_document_is_refused_naming_the_field_and_nothing_is_written(sample_copy, change, message):
    root = sample_copy("banking")
    mesh = catalog.open_mesh(root, state_dir=root.parent / "state")
    document = odps.to_document(mesh, "retail.customers")
    (root / "retail/products/customers.yaml").unlink()
    change(document)
    bad = root.parent / "bad.json"
    bad.write_text(json.dumps(document))
    result = runner.invoke(cli, ["import", "odps", str(root), str(bad), "--user", "ana.silva@bank.example"])
    assert result.exit_code == 2 and message in result.output
    assert not (root / "retail/products/customers.yaml").exists()

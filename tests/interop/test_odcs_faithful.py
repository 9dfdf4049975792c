"""The official ODCS examples (tests/interop/fixtures/odcs, source path in each file's first line) import as
they are, keep their meaning, and come back from an export; bad input says file, line, JSON path and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import catalog
from catalog.cli import app
from catalog.interop import odcs as contracts
from catalog.interop.odcs import exporting
from catalog.errors import PublishError
from minimesh import build_steward_minimesh

FIXTURES = Path(__file__).parent / "fixtures" / "odcs"
EXAMPLES = sorted(FIXTURES.glob("*.odcs.yaml"))
WITHOUT_SCHEMA = {"basic-four-dpo.odcs.yaml", "database-table-sla.odcs.yaml", "azure-server.odcs.yaml",
                  "support-channels.odcs.yaml", "service-and-operational-roles.odcs.yaml"}
WITHOUT_COLUMNS = {"kafka-schemaregistry.odcs.yaml", "kafka-server.odcs.yaml"}  # topics whose fields are not listed
INVALID = {"strict-schema-test-invalid.odcs.yaml"}  # invalid on purpose
IMPORTABLE = [p.name for p in EXAMPLES if p.name not in WITHOUT_SCHEMA | WITHOUT_COLUMNS | INVALID]
runner = CliRunner()


@pytest.fixture
def minimesh(tmp_path, monkeypatch):
    return build_steward_minimesh(tmp_path / "mini", monkeypatch)


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def _where(check):
    return check.check, getattr(check, "column", None) or tuple(getattr(check, "columns", ()))


def _products(items):
    from catalog.descriptors.model import DataProduct
    return [DataProduct(id=f"{i.domain}.{i.descriptor.name}", domain=i.domain, descriptor=i.descriptor,
                        path=Path(".")) for i in items]


@pytest.mark.parametrize("example", IMPORTABLE)
def test_every_official_example_with_a_schema_imports_and_exports_back(example):
    doc = contracts.read_contract((FIXTURES / example).read_text(), example)
    items = contracts.from_contract(doc, example, domain="imported",
                                    source={"kind": "parquet", "path": "data/{table}.parquet"})
    assert len(items) == len(doc["schema"])  # one product per schema object
    exported = exporting.document(_products(items))
    kept, total = contracts.round_trip_share(doc, exported)
    assert kept / total >= 0.95, (example, kept, total)
    assert exported["id"] == doc["id"] and exported["apiVersion"] == doc["apiVersion"]


@pytest.mark.parametrize("example", sorted(WITHOUT_SCHEMA | WITHOUT_COLUMNS))
def test_an_example_without_a_table_gets_a_clear_message(example):
    doc = contracts.read_contract((FIXTURES / example).read_text(), example)
    reason = "no properties, so no columns" if example in WITHOUT_COLUMNS else "the contract has no schema object"
    with pytest.raises(PublishError, match=rf"{example}: \$.schema.*{reason}"):
        contracts.from_contract(doc, example, domain="imported")


def test_the_deliberately_invalid_example_is_refused_with_path_and_reason():
    name = "strict-schema-test-invalid.odcs.yaml"
    with pytest.raises(PublishError) as refused:
        contracts.read_contract((FIXTURES / name).read_text(), name)
    message = str(refused.value)
    assert message.startswith(f"{name}:") and "by the schema of its apiVersion v3.0.2" in message
    assert "$.schema[0]" in message and "'undefinedSchemaProperty' was unexpected" in message


def test_how_many_official_examples_import():
    """All 31 official examples are here; every one that has a table with columns imports."""
    assert len(EXAMPLES) == 31 and len(IMPORTABLE) == 23


@pytest.mark.parametrize("example", IMPORTABLE)
def test_every_imported_column_has_a_type_duckdb_reads(example):
    """A physicalType DuckDB lacks (a Postgres domain like `Name`, `xml`, `serial`) never reaches a descriptor."""
    import duckdb
    doc = contracts.read_contract((FIXTURES / example).read_text(), example)
    items = contracts.from_contract(doc, example, domain="imported", source={"kind": "csv", "path": "d/{table}.csv"})
    types = {c.type for i in items for c in i.descriptor.columns}
    with duckdb.connect() as con:
        for column_type in types:
            con.execute(f"SELECT CAST(NULL AS {column_type})")


ADVENTUREWORKS = "postgresql-adventureworks-contract.odcs.yaml"


def test_the_adventureworks_catalog_export_is_one_product_per_table():
    """68 tables of a Postgres catalog export: `varchar[15]` is VARCHAR(15), `serial` an integer, `xml` text;
    composite primary keys stay keys."""
    doc = contracts.read_contract((FIXTURES / ADVENTUREWORKS).read_text(), ADVENTUREWORKS)
    items = contracts.from_contract(doc, ADVENTUREWORKS, domain="aw",
                                    source={"kind": "postgres", "dsn": "postgresql://localhost:5432/adventureworks",
                                            "table": "{table}"})
    products = {i.descriptor.name: i.descriptor for i in items}
    assert len(products) == 68 and {i.domain for i in items} == {"aw"}
    employee = {c.name: c for c in products["employee"].columns}
    assert employee["nationalidnumber"].type == "VARCHAR(15)" and employee["vacationhours"].type == "SMALLINT"
    assert employee["organizationnode"].type == "VARCHAR" and employee["businessentityid"].key
    assert {c.name: c.type for c in products["department"].columns}["departmentid"] == "INTEGER"
    assert {c.name: c.type for c in products["jobcandidate"].columns}["resume"] == "VARCHAR"
    history = products["employeedepartmenthistory"]
    assert [c.name for c in history.columns if c.key] == ["businessentityid", "departmentid", "shiftid", "startdate"]
    assert products["store"].source.table == "store"


def test_a_contract_without_a_readable_server_says_file_path_and_reason(minimesh):
    fixture = FIXTURES / ADVENTUREWORKS
    result = runner.invoke(app, ["contract", "import", str(minimesh), str(fixture), "--domain", "aw"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"{fixture}: $.servers: no server Meshwork can read for 'department'" in result.output
    assert "--source-path" in result.output
    assert not (minimesh / "aw").exists()


def test_full_example_keeps_its_meaning_and_95_percent_of_its_fields(minimesh):
    """Two schema objects, two products; physicalName maps columns; required/unique/keys/relationships
    become checks; the export gives back the document (measured: every leaf field, the id kept)."""
    data = minimesh / "seller" / "data"
    _write_csv(data / "tbl_1.csv", ["txn_ref_dt", "rcvr_id", "rcvr_cntry_code"],
               [["2022-10-03", "R1", "DE"], ["2022-10-04", "R2", "FR"]])
    _write_csv(data / "receivers_master.csv", ["id", "country_code", "receiver_name", "receiver_type"],
               [["R1", "DE", "Ada", "individual"], ["R2", "FR", "Bob", "business"]])
    text = (FIXTURES / "full-example.odcs.yaml").read_text()
    mesh = catalog.open_mesh(minimesh)
    report = contracts.import_contracts(mesh, text, "full-example.odcs.yaml", source_path="data/{table}.csv")
    assert [r.product_id for r in report.results] == ["seller.tbl", "seller.receivers"]
    assert any("carried verbatim" in n and "$.price" in n for n in report.notes)
    mesh = catalog.open_mesh(minimesh)
    tbl, receivers = mesh.products["seller.tbl"], mesh.products["seller.receivers"]
    assert [c.name for c in tbl.descriptor.columns] == ["txn_ref_dt", "rcvr_id", "rcvr_cntry_code"]
    assert tbl.owner == "daustin" and tbl.column("rcvr_id").key and tbl.descriptor.sla.freshness_hours is None
    kinds = {_where(q) for q in tbl.descriptor.quality}
    assert ("references", "rcvr_id") in kinds and ("not_null", "rcvr_cntry_code") in kinds
    assert ("row_count", ()) in kinds
    rk = {_where(q) for q in receivers.descriptor.quality}
    assert {("not_null", "id"), ("unique", ("id",)), ("not_null", "receiver_name")} <= rk
    exported = yaml.safe_load(contracts.export_contract(mesh, "seller.tbl", "seller.receivers"))
    kept, total = contracts.round_trip_share(yaml.safe_load(text), exported)
    assert exported["id"] == "53581432-6c55-4ba2-a65f-72344a91553a"
    assert kept / total >= 0.95, (kept, total)
    results = {r.name: r.status for r in mesh.check("seller.receivers").checks}
    assert set(results.values()) == {"pass"}
    # the 1,000,000-row minimum of the contract is kept, so two rows fail it
    assert {r.kind: r.status for r in mesh.check("seller.tbl").checks}["row_count"] == "fail"


TOLERANT = """
apiVersion: v3.1.0
kind: DataContract
id: readings
version: 1.0.0
status: active
domain: sensors
team:
  - {username: ops@plant.example, role: owner, dateIn: 2024-01-15}
servers:
  - {server: local, type: local, format: csv, path: data/readings.csv}
schema:
  - name: readings
    properties:
      - name: reading_id
        logicalType: integer
        required: true
        unique: true
      - name: celsius
        logicalType: number
        logicalTypeOptions: {minimum: -40, maximum: 125}
        quality:
          - {type: library, metric: nullValues, mustBeLessThan: 5, unit: percent}
"""


@pytest.mark.parametrize("nulls, verdict", [(2, "pass"), (10, "fail")])
def test_a_tolerance_stays_a_tolerance(minimesh, nulls, verdict):
    """`nullValues mustBeLessThan: 5 percent` is a not-null check that accepts < 5 % nulls, not a strict one;
    the unquoted YAML date (dateIn: 2024-01-15) imports."""
    rows = [[i, None if i < nulls else 20.5] for i in range(100)]
    _write_csv(minimesh / "sensors" / "data" / "readings.csv", ["reading_id", "celsius"], rows)
    mesh = catalog.open_mesh(minimesh)
    contracts.import_contract(mesh, TOLERANT, "readings.odcs.yaml")
    mesh = catalog.open_mesh(minimesh)
    product = mesh.products["sensors.readings"]
    tolerant = next(q for q in product.descriptor.quality if q.check == "not_null" and q.column == "celsius")
    assert tolerant.tolerance.max == 5 and tolerant.tolerance.unit == "percent" and tolerant.tolerance.strict
    assert any(q.check == "range" and q.min == -40 and q.max == 125 for q in product.descriptor.quality)
    results = {(r.kind, r.name): r.status for r in mesh.check("sensors.readings").checks}
    assert results[("not_null", "celsius not null")] == verdict
    assert {s for (k, _), s in results.items() if k != "not_null" or _ != "celsius not null"} == {"pass"}
    exported = yaml.safe_load(contracts.export_contract(mesh, "sensors.readings"))
    celsius = exported["schema"][0]["properties"][1]
    assert celsius["quality"][0]["mustBeLessThan"] == 5 and celsius["quality"][0]["unit"] == "percent"
    assert celsius["logicalTypeOptions"] == {"minimum": -40, "maximum": 125}


def test_bad_input_names_the_file_line_json_path_and_reason(minimesh, tmp_path):
    bad = tmp_path / "bad.odcs.yaml"
    bad.write_text(TOLERANT.replace("logicalType: number", "logicalType: numeric"))
    result = runner.invoke(app, ["contract", "import", str(minimesh), str(bad)])
    assert result.exit_code != 0
    assert f"{bad}:" in result.output and "$.schema[0].properties[1].logicalType" in result.output
    assert "'numeric' is not one of" in result.output
    assert not (minimesh / "sensors").exists()


def test_cli_imports_a_multi_table_contract_with_overrides(minimesh, tmp_path):
    (minimesh / "shop" / "data").mkdir(parents=True)
    for table, header in (("customers", ["id"]), ("addresses", ["customer_id", "address_seq", "street"]),
                          ("orders", ["id", "customer_id", "shipping_address_street"])):
        _write_csv(minimesh / "shop" / "data" / f"{table}.csv", header, [["1"] * len(header)])
    result = runner.invoke(app, ["contract", "import", str(minimesh), str(FIXTURES / "relationships.odcs.yaml"),
                                 "--domain", "shop", "--source-path", "data/{table}.csv"])
    assert result.exit_code == 0, result.output
    assert "imported shop.customers v1.0.0" in result.output and "imported shop.orders v1.0.0" in result.output
    orders = catalog.open_mesh(minimesh).products["shop.orders"]
    assert any(q.check == "references" and q.product == "shop.customers" for q in orders.descriptor.quality)
    one = runner.invoke(app, ["contract", "import", str(minimesh), str(FIXTURES / "relationships.odcs.yaml"),
                              "--domain", "shop", "--name", "x", "--source-path", "data/{table}.csv"])
    assert one.exit_code != 0 and "--name names one product, but the contract has 3 schema objects" in one.output


def test_sample_checks_export_in_standard_odcs():
    """Most of the sample meshes' checks are written in fields other ODCS tools read (measured)."""
    private = total = 0
    for sample in ("banking", "life_sciences", "supply_chain"):
        mesh = catalog.open_mesh(Path(__file__).resolve().parents[2] / "sample_data" / sample)
        for product in mesh.products.values():
            p, t = exporting.private_checks(product)
            private, total = private + p, total + t
    print(f"sample checks with no standard ODCS form: {private} of {total}")
    assert private / total < 0.10

"""`datacontract test` (datacontract-cli 1.2.8, the real tool, from `.venv-tools/datacontract`: `make tools`)
and `meshwork check` give the same verdict on the same exported contract and the same data."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

import catalog
from catalog.interop import odcs as contracts
from minimesh import build_steward_minimesh

# One worker per module (`make test` runs --dist loadgroup): one mesh and exported contract per module.
pytestmark = pytest.mark.xdist_group("datacontract")

DATACONTRACT = Path(__file__).resolve().parents[2] / ".venv-tools" / "datacontract" / "bin" / "datacontract"

CONTRACT = """
apiVersion: v3.1.0
kind: DataContract
id: readings
version: 1.0.0
status: active
domain: sensors
team: [{username: ops@plant.example, role: owner}]
servers:
  - {server: local, type: local, format: csv, path: data/readings.csv}
schema:
  - name: readings
    properties:
      - {name: reading_id, logicalType: integer, required: true, unique: true}
      - name: celsius
        logicalType: number
        logicalTypeOptions: {minimum: -40, maximum: 125}
        quality:
          - {type: library, metric: nullValues, mustBeLessThan: 5, unit: percent}
      - name: state
        logicalType: string
        quality:
          - {type: library, metric: invalidValues, mustBe: 0, arguments: {validValues: [ok, warn]}}
    quality:
      - {type: library, metric: rowCount, mustBeGreaterOrEqualTo: 10}
      - {type: sql, query: "SELECT COUNT(*) FROM readings WHERE celsius >= 100", mustBe: 0}
"""


@pytest.fixture(scope="module")
def mesh_root(tmp_path_factory):
    if not DATACONTRACT.exists():
        pytest.fail(f"{DATACONTRACT} is missing: `make tools` (part of `make test`) installs datacontract-cli there")
    patch = pytest.MonkeyPatch()
    root = build_steward_minimesh(tmp_path_factory.mktemp("dc") / "mini", patch)
    data = root / "sensors" / "data"
    data.mkdir(parents=True)
    (data / "readings.csv").write_text("reading_id,celsius,state\n0,1.5,ok\n")
    contracts.import_contract(catalog.open_mesh(root), CONTRACT, "readings.odcs.yaml")
    yield root
    patch.undo()


def _data(root: Path, nulls: int, hot: int) -> None:
    rows = [f"{i},{'' if i < nulls else (110 if i < nulls + hot else 20.5)},{'ok' if i % 2 else 'warn'}"
            for i in range(100)]
    (root / "sensors" / "data" / "readings.csv").write_text("reading_id,celsius,state\n" + "\n".join(rows) + "\n")


@pytest.mark.parametrize("nulls, hot, valid", [(2, 0, True), (10, 3, False)])
def test_datacontract_and_meshwork_agree(mesh_root, nulls, hot, valid):
    _data(mesh_root, nulls, hot)
    mesh = catalog.open_mesh(mesh_root)
    exported = mesh_root / "readings.odcs.yaml"
    exported.write_text(contracts.export_contract(mesh, "sensors.readings"))
    server = yaml.safe_load(exported.read_text())["servers"][0]
    assert server["path"] == "sensors/data/readings.csv"  # relative to the mesh, where the tool runs
    tool = subprocess.run([str(DATACONTRACT), "test", exported.name], cwd=mesh_root, capture_output=True,
                          text=True, timeout=240)
    report = mesh.check("sensors.readings")
    meshwork_valid = all(r.status == "pass" for r in report.checks)
    assert (tool.returncode == 0) is valid, tool.stdout[-3000:]
    assert meshwork_valid is valid, [(r.name, r.status, r.message) for r in report.checks]

"""`POST /api/v1/lineage` on the app's own server (app/serve.py): the sender is identified as the app identifies
a visitor (here the trusted proxy header), only a steward may add events, and a refusal stores nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import catalog
from catalog.publish.publish import init_mesh
from tests import harness

STEWARD = "steward@shop.example"
ANALYST = "analyst@shop.example"
HEADER = "X-Forwarded-Email"
EVENT = {"eventType": "COMPLETE", "eventTime": "2026-12-01T10:00:00.000Z", "producer": "https://example.org/spark",
         "run": {"runId": "0b6f0f4e-8f7a-4c83-9a3c-2a0f0e7f1c11"},
         "job": {"namespace": "spark://etl", "name": "nightly.load_orders"},
         "inputs": [{"namespace": "s3://landing", "name": "orders/2026-12-01.parquet"}],
         "outputs": [{"namespace": "meshwork://shop", "name": "sales.orders"}]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    root = init_mesh(tmp_path_factory.mktemp("olhttp") / "shop", steward=STEWARD)
    with open(root / "mesh.yaml", "a") as handle:
        handle.write(f"identity: {{mode: enforced, trusted_header: {HEADER}}}\n")
    text = (root / "mesh.yaml").read_text().replace("users:\n", f"users:\n  {ANALYST}: {{roles: [analyst]}}\n", 1)
    (root / "mesh.yaml").write_text(text)
    data = root / "sales" / "data"
    data.mkdir(parents=True)
    (data / "orders.csv").write_text("order_id,amount\n1,10\n2,20\n")
    mesh = catalog.open_mesh(root)
    assert not mesh.problems, mesh.problems
    mesh.publisher.publish(mesh.publisher.draft_from_file(data / "orders.csv", domain="sales", name="orders",
                                                          owner=STEWARD, description="Orders."), user=STEWARD)
    mesh.close()
    server = harness.AppServer(root)
    yield root, server
    server.stop()


def post(server: harness.AppServer, body: bytes, user: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({HEADER: user} if user else {})}
    request = urllib.request.Request(f"{server.url}/api/v1/lineage", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def stored(root: Path) -> int:
    mesh = catalog.open_mesh(root)
    try:
        return mesh.lineage_events.frame("in").height
    finally:
        mesh.close()


def test_without_an_identity_or_as_a_non_steward_it_is_refused_and_nothing_is_stored(served):
    root, server = served
    status, body = post(server, json.dumps(EVENT).encode())
    assert status == 401 and "Sign in first" in body["error"]
    status, body = post(server, json.dumps(EVENT).encode(), ANALYST)
    assert status == 403 and "only a steward may add lineage events" in body["error"]
    assert stored(root) == 0
    mesh = catalog.open_mesh(root)
    try:
        audit = mesh.access.audit()
    finally:
        mesh.close()
    refusals = audit.filter(audit["action"] == "lineage.ingest")
    assert sorted(refusals["actor"].to_list()) == sorted(["anonymous", ANALYST])


def test_an_invalid_event_is_refused_with_its_json_path(served):
    root, server = served
    status, body = post(server, json.dumps({**EVENT, "run": {"runId": "x"}}).encode(), STEWARD)
    assert status == 400 and "$.run.runId: 'x' is not a 'uuid'" in body["error"]
    assert stored(root) == 0


def test_a_steward_adds_events_and_the_job_appears_as_an_external_node(served):
    root, server = served
    status, body = post(server, json.dumps(EVENT).encode(), STEWARD)
    assert (status, body) == (201, {"stored": 1})
    mesh = catalog.open_mesh(root)
    try:
        graph = mesh.lineage()
    finally:
        mesh.close()
    job = "job:spark://etl/nightly.load_orders"
    assert graph.nodes[job]["kind"] == "job"
    assert graph.has_edge("external:s3://landing/orders/2026-12-01.parquet", job)
    assert graph.has_edge(job, "sales.orders")

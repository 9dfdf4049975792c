"""OpenLineage with openlineage-python: run events of publishes, quality runs and governed queries, sent through
the file and HTTP transports (a real receiver on 127.0.0.1) and checked against the OpenLineage JSON schema
vendored in catalog/interop/openlineage_spec; events ingested from a file into the lineage graph."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

import catalog
from catalog.cli import app
from catalog.descriptors.yamlio import dump_yaml
from catalog.interop.openlineage import LineageEventError, schema_errors
from catalog.publish.publish import init_mesh

STEWARD = "steward@shop.example"
runner = CliRunner()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A mesh with a CSV product read in place; each test adds its own `openlineage:` to mesh.yaml."""
    root = init_mesh(tmp_path_factory.mktemp("ol") / "shop", steward=STEWARD)
    data = root / "sales" / "data"
    data.mkdir(parents=True)
    (data / "orders.csv").write_text("order_id,customer,email,amount\n1,ana,ana@a.example,10.5\n"
                                     "2,bo,bo@b.example,20\n3,cy,cy@c.example,7\n")
    mesh = catalog.open_mesh(root)
    draft = mesh.publisher.draft_from_file(data / "orders.csv", domain="sales", name="orders", owner=STEWARD,
                                           description="Orders.")
    draft = mesh.publisher.edit_draft(draft, draft.yaml().replace(
        "quality:\n", "quality:\n- {check: regex, name: email shape, column: email, pattern: '^[^@]+@'}\n"))
    mesh.publisher.publish(draft, user=STEWARD)
    mesh.close()
    return root


def configure(root: Path, transport: dict | None, emit: list[str] | None = None) -> None:
    text = (root / "mesh.yaml").read_text().split("\nopenlineage:", 1)[0].rstrip("\n") + "\n"
    if transport is not None:
        text += dump_yaml({"openlineage": {"transport": transport, **({"emit": emit} if emit else {})}})
    (root / "mesh.yaml").write_text(text)


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Receiver(BaseHTTPRequestHandler):
    """A lineage server: keeps each POSTed body."""

    received: list[tuple[str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _open(root: Path) -> catalog.Mesh:
    mesh = catalog.open_mesh(root)
    assert not mesh.problems, mesh.problems
    return mesh


def test_publish_quality_and_query_events_through_the_file_transport_are_valid(base, tmp_path):
    log = tmp_path / "events.jsonl"
    configure(base, {"type": "file", "log_file_path": str(log), "append": True})
    mesh = _open(base)
    try:
        draft = mesh.publisher.draft_from_sql("SELECT customer, amount * 2 AS doubled FROM sales.orders",
                                              domain="sales", name="doubled", owner=STEWARD, user=STEWARD)
        mesh.publisher.publish(draft, user=STEWARD)
        mesh.check("sales.orders")
        mesh.session("analyst", STEWARD).sql("SELECT count(*) FROM sales.orders")
        assert mesh.openlineage.flush(10)
    finally:
        mesh.close()
    events = read_lines(log)
    assert events and all(schema_errors(e) == [] for e in events), [schema_errors(e) for e in events]
    by_job: dict[str, list[dict]] = {}
    for event in events:
        by_job.setdefault(event["job"]["name"], []).append(event)
    publish = by_job["publish.sales.doubled"]
    assert [e["eventType"] for e in publish] == ["START", "COMPLETE"]
    assert publish[0]["run"]["runId"] == publish[1]["run"]["runId"]
    output = publish[1]["outputs"][0]
    assert (output["namespace"], output["name"]) == ("meshwork://shop", "sales.doubled")
    lineage = output["facets"]["columnLineage"]["fields"]
    assert lineage["doubled"]["inputFields"] == [{"namespace": "meshwork://shop", "name": "sales.orders",
                                                  "field": "amount", "transformations": []}]
    assert [i["name"] for i in publish[1]["inputs"]] == ["sales.orders"]
    quality = by_job["check.sales.orders"]
    assert [e["eventType"] for e in quality] == ["START", "COMPLETE"]
    assertions = quality[1]["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert assertions and all(a["success"] for a in assertions)
    assert {a["assertion"] for a in assertions} >= {"not_null"}
    by_column = {(a["assertion"], a.get("column")): a for a in assertions}
    assert by_column[("not_null", "order_id")]["actual"] == "0"
    shape = next(a for a in assertions if a["name"] == "email shape")
    assert shape["success"] and "actual" not in shape  # it reads personal data: its verdict, never its counts
    query = by_job[f"query.analyst.{STEWARD}"]
    assert [e["eventType"] for e in query] == ["START", "COMPLETE"]
    assert [i["name"] for i in query[1]["inputs"]] == ["sales.orders"]


def test_a_refused_publish_sends_fail_with_the_reason(base, tmp_path):
    log = tmp_path / "events.jsonl"
    configure(base, {"type": "file", "log_file_path": str(log), "append": True}, emit=["publish"])
    mesh = _open(base)
    try:
        draft = mesh.publisher.draft_from_file(base / "sales" / "data" / "orders.csv", domain="sales", name="orders",
                                               owner=STEWARD, version="1.0.0")
        with pytest.raises(catalog.PublishError):
            mesh.publisher.publish(draft, user=STEWARD)  # same version: refused
        mesh.session("analyst", STEWARD).sql("SELECT 1 AS one FROM sales.orders LIMIT 1")  # not emitted
        assert mesh.openlineage.flush(10)
    finally:
        mesh.close()
    events = read_lines(log)
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [("publish.sales.orders", "START"),
                                                                    ("publish.sales.orders", "FAIL")]
    assert "already exists" in events[1]["run"]["facets"]["errorMessage"]["message"]
    assert all(schema_errors(e) == [] for e in events)


def test_the_http_transport_posts_to_a_receiver(base, receiver):
    Receiver.received.clear()
    configure(base, {"type": "http", "url": f"http://127.0.0.1:{receiver.server_port}", "endpoint": "api/v1/lineage"})
    mesh = _open(base)
    try:
        mesh.session("analyst", STEWARD).sql("SELECT sum(amount) FROM sales.orders")
        assert mesh.openlineage.flush(10)
        sent = mesh.lineage_events.frame("out")
    finally:
        mesh.close()
    assert [path for path, _ in Receiver.received] == ["/api/v1/lineage", "/api/v1/lineage"]
    bodies = [body for _, body in Receiver.received]
    assert [b["eventType"] for b in bodies] == ["START", "COMPLETE"]
    assert all(schema_errors(b) == [] for b in bodies)
    assert sent.tail(2)["error"].to_list() == [None, None]


def test_a_lineage_server_that_is_down_never_fails_a_query_and_the_failure_is_recorded(base):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configure(base, {"type": "http", "url": f"http://127.0.0.1:{port}"}, emit=["query"])
    mesh = _open(base)
    try:
        frame = mesh.session("analyst", STEWARD).sql("SELECT count(*) AS n FROM sales.orders")
        assert frame["n"][0] == 3
        assert mesh.openlineage.flush(30)
        failed = mesh.lineage_events.frame("out").tail(2)
    finally:
        mesh.close()
    assert failed["event_type"].to_list() == ["START", "COMPLETE"]
    assert all(e and "Connect" in e for e in failed["error"].to_list()), failed["error"].to_list()


def test_a_lineage_server_that_never_answers_does_not_hold_up_a_query(base):
    """The query returns while its events are still waiting on a server that accepted the connection and never
    answers (a 60 s transport timeout): delivery is off the query's path, whatever the machine's speed."""
    import socket

    with socket.socket() as hanging:
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        port = hanging.getsockname()[1]
        configure(base, {"type": "http", "url": f"http://127.0.0.1:{port}", "timeout": 60}, emit=["query"])
        mesh = _open(base)
        try:
            frame = mesh.session("analyst", STEWARD).sql("SELECT count(*) AS n FROM sales.orders")
            assert frame["n"][0] == 3
            assert not mesh.openlineage.flush(0.5), "the query waited for its lineage events to be delivered"
        finally:
            hanging.close()  # the pending send fails now, so closing the mesh does not wait out the timeout
            mesh.openlineage.flush(30)
            mesh.close()


def test_an_unknown_transport_in_mesh_yaml_is_a_problem_with_its_line(base):
    configure(base, {"type": "kafka", "topic": "x"})
    mesh = catalog.open_mesh(base)
    try:
        problem = next(p for p in mesh.problems if "openlineage" in p.field)
        assert problem.line and "transport type must be http, file or console" in problem.message
    finally:
        mesh.close()
        configure(base, None)


EXTERNAL_JOB = {
    "eventType": "COMPLETE", "eventTime": "2026-12-01T10:00:00.000Z", "producer": "https://example.org/airflow",
    "run": {"runId": "3f5e83fa-3480-44ff-99c5-ff943cd7e4aa"},
    "job": {"namespace": "airflow://prod", "name": "finance.revenue_report"},
    "inputs": [{"namespace": "meshwork://shop", "name": "sales.orders"},
               {"namespace": "postgres://erp:5432", "name": "erp.public.fx_rates"}],
    "outputs": [{"namespace": "s3://reports", "name": "revenue/weekly.csv",
                 "facets": {"columnLineage": {
                     "_producer": "https://example.org/airflow",
                     "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
                     "fields": {"revenue": {"inputFields": [
                         {"namespace": "meshwork://shop", "name": "sales.orders", "field": "amount"}]}}}}}],
}


def test_ingested_events_show_jobs_and_datasets_outside_the_mesh_as_external_nodes(base, tmp_path):
    configure(base, None)
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(EXTERNAL_JOB) + "\n")
    result = runner.invoke(app, ["import", "openlineage", str(base), str(events)])
    assert result.exit_code == 0, result.output
    assert "stored 1 OpenLineage event(s)" in result.output
    mesh = _open(base)
    try:
        graph = mesh.lineage()
        job = "job:airflow://prod/finance.revenue_report"
        assert graph.nodes[job]["kind"] == "job" and graph.nodes[job]["external"]
        assert graph.has_edge("sales.orders", job)
        assert graph.nodes["external:postgres://erp:5432/erp.public.fx_rates"]["kind"] == "external"
        assert graph.has_edge(job, "external:s3://reports/revenue/weekly.csv")
        assert job in {p.id for p in mesh.impact("sales.orders", columns=False).products}
        kinds = dict(mesh.impact("sales.orders", columns=False).frame().select("id", "kind").iter_rows())
        assert kinds[job] == "job" and kinds["external:s3://reports/revenue/weekly.csv"] == "external"
        analyst = mesh.lineage(role="analyst", user=STEWARD)
        assert analyst.has_edge("sales.orders", job)
    finally:
        mesh.close()
    # the CLI counts them apart from the mesh's own products
    text = runner.invoke(app, ["lineage", str(base), "sales.orders", "--impact"]).output
    assert "job(s) or dataset(s) outside the mesh" in text and f"job     {job}" in text


def test_an_invalid_event_is_refused_with_file_line_and_json_path_and_nothing_is_stored(base, tmp_path):
    bad = dict(EXTERNAL_JOB, run={"runId": "not-a-uuid"}, job={"namespace": "airflow://prod", "name": "bad.job"})
    del bad["producer"]
    events = tmp_path / "bad.jsonl"
    events.write_text(json.dumps(EXTERNAL_JOB) + "\n" + json.dumps(bad) + "\n")
    mesh = _open(base)
    try:
        before = mesh.lineage_events.frame("in").height
        with pytest.raises(LineageEventError) as caught:
            mesh.ingest_openlineage(events)
        assert mesh.lineage_events.frame("in").height == before
    finally:
        mesh.close()
    message = str(caught.value)
    assert f"{events}:2: $: 'producer' is a required property" in message
    assert f"{events}:2: $.run.runId: 'not-a-uuid' is not a 'uuid'" in message
    result = runner.invoke(app, ["import", "openlineage", str(base), str(events)])
    assert result.exit_code == 2 and "Traceback" not in result.output and f"{events}:2:" in result.output

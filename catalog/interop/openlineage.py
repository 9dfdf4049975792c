"""OpenLineage: standard run events out (publishes, quality runs, governed queries), and events in.

Out: `Emitter` builds events with the `openlineage-python` client's models and sends them with its transports
(`http`, `file`, `console`: mesh.yaml `openlineage.transport`, the client's own configuration keys). Sending
happens on one background thread, so a lineage server that is slow or down never holds up nor fails a query;
every emitted event is stored (catalog.lineage.events) with the transport's error when delivery failed.

In: `read_events` parses a JSON Lines file (or one JSON document), validates each event against the OpenLineage
JSON schema vendored in `openlineage_spec/` (SOURCE.md there says from where), and refuses an invalid one with
the file, the line, the JSON path and the schema's reason; `ingest` stores valid events, which lineage shows.

Every dataset of this mesh is named as OpenLineage names datasets: namespace `meshwork://<mesh>`, name the
product id; a job's namespace is the same.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from catalog.descriptors.column_lineage import trace_columns
from catalog.descriptors.model import Column, DataProduct, ProductDescriptor
from catalog.errors import MeshError
from catalog import sqlutil
from catalog.access import authority
from catalog.access.identity import ANONYMOUS, normalize_user
from catalog.descriptors.declared import DeclaredMesh
from catalog.lineage.events import LineageEvents, mesh_namespace
from catalog.query.usage_log import UsageEvent, UsageLog
from catalog.state.store import StateStore

PRODUCER = "urn:meshwork:catalog"  # a URI naming this producer (OpenLineage asks for one; no web page claimed)
SPEC = Path(__file__).with_name("openlineage_spec")
CORE_ID = "https://openlineage.io/spec/1-0-2/OpenLineage.json"
FACETS = {"columnLineage": "ColumnLineageDatasetFacet.json",
          "dataQualityAssertions": "DataQualityAssertionsDatasetFacet.json"}
MAX_EVENT_BYTES = 1_000_000
MAX_FILE_BYTES = 50_000_000
TRANSPORTS = ("http", "file", "console")

log = logging.getLogger(__name__)


class LineageEventError(MeshError):
    """An OpenLineage document that is not a valid run event (where, the JSON path, the schema's reason)."""


# --------------------------------------------------------------------------- the schema

@lru_cache(maxsize=1)
def _schemas() -> tuple[dict[str, Any], dict[str, dict[str, Any]], Registry]:
    core = json.loads((SPEC / "OpenLineage.json").read_text(encoding="utf-8"))
    # The facet schemas name the core's parts as `$defs` of spec 1-0-2; this core document keeps them under
    # `definitions`: the same parts, registered under that address with that key.
    as_defs = json.loads(json.dumps(core).replace("#/definitions/", "#/$defs/"))
    as_defs["$defs"] = as_defs.pop("definitions")
    facets = {name: json.loads((SPEC / file).read_text(encoding="utf-8")) for name, file in FACETS.items()}
    registry = Registry().with_resources([(CORE_ID, Resource.from_contents(as_defs)),
                                          *((f["$id"], Resource.from_contents(f)) for f in facets.values())])
    return core, facets, registry


def _path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def schema_errors(event: Any) -> list[str]:
    """Why `event` is not a valid OpenLineage run event (empty when it is): `<JSON path>: <reason>` for the
    core schema and for the columnLineage / dataQualityAssertions facets it carries."""
    core, facets, registry = _schemas()
    checker = jsonschema.FormatChecker()
    errors = [(list(e.absolute_path), e.message) for e in
              jsonschema.Draft202012Validator(core, registry=registry, format_checker=checker).iter_errors(event)]
    if isinstance(event, dict):
        for side, key in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
            for i, dataset in enumerate(event.get(side) or []):
                for group in ("facets", key):
                    present = {n: f for n, f in ((dataset or {}).get(group) or {}).items() if n in facets}
                    for name, facet in present.items():
                        validator = jsonschema.Draft202012Validator(facets[name], registry=registry,
                                                                    format_checker=checker)
                        errors += [([side, i, group, *e.absolute_path], e.message)
                                   for e in validator.iter_errors({name: facet})]
    return [f"{_path(p)}: {m}" for p, m in errors]


# --------------------------------------------------------------------------- in

def read_events(path: str | Path) -> list[dict[str, Any]]:
    """The run events of a JSON Lines file (one event a line) or of a JSON document (one event or a list);
    LineageEventError naming the file, the line and the JSON path of everything wrong."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LineageEventError(f"{path}: over {MAX_FILE_BYTES:,} bytes; split it")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LineageEventError(f"{path}: cannot read: {exc}") from None
    stripped = text.lstrip()
    documents: list[tuple[int, Any]] = []
    if stripped.startswith("["):
        documents = [(1, doc) for doc in _parse(text, f"{path}", 1)]
    else:
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                documents.append((number, _parse(line, f"{path}:{number}", number)))
    problems = [f"{path}:{line}: {error}" for line, doc in documents for error in schema_errors(doc)]
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise LineageEventError("not valid OpenLineage run events:\n" + "\n".join(problems[:10]) + more)
    return [doc for _, doc in documents]


def _parse(text: str, where: str, line: int) -> Any:
    if len(text) > MAX_EVENT_BYTES * 50:
        raise LineageEventError(f"{where}: too large")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LineageEventError(f"{where}: invalid JSON at line {exc.lineno + line - 1}, column {exc.colno}: "
                                f"{exc.msg}") from None


def parse_event_body(body: bytes, where: str = "request") -> list[dict[str, Any]]:
    """The run event (or list of events) of an HTTP request body, validated like a file's."""
    if len(body) > MAX_EVENT_BYTES:
        raise LineageEventError(f"{where}: over {MAX_EVENT_BYTES:,} bytes")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LineageEventError(f"{where}: invalid JSON: {exc}") from None
    events = doc if isinstance(doc, list) else [doc]
    problems = [f"{where}[{i}] {e}" if len(events) > 1 else f"{where}: {e}"
                for i, event in enumerate(events) for e in schema_errors(event)]
    if problems:
        raise LineageEventError("not a valid OpenLineage run event: " + "; ".join(problems[:10]))
    return events


def ingest(events: LineageEvents, documents: list[dict[str, Any]], origin: str) -> int:
    """Store validated run events as ingested (`origin`: file:<path>, http:<user>, dbt:<project>)."""
    return events.record(documents, "in", origin)


# --------------------------------------------------------------------------- event building

def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventBuilder:
    """Run events of one mesh, built with the openlineage-python models (facets carry their schema URLs)."""

    def __init__(self, mesh_name: str):
        self.namespace = mesh_namespace(mesh_name)

    def _dataset(self, product_id: str, side: str, descriptor: ProductDescriptor | None = None,
                 **facets: Any) -> Any:
        from openlineage.client.event_v2 import InputDataset, OutputDataset
        from openlineage.client.generated import schema_dataset

        ds_facets = dict(facets.pop("dataset_facets", {}))
        if descriptor is not None and descriptor.columns:
            ds_facets["schema"] = schema_dataset.SchemaDatasetFacet(fields=[
                schema_dataset.SchemaDatasetFacetFields(name=c.name, type=c.type, description=c.description or None)
                for c in descriptor.columns])
        if side == "input":
            return InputDataset(namespace=self.namespace, name=product_id, facets=ds_facets,
                                inputFacets=facets.get("input_facets") or {})
        return OutputDataset(namespace=self.namespace, name=product_id, facets=ds_facets)

    def input_of(self, product_id: str) -> Any:
        return self._dataset(product_id, "input")

    def dataset_of(self, product_id: str, descriptor: ProductDescriptor,
                   links: Mapping[str, list[tuple[str, str]]]) -> Any:
        """An output product with its schema and (when traced) its columnLineage facet."""
        facets = {"columnLineage": self.column_lineage(links)} if links else {}
        return self._dataset(product_id, "output", descriptor, dataset_facets=facets)

    def foreign_run(self, job_namespace: str, job_name: str, inputs: list[Any], outputs: list[Any], when: str,
                    run_id: str, description: str = "", owner: str = "") -> Any:
        """A COMPLETE event of a job another tool ran (a dbt model, an exposure), in that tool's namespace."""
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
        from openlineage.client.generated import documentation_job, ownership_job

        facets: dict[str, Any] = {}
        if description:
            facets["documentation"] = documentation_job.DocumentationJobFacet(description=description)
        if owner:
            facets["ownership"] = ownership_job.OwnershipJobFacet(owners=[ownership_job.Owner(name=owner)])
        moment = _parse_time(when) or _now()
        return RunEvent(eventType=RunState.COMPLETE, eventTime=_iso(moment), run=Run(runId=run_id),
                        job=Job(namespace=job_namespace, name=job_name, facets=facets), inputs=inputs,
                        outputs=outputs, producer=PRODUCER)

    def run_events(self, job: str, inputs: list[Any], outputs: list[Any], started: datetime, ended: datetime,
                   failure: str | None = None, job_facets: Mapping[str, Any] | None = None) -> list[Any]:
        """A START event and its COMPLETE (or FAIL, with an errorMessage facet), one run id."""
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
        from openlineage.client.generated import error_message_run

        run_id = str(uuid.uuid4())
        job_obj = Job(namespace=self.namespace, name=job, facets=dict(job_facets or {}))
        start = RunEvent(eventType=RunState.START, eventTime=_iso(started), run=Run(runId=run_id), job=job_obj,
                         inputs=inputs, outputs=[o for o in outputs], producer=PRODUCER)
        facets = {} if failure is None else {"errorMessage": error_message_run.ErrorMessageRunFacet(
            message=failure[:2000], programmingLanguage="python")}
        end = RunEvent(eventType=RunState.FAIL if failure is not None else RunState.COMPLETE,
                       eventTime=_iso(ended), run=Run(runId=run_id, facets=facets), job=job_obj, inputs=inputs,
                       outputs=outputs, producer=PRODUCER)
        return [start, end]

    def column_lineage(self, links: Mapping[str, list[tuple[str, str]]]) -> Any:
        """The columnLineage facet of an output: output column -> the (product, column) it is computed from."""
        from openlineage.client.generated import column_lineage_dataset as cl

        return cl.ColumnLineageDatasetFacet(fields={
            out: cl.Fields(inputFields=[cl.InputField(namespace=self.namespace, name=pid, field=col)
                                        for pid, col in ins])
            for out, ins in links.items() if ins})

    def publish(self, product_id: str, descriptor: ProductDescriptor, upstreams: list[str],
                links: Mapping[str, list[tuple[str, str]]], started: datetime, ended: datetime,
                failure: str | None = None) -> list[Any]:
        """Publishing a product: reads its upstream products, writes the product (schema, columnLineage)."""
        facets = {"columnLineage": self.column_lineage(links)} if links else {}
        output = self._dataset(product_id, "output", descriptor, dataset_facets=facets)
        inputs = [self._dataset(pid, "input") for pid in upstreams]
        return self.run_events(f"publish.{product_id}", inputs, [output], started, ended, failure)

    def quality(self, product: DataProduct, report: Any, failure: str | None = None,
                sensitive: Iterable[str] = ()) -> list[Any]:
        """A quality run over one product: its checks as the dataQualityAssertions facet of the input. A sensitive
        check (it reads personal data or a restricted product: catalog.quality.sensitivity) sends its verdict,
        never its failing count, since a lineage server sits outside the mesh's policy."""
        sensitive = set(sensitive)
        from openlineage.client.generated import data_quality_assertions_dataset as dq

        columns = {q.label: getattr(q, "column", None) or (getattr(q, "columns", None) or [None])[0]
                   for q in product.descriptor.quality}
        assertions = [dq.Assertion(assertion=c.kind, success=c.status == "pass", column=columns.get(c.name),
                                   severity=c.severity, name=c.name,
                                   actual=None if c.failing is None or c.hidden or c.name in sensitive
                                   else str(c.failing))
                      for c in getattr(report, "checks", [])]
        ended = _parse_time(getattr(report, "ts", None)) or _now()
        started = ended - timedelta(milliseconds=float(getattr(report, "duration_ms", 0) or 0))
        facets = {"input_facets": {"dataQualityAssertions": dq.DataQualityAssertionsDatasetFacet(
            assertions=assertions)}} if assertions else {}
        dataset = self._dataset(product.id, "input", product.descriptor, **facets)
        return self.run_events(f"check.{product.id}", [dataset], [], started, ended, failure)

    def query(self, products: list[str], user: str, role: str, status: str, duration_ms: float | None,
              query_id: str | None) -> list[Any]:
        """A governed query: the products it read, as its inputs (the user and role in the job's name)."""
        from openlineage.client.generated import job_type_job

        ended = _now()
        started = ended - timedelta(milliseconds=float(duration_ms or 0))
        failure = None if status == "ok" else f"query {query_id or ''} ended {status}".strip()
        facets = {"jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="MESHWORK",
                                                          jobType="QUERY")}
        return self.run_events(f"query.{role}.{user}", [self._dataset(p, "input") for p in products], [],
                               started, ended, failure, facets)


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def to_dict(event: Any) -> dict[str, Any]:
    from openlineage.client.serde import Serde

    return json.loads(Serde.to_json(event))


def sql_links(product: DataProduct, upstreams: set[str],
              columns_of: Callable[[str], list[Column] | None]) -> dict[str, list[tuple[str, str]]]:
    """Output column -> the (upstream product, column) pairs a derived product's SQL computes it from."""
    if product.kind != "sql":
        return {}
    traced = trace_columns(product, upstreams, columns_of)
    return {out: list(ins) for out, ins in traced.inputs.items()}


# --------------------------------------------------------------------------- out

class Emitter:
    """Sends run events through the configured openlineage-python transport on one background thread, and stores
    each one sent (with the error when the transport failed). `flush` waits for what is queued."""

    def __init__(self, config: Mapping[str, Any], mesh_name: str, events: LineageEvents):
        transport = dict(config.get("transport") or {})
        if transport.get("type") not in TRANSPORTS:
            raise MeshError(f"mesh.yaml openlineage.transport.type must be one of {', '.join(TRANSPORTS)}, not "
                            f"{transport.get('type')!r}")
        if transport["type"] == "http":
            transport.setdefault("timeout", 5.0)
            transport.setdefault("retry", {"total": 0})  # one try; a failure is recorded, not retried inline
        self.transport_config = transport
        self.builder = EventBuilder(mesh_name)
        self.events = events
        self._queue: queue.Queue[tuple[Any, str] | None] = queue.Queue(maxsize=10_000)
        self._client: Any = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.dropped = 0
        atexit.register(self.flush, 2.0)

    def _client_for(self) -> Any:
        if self._client is None:
            from openlineage.client import OpenLineageClient

            self._client = OpenLineageClient(config={"transport": self.transport_config})
        return self._client

    def emit(self, events: list[Any], origin: str) -> None:
        """Queue events for sending; never blocks and never raises (a full queue counts a dropped event)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="openlineage-emitter", daemon=True)
                self._thread.start()
        for event in events:
            try:
                self._queue.put_nowait((event, origin))
            except queue.Full:
                self.dropped += 1

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                event, origin = item
                error = None
                try:
                    self._client_for().emit(event)
                except Exception as exc:  # noqa: BLE001 - any transport failure is recorded, never raised
                    error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
                    log.warning("OpenLineage event not delivered: %s", error)
                try:
                    self.events.record([to_dict(event)], "out", origin, [error])
                except Exception as exc:  # noqa: BLE001 - a closed state store at exit
                    log.warning("OpenLineage event not recorded: %s", exc)
            finally:
                self._queue.task_done()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was sent or failed (at most `timeout` seconds); True when done."""
        deadline = threading.Event()
        waiter = threading.Thread(target=lambda: (self._queue.join(), deadline.set()), daemon=True)
        waiter.start()
        return deadline.wait(timeout)


# --------------------------------------------------------------------------- the facade's observers

class QueryObserver(UsageLog):
    """The usage log a governed session records into, which also sends each query's run events: the query
    itself is over by then, and sending is queued, so a transport that is down changes nothing for the query."""

    def __init__(self, state: StateStore, emitter: Emitter):
        super().__init__(state)
        self.emitter = emitter

    def record(self, events: Any, con: Any = None) -> None:
        super().record(events, con)
        try:
            by_query: dict[Any, list[UsageEvent]] = {}
            for event in events:
                by_query.setdefault(event.query_id, []).append(event)
            for query_id, items in by_query.items():
                first = items[0]
                self.emitter.emit(self.emitter.builder.query(sorted({e.product_id for e in items}), first.user,
                                                             first.role, first.status, first.duration_ms,
                                                             query_id), "query")
        except Exception as exc:  # noqa: BLE001 - lineage never fails a query
            log.warning("OpenLineage events of a query not built: %s", exc)


def observe_check(emitter: Emitter, mesh: DeclaredMesh, product_id: str | None, run: Callable[[], Any],
                  sensitive: Callable[[DataProduct], Iterable[str]] = lambda product: ()) -> Any:
    """Run checks (`run`), then send one run per product checked; a run that raises sends FAIL and re-raises.
    `sensitive` names a product's sensitive checks, whose failing counts are not sent."""
    started = _now()
    try:
        result = run()
    except Exception as exc:
        emitter.emit(emitter.builder.run_events(f"check.{product_id or 'all'}", [], [], started, _now(),
                                                failure=f"{type(exc).__name__}: {exc}"), "quality")
        raise
    try:
        for report in getattr(result, "reports", [result]):
            product = mesh.products.get(report.product_id)
            if product is not None:
                emitter.emit(emitter.builder.quality(product, report, sensitive=sensitive(product)), "quality")
    except Exception as exc:  # noqa: BLE001 - lineage never fails a quality run
        log.warning("OpenLineage events of a quality run not built: %s", exc)
    return result


def _upstreams(descriptor: ProductDescriptor) -> list[str]:
    if descriptor.source.kind != "sql":
        return []
    try:
        return sorted(sqlutil.referenced_tables(sqlutil.parse_one_select(descriptor.source.sql)))
    except sqlutil.SqlParseError:
        return []


def publish_events(emitter: Emitter, mesh: DeclaredMesh, draft: Any, started: datetime,
                   failure: str | None = None) -> list[Any]:
    """START and COMPLETE (or FAIL) of publishing a draft, with the column lineage of a derived product."""
    descriptor = draft.descriptor
    upstreams = _upstreams(descriptor)
    links: dict[str, list[tuple[str, str]]] = {}
    if descriptor.source.kind == "sql":
        probe = DataProduct(id=draft.product_id, domain=draft.domain, descriptor=descriptor,
                            path=mesh.root / draft.domain / "products" / f"{descriptor.name}.yaml")
        links = sql_links(probe, set(upstreams), lambda pid: mesh.products[pid].columns if pid in mesh.products
                          else None)
    return emitter.builder.publish(draft.product_id, descriptor, upstreams, links, started, _now(), failure)


def observe_publisher(publisher: Any, emitter: Emitter, mesh: DeclaredMesh) -> Any:
    """`publisher` with its `publish` also sending the publish's run events (refusals send FAIL)."""
    plain = publisher.publish

    def publish(draft: Any, **options: Any) -> Any:
        started = _now()
        try:
            result = plain(draft, **options)
        except Exception as exc:
            _emit_quietly(lambda: publish_events(emitter, mesh, draft, started, f"{type(exc).__name__}: {exc}"),
                          emitter)
            raise
        _emit_quietly(lambda: publish_events(emitter, mesh, draft, started), emitter)
        return result

    publisher.publish = publish
    return publisher


def _emit_quietly(build: Callable[[], list[Any]], emitter: Emitter) -> None:
    try:
        emitter.emit(build(), "publish")
    except Exception as exc:  # noqa: BLE001 - lineage never fails a publish
        log.warning("OpenLineage events of a publish not built: %s", exc)


# --------------------------------------------------------------------------- the app's endpoint

def receive(mesh: Any, body: bytes, user: str | None, where: str = "request") -> int:
    """Ingest the run events of an HTTP request body sent by `user` (as the app identified them): only a
    steward mesh.yaml names may add to a mesh's lineage; a refusal is audited and stores nothing."""
    who = normalize_user(user) or ANONYMOUS
    if who == ANONYMOUS:
        raise authority.refuse(mesh.access, who, "lineage.ingest", "Sign in first: adding lineage events needs "
                               "to know who you are (the proxy's identity header, or the local user).")
    if not authority.is_steward(mesh.declared, who):
        raise authority.refuse(mesh.access, who, "lineage.ingest", f"{who} is not a steward of mesh "
                               f"{mesh.name!r}; only a steward may add lineage events.")
    return mesh.ingest_openlineage(parse_event_body(body, where), origin=f"http:{who}")

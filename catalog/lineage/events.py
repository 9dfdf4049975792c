"""OpenLineage run events the mesh knows of (table `lineage_events`), and the flows lineage draws from them.

This module is the only reader and writer of `lineage_events`. Two directions share the table: `in`, events
ingested from other tools (a file, the app's endpoint, a dbt manifest), which lineage shows; and `out`, the
events this mesh emitted, each with the transport's error when delivery failed, so a lineage server that was
down is a record, not a lost query.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from catalog.state.store import StateStore, utc_now

TABLE = "lineage_events"
NAMESPACE_SCHEME = "meshwork://"


def mesh_namespace(mesh_name: str) -> str:
    """The OpenLineage namespace of a mesh's datasets (each product is the dataset named by its id)."""
    return f"{NAMESPACE_SCHEME}{mesh_name}"

SCHEMA = {"id": pl.Int64, "ts": pl.String, "direction": pl.String, "origin": pl.String, "event_type": pl.String,
          "event_time": pl.String, "run_id": pl.String, "job_namespace": pl.String, "job_name": pl.String,
          "error": pl.String}


@dataclass(frozen=True)
class Dataset:
    namespace: str
    name: str


@dataclass(frozen=True)
class Flow:
    """One job's reads and writes, as an ingested event states them; `columns` maps an output dataset's field to
    the (input dataset, field) pairs it is computed from (the `columnLineage` facet)."""

    job_namespace: str
    job_name: str
    inputs: tuple[Dataset, ...]
    outputs: tuple[Dataset, ...]
    columns: Mapping[tuple[Dataset, str], tuple[tuple[Dataset, str], ...]] = field(default_factory=dict)
    owner: str = ""
    description: str = ""


def _datasets(items: Any) -> tuple[Dataset, ...]:
    return tuple(Dataset(str(d["namespace"]), str(d["name"])) for d in items or []
                 if isinstance(d, dict) and "namespace" in d and "name" in d)


def flow_of(event: Mapping[str, Any]) -> Flow:
    """The flow one run event describes (datasets, the columnLineage of its outputs, the job's owner)."""
    job = event.get("job") or {}
    columns: dict[tuple[Dataset, str], tuple[tuple[Dataset, str], ...]] = {}
    for out in event.get("outputs") or []:
        target = Dataset(str(out.get("namespace")), str(out.get("name")))
        lineage = ((out.get("facets") or {}).get("columnLineage") or {}).get("fields") or {}
        for name, spec in lineage.items():
            links = tuple((Dataset(str(f["namespace"]), str(f["name"])), str(f["field"]))
                          for f in (spec or {}).get("inputFields") or [] if isinstance(f, dict))
            if links:
                columns[(target, str(name))] = links
    facets = job.get("facets") or {}
    owners = [o.get("name", "") for o in (facets.get("ownership") or {}).get("owners") or [] if isinstance(o, dict)]
    return Flow(str(job.get("namespace", "")), str(job.get("name", "")), _datasets(event.get("inputs")),
                _datasets(event.get("outputs")), columns, owner=next((o for o in owners if o), ""),
                description=str((facets.get("documentation") or {}).get("description", "")))


class LineageEvents:
    """`record` events (ingested or emitted) and read back the flows of the ingested ones."""

    def __init__(self, state: StateStore):
        self.state = state

    def record(self, events: Iterable[Mapping[str, Any]], direction: str, origin: str,
               errors: Iterable[str | None] | None = None) -> int:
        """Store `events` in one transaction; `errors` (emitted ones) says per event why delivery failed."""
        events = list(events)
        errs = list(errors) if errors is not None else [None] * len(events)
        now = utc_now()
        rows = [(now, direction, origin, e.get("eventType"), e.get("eventTime"), (e.get("run") or {}).get("runId"),
                 str((e.get("job") or {}).get("namespace", "")), str((e.get("job") or {}).get("name", "")),
                 json.dumps(e, default=str, sort_keys=True), err) for e, err in zip(events, errs)]
        if rows:
            with self.state.transaction() as con:
                con.executemany("INSERT INTO lineage_events (ts, direction, origin, event_type, event_time, run_id, "
                                "job_namespace, job_name, payload, error) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        return len(rows)

    def events(self, direction: str = "in") -> list[dict[str, Any]]:
        """The stored events of one direction, oldest first, as they were received or sent."""
        return [json.loads(row[0]) for row in self.state.query(
            "SELECT payload FROM lineage_events WHERE direction = ? ORDER BY id", (direction,))]

    def frame(self, direction: str | None = None) -> pl.DataFrame:
        """One row per stored event (no payload): when, which way, from where, its job and run, any error."""
        where, params = ("WHERE direction = ?", (direction,)) if direction else ("", ())
        return self.state.frame("SELECT id, ts, direction, origin, event_type, event_time, run_id, job_namespace, "
                                f"job_name, error FROM lineage_events {where} ORDER BY id", params, SCHEMA)

    def flows(self) -> list[Flow]:
        """One flow per ingested job (the latest event of a job states its reads and writes; a FAIL or ABORT
        event that names no dataset keeps what the job's earlier events said)."""
        latest: dict[tuple[str, str], Flow] = {}
        for event in self.events("in"):
            flow = flow_of(event)
            key = (flow.job_namespace, flow.job_name)
            if key in latest and not (flow.inputs or flow.outputs):
                continue
            latest[key] = flow
        return list(latest.values())

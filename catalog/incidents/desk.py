"""The one owner of `incidents` and `incident_events`: open, update, resolve and read incidents.

An incident is keyed by (product, cause): `check:<name>` for a failing error-severity check, `freshness` for a
missed SLA, `volume` for a row count outside what its history predicts. A monitor observation that finds the
cause failing again only moves `last_seen` and counts one more run affected; one that finds it passing resolves
the incident (`auto-resolved`); a later failure reopens the same incident, so there is one per (product, cause),
not one per run. Every change is one `incident_events` row (triggers make it append-only).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from catalog.access.identity import normalize_user
from catalog.access.policy import Policy
from catalog.descriptors.declared import DeclaredMesh
from catalog.errors import MeshError
from catalog.state.store import StateStore, utc_now

STATES = ("new", "acknowledged", "assigned", "resolved")
OPEN = ("new", "acknowledged", "assigned")
MONITOR = "meshwork-monitor"
_COLUMNS = ("id, product_id, cause, kind, summary, state, assignee, first_seen, last_seen, runs, reopened, "
            "resolved_at, resolved_by")
SCHEMA = {"id": pl.Int64, "product_id": pl.String, "cause": pl.String, "kind": pl.String, "summary": pl.String,
          "state": pl.String, "assignee": pl.String, "first_seen": pl.String, "last_seen": pl.String,
          "runs": pl.Int64, "reopened": pl.Int64, "resolved_at": pl.String, "resolved_by": pl.String}
EVENT_SCHEMA = {"id": pl.Int64, "ts": pl.String, "incident_id": pl.Int64, "actor": pl.String, "action": pl.String,
                "from_state": pl.String, "to_state": pl.String, "assignee": pl.String, "note": pl.String}

Authorize = Callable[[str | None, str, str | None, str], str]
"""(user, product_id, current assignee, verb) -> the acting user; raises AccessDenied (and audits it)."""


@dataclass(frozen=True)
class Finding:
    """One failing cause of one product, as a monitor pass found it."""

    cause: str
    kind: str  # "check" | "freshness" | "volume"
    summary: str


@dataclass(frozen=True)
class Transition:
    """What an observation or a person did to an incident: what notifications are made of."""

    incident_id: int
    product_id: str
    cause: str
    action: str  # opened | reopened | auto-resolved | acknowledged | assigned | annotated | resolved
    state: str
    summary: str
    actor: str
    assignee: str | None = None
    note: str | None = None


def _as_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(SCHEMA, row))


class IncidentDesk:
    """Incidents of one mesh: `observe` (the monitor), `acknowledge`/`assign`/`annotate`/`resolve` (people,
    authorized by `authorize`), `incidents`/`history`/`upstream`/`stats` (reads)."""

    def __init__(self, mesh: DeclaredMesh, state: StateStore, authorize: Authorize,
                 now: Callable[[], str] | None = None):
        self.mesh = mesh
        self.state = state
        self.authorize = authorize
        self.now = now or utc_now

    # ------------------------------------------------------------------ the monitor's observations

    def default_assignee(self, product_id: str) -> str | None:
        product = self.mesh.products.get(product_id)
        if product is not None and normalize_user(product.owner):
            return normalize_user(product.owner)
        domain = self.mesh.domains.get(product.domain) if product else None
        return normalize_user(domain.owner) if domain else None

    def observe(self, observations: dict[str, list[Finding]], ts: str | None = None) -> list[Transition]:
        """Record one monitor pass: product -> the causes failing now (an empty list: all pass). Opens, counts,
        reopens and auto-resolves in one transaction; returns what changed state (not the mere recounts)."""
        ts = ts or self.now()
        out: list[Transition] = []
        if not observations:
            return out
        with self.state.transaction() as con:
            latest: dict[tuple[str, str], tuple[Any, ...]] = {}
            open_products = {r[0] for r in con.execute("SELECT DISTINCT product_id FROM incidents WHERE state != 'resolved'")}
            wanted = [p for p, found in observations.items() if found or p in open_products]
            for chunk in range(0, len(wanted), 500):
                part = wanted[chunk:chunk + 500]
                marks = ",".join("?" * len(part))
                for row in con.execute(f"SELECT {_COLUMNS} FROM incidents WHERE product_id IN ({marks}) ORDER BY id",
                                       part):
                    latest[(row[1], row[2])] = row  # the newest incident of each (product, cause)
            for product_id in wanted:
                failing = {f.cause: f for f in observations[product_id]}
                for cause, finding in failing.items():
                    row = latest.get((product_id, cause))
                    if row is None:
                        assignee = self.default_assignee(product_id)
                        cursor = con.execute(
                            "INSERT INTO incidents (product_id, cause, kind, summary, state, assignee, first_seen, "
                            "last_seen, runs) VALUES (?,?,?,?,'new',?,?,?,1)",
                            (product_id, cause, finding.kind, finding.summary, assignee, ts, ts))
                        incident = int(cursor.lastrowid)
                        self._event(con, ts, incident, MONITOR, "opened", None, "new", assignee, finding.summary)
                        out.append(Transition(incident, product_id, cause, "opened", "new", finding.summary,
                                              MONITOR, assignee))
                    elif row[5] == "resolved":
                        con.execute("UPDATE incidents SET state = 'new', summary = ?, last_seen = ?, runs = runs + 1, "
                                    "reopened = reopened + 1, resolved_at = NULL, resolved_by = NULL WHERE id = ?",
                                    (finding.summary, ts, row[0]))
                        self._event(con, ts, row[0], MONITOR, "reopened", "resolved", "new", row[6], finding.summary)
                        out.append(Transition(row[0], product_id, cause, "reopened", "new", finding.summary,
                                              MONITOR, row[6]))
                    else:
                        con.execute("UPDATE incidents SET summary = ?, last_seen = ?, runs = runs + 1 WHERE id = ?",
                                    (finding.summary, ts, row[0]))
                for (pid, cause), row in latest.items():
                    if pid == product_id and cause not in failing and row[5] != "resolved":
                        con.execute("UPDATE incidents SET state = 'resolved', resolved_at = ?, resolved_by = ? "
                                    "WHERE id = ?", (ts, MONITOR, row[0]))
                        note = "the cause passes again"
                        self._event(con, ts, row[0], MONITOR, "auto-resolved", row[5], "resolved", row[6], note)
                        out.append(Transition(row[0], pid, cause, "auto-resolved", "resolved", row[4], MONITOR,
                                              row[6], note))
        return out

    @staticmethod
    def _event(con: Any, ts: str, incident_id: int, actor: str, action: str, from_state: str | None,
               to_state: str | None, assignee: str | None, note: str | None) -> None:
        con.execute("INSERT INTO incident_events (ts, incident_id, actor, action, from_state, to_state, assignee, note) "
                    "VALUES (?,?,?,?,?,?,?,?)", (ts, incident_id, actor, action, from_state, to_state, assignee, note))

    # ------------------------------------------------------------------ people

    def get(self, incident_id: int) -> dict[str, Any]:
        rows = self.state.query(f"SELECT {_COLUMNS} FROM incidents WHERE id = ?", (int(incident_id),))
        if not rows:
            raise MeshError(f"no incident #{incident_id}; `meshwork incidents list MESH` shows them")
        return _as_dict(rows[0])

    def _change(self, incident_id: int, user: str | None, verb: str, action: str, allowed_from: Iterable[str],
                to_state: str | None, assignee: str | None = None, note: str | None = None) -> Transition:
        incident = self.get(incident_id)
        who = self.authorize(user, incident["product_id"], incident["assignee"], verb)
        if incident["state"] not in allowed_from:
            raise MeshError(f"incident #{incident_id} is {incident['state']}: it cannot be {action} "
                            f"(only a {' or '.join(allowed_from)} incident can)")
        ts = self.now()
        new_state = to_state or incident["state"]
        new_assignee = assignee if assignee is not None else incident["assignee"]
        with self.state.transaction() as con:
            if to_state == "resolved":
                con.execute("UPDATE incidents SET state = 'resolved', resolved_at = ?, resolved_by = ? WHERE id = ?",
                            (ts, who, incident_id))
            else:
                con.execute("UPDATE incidents SET state = ?, assignee = ? WHERE id = ?",
                            (new_state, new_assignee, incident_id))
            self._event(con, ts, incident_id, who, action, incident["state"], new_state, new_assignee, note)
        return Transition(incident_id, incident["product_id"], incident["cause"], action, new_state,
                          incident["summary"], who, new_assignee, note)

    def acknowledge(self, incident_id: int, user: str | None, note: str | None = None) -> Transition:
        return self._change(incident_id, user, "acknowledge", "acknowledged", ("new",), "acknowledged", note=note)

    def assign(self, incident_id: int, user: str | None, assignee: str, note: str | None = None) -> Transition:
        name = normalize_user(assignee)
        if not name or "@" not in name:
            raise MeshError(f"assign to a person's e-mail address, not {assignee!r}")
        return self._change(incident_id, user, "assign", "assigned", OPEN, "assigned", assignee=name, note=note)

    def annotate(self, incident_id: int, user: str | None, note: str) -> Transition:
        if not note or not note.strip():
            raise MeshError("a note needs some text")
        return self._change(incident_id, user, "annotate", "annotated", STATES, None, note=note.strip())

    def resolve(self, incident_id: int, user: str | None, note: str | None = None) -> Transition:
        return self._change(incident_id, user, "resolve", "resolved", OPEN, "resolved", note=note)

    # ------------------------------------------------------------------ reads

    def incidents(self, state: str | Iterable[str] | None = None, product_ids: Iterable[str] | None = None,
                  assignee: str | None = None, domain: str | None = None,
                  policy: Policy | None = None) -> pl.DataFrame:
        """Incidents, newest first, with their domain and owner; only products `policy`'s viewer sees in full.
        `state` is one state, several, or "open" (new, acknowledged, assigned)."""
        states = OPEN if state == "open" else (state,) if isinstance(state, str) else tuple(state or ())
        bad = [s for s in states if s not in STATES]
        if bad:
            raise MeshError(f"unknown incident state {bad[0]!r}; choose from open, {', '.join(STATES)}")
        clauses, params = [], []
        if states:
            clauses.append(f"state IN ({','.join('?' * len(states))})")
            params += list(states)
        if assignee:
            clauses.append("assignee = ?")
            params.append(normalize_user(assignee))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        frame = self.state.frame(f"SELECT {_COLUMNS} FROM incidents {where} ORDER BY last_seen DESC, id DESC",
                                 tuple(params), schema=SCHEMA)
        wanted = set(product_ids) if product_ids is not None else None
        keep = [pid for pid in frame["product_id"].unique().to_list()
                if pid in self.mesh.products and (wanted is None or pid in wanted)
                and (domain is None or self.mesh.products[pid].domain == domain)
                and (policy is None or policy.can_see(pid))]
        frame = frame.filter(pl.col("product_id").is_in(keep))
        return frame.with_columns(
            pl.col("product_id").replace_strict({p: self.mesh.products[p].domain for p in keep}, default=None,
                                                return_dtype=pl.String).alias("domain"),
            pl.col("product_id").replace_strict({p: self.mesh.products[p].owner for p in keep}, default=None,
                                                return_dtype=pl.String).alias("owner"))

    def history(self, incident_id: int) -> pl.DataFrame:
        """Every transition of one incident, oldest first: who, what, from which state to which, and notes."""
        self.get(incident_id)
        return self.state.frame("SELECT id, ts, incident_id, actor, action, from_state, to_state, assignee, note "
                                "FROM incident_events WHERE incident_id = ? ORDER BY id", (int(incident_id),),
                                schema=EVENT_SCHEMA)

    def stats(self, since: str | None = None) -> dict[str, dict[str, Any]]:
        """Product -> open incidents and mean time to resolve in hours: from each opening (or reopening) to the
        resolution that followed it, over resolutions since `since` (every one by default)."""
        out: dict[str, dict[str, Any]] = {}
        started: dict[int, str] = {}
        for pid, state, incident, ts, action in self.state.query(
                "SELECT i.product_id, i.state, e.incident_id, e.ts, e.action FROM incident_events e "
                "JOIN incidents i ON i.id = e.incident_id ORDER BY e.id"):
            entry = out.setdefault(pid, {"open": set(), "resolved": 0, "hours": 0.0})
            if state != "resolved":
                entry["open"].add(incident)
            if action in ("opened", "reopened"):
                started[incident] = ts
            elif action in ("resolved", "auto-resolved") and incident in started:
                began = started.pop(incident)
                if since is None or ts >= since:
                    entry["resolved"] += 1
                    entry["hours"] += (datetime.fromisoformat(ts) - datetime.fromisoformat(began)).total_seconds() / 3600
        return {pid: {"open_incidents": len(e["open"]),
                      "mttr_hours": round(e["hours"] / e["resolved"], 3) if e["resolved"] else None}
                for pid, e in out.items()}

"""Glossary proposals: a new term, or a change to one, that a steward approves or rejects.

Anyone identified proposes; the term's steward (or a mesh steward), never the proposer, decides. An approved
proposal is written into the term's `glossary/*.yaml` file through the one YAML writer (atomic), so the
glossary stays code a person reviews in git. Every proposal, decision and refusal is one audit-log row.
`GlossaryDesk` is the one owner of `glossary_proposals`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import networkx as nx
import polars as pl
from pydantic import ValidationError

from catalog.access.identity import ANONYMOUS, normalize_user
from catalog.access.decisions import DecisionLog
from catalog.access.ledger import AccessLedger
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.loader import GLOSSARY_FOLDER
from catalog.descriptors.model import Term
from catalog.descriptors.yamlio import dump_yaml, read_yaml, write_atomic
from catalog.errors import AccessDenied, MeshError
from catalog.text import check_text

PROPOSAL_SCHEMA = {"id": pl.Int64, "ts": pl.String, "proposer": pl.String, "term_id": pl.String,
                   "change": pl.String, "body": pl.String, "reason": pl.String, "status": pl.String,
                   "decided_by": pl.String, "decided_at": pl.String, "decision": pl.String}
Authorize = Callable[..., str]  # authority.check_term_decision, bound to the mesh and the ledger


class ProposalError(MeshError):
    """A proposal that cannot be filed or decided; the message says why and what to do."""


@dataclass(frozen=True)
class Proposal:
    id: int
    ts: str
    proposer: str
    term_id: str
    change: str  # "new" or "change"
    body: str  # the proposed term, JSON
    reason: str | None
    status: str  # pending, approved, rejected
    decided_by: str | None = None
    decided_at: str | None = None
    decision: str | None = None

    @property
    def term(self) -> Term:
        return Term.model_validate(json.loads(self.body))


class GlossaryDesk:
    """Propose, approve and reject glossary terms for one mesh (`authorize` is the write authority)."""

    def __init__(self, mesh: DeclaredMesh, ledger: AccessLedger, authorize: Authorize):
        self.mesh = mesh
        self.ledger = ledger
        self.state = ledger.state
        self.authorize = authorize
        self.log = DecisionLog(ledger, kind="term")  # every refusal and decision: one audit row

    # ------------------------------------------------------------------ propose

    def propose(self, user: str | None, fields: dict[str, Any] | Term, reason: str = "") -> Proposal:
        """File a new term or a change to one (same `id`); refused, on record and with nothing filed, when the
        term does not validate, names unknown related terms or would close a cycle of related terms."""
        actor = normalize_user(user) or ANONYMOUS
        action = "glossary.propose"
        if actor == ANONYMOUS:
            raise self.log.refuse(AccessDenied, actor, action, "Sign in first: a glossary proposal needs to know who "
                               "proposes it (--user or MESHWORK_USER).")
        try:
            proposed = fields if isinstance(fields, Term) else Term.model_validate(dict(fields))
            reason = check_text(reason, "reason", 2000)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'term'}: "
                                 f"{str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors())
            raise self.log.refuse(ProposalError, actor, action,
                                  f"The proposed term is not valid: {problems}.") from None
        except MeshError as exc:
            raise self.log.refuse(ProposalError, actor, action, str(exc)) from None
        subject = f"term:{proposed.id}"
        unknown = [r for r in proposed.related if r not in self.mesh.terms]
        if unknown:
            raise self.log.refuse(ProposalError, actor, action, f"{proposed.id} names related term(s) "
                               f"{', '.join(unknown)}, which the glossary does not define; propose them first.",
                               subject=subject)
        cycle = self._cycle_with(proposed)
        if cycle:
            raise self.log.refuse(ProposalError, actor, action, f"{proposed.id} would make related terms a cycle: "
                               f"{' -> '.join(cycle + [cycle[0]])}.", subject=subject)
        existing = self.mesh.terms.get(proposed.id)
        if existing is not None and existing == proposed:
            raise self.log.refuse(ProposalError, actor, action, f"{proposed.id} already reads exactly like this; "
                               "nothing to propose.", subject=subject)
        pending = self.state.query("SELECT id FROM glossary_proposals WHERE term_id=? AND status='pending'",
                                   (proposed.id,))
        if pending:
            raise self.log.refuse(ProposalError, actor, action, f"Proposal #{pending[0][0]} for {proposed.id} is still "
                               "pending; its steward decides on it first.", subject=subject)
        change = "new" if existing is None else "change"
        body = json.dumps(proposed.model_dump(mode="json"), sort_keys=True)
        with self.state.transaction() as con:
            cursor = con.execute("INSERT INTO glossary_proposals (ts, proposer, term_id, change, body, reason, status)"
                                 " VALUES (?,?,?,?,?,?, 'pending')",
                                 (self.ledger.now(), actor, proposed.id, change, body, reason or None))
            proposal_id = int(cursor.lastrowid or 0)
        self.log.record(actor, action, subject=subject,
                        reason=f"proposal #{proposal_id} ({change}){': ' + reason if reason else ''}")
        return self.get(proposal_id)

    def _cycle_with(self, proposed: Term) -> list[str] | None:
        graph = nx.DiGraph()
        for t in {**self.mesh.terms, proposed.id: proposed}.values():
            graph.add_node(t.id)
            graph.add_edges_from((t.id, r) for r in t.related)
        try:
            return [u for u, _ in nx.find_cycle(graph, proposed.id)]
        except nx.NetworkXNoCycle:
            return None

    # ------------------------------------------------------------------ read

    def get(self, proposal_id: int) -> Proposal:
        rows = self.state.query(f"SELECT {', '.join(PROPOSAL_SCHEMA)} FROM glossary_proposals WHERE id=?",
                                (int(proposal_id),))
        if not rows:
            raise ProposalError(f"There is no glossary proposal #{proposal_id} in mesh {self.mesh.name!r}.")
        return Proposal(*rows[0])

    def proposals(self, status: str | None = None, term_id: str | None = None) -> pl.DataFrame:
        """Proposals, newest first, optionally of one status or one term."""
        clauses, params = [], []
        for column, value in (("status", status), ("term_id", term_id)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return self.state.frame(f"SELECT {', '.join(PROPOSAL_SCHEMA)} FROM glossary_proposals {where} "
                                "ORDER BY id DESC", tuple(params), PROPOSAL_SCHEMA)

    def history(self, term_id: str) -> pl.DataFrame:
        """What happened to one term, oldest first: ts, actor, action, outcome, reason (from the audit log)."""
        frame = self.ledger.audit()
        return (frame.filter(pl.col("subject") == f"term:{term_id}")
                .select("ts", "actor", "action", "outcome", "reason"))

    # ------------------------------------------------------------------ decide

    def approve(self, proposal_id: int, user: str | None, note: str = "") -> Term:
        """Approve a pending proposal: the term is written into its glossary file and is in force."""
        proposal = self._decidable(proposal_id, user, "glossary.approve")
        who = normalize_user(user) or ANONYMOUS
        proposed = proposal.term
        if proposed.status == "draft":
            proposed = proposed.model_copy(update={"status": "approved"})
        path = self._write(proposed)
        with self.state.transaction() as con:
            updated = con.execute("UPDATE glossary_proposals SET status='approved', decided_by=?, decided_at=?, "
                                  "decision=? WHERE id=? AND status='pending'",
                                  (who, self.ledger.now(), note or None, proposal.id)).rowcount
            if not updated:
                raise ProposalError(f"Proposal #{proposal.id} was decided by someone else a moment ago.")
        self.mesh.terms[proposed.id] = proposed
        self.mesh.term_files[proposed.id] = path
        self.log.record(who, "glossary.approve", subject=f"term:{proposed.id}",
                        reason=f"proposal #{proposal.id} ({proposal.change}) by {proposal.proposer}, written to "
                               f"{path.relative_to(self.mesh.root)}{': ' + note if note else ''}")
        return proposed

    def reject(self, proposal_id: int, user: str | None, reason: str) -> Proposal:
        """Reject a pending proposal with a reason the proposer reads; nothing is written to the glossary."""
        proposal = self._decidable(proposal_id, user, "glossary.reject")
        who = normalize_user(user) or ANONYMOUS
        try:
            reason = check_text(reason, "reason", 2000)
        except MeshError as exc:
            raise self.log.refuse(ProposalError, who, "glossary.reject", str(exc),
                               subject=f"term:{proposal.term_id}") from None
        if not reason:
            raise self.log.refuse(ProposalError, who, "glossary.reject", "Give the proposer a reason for the "
                               "rejection.", subject=f"term:{proposal.term_id}")
        with self.state.transaction() as con:
            con.execute("UPDATE glossary_proposals SET status='rejected', decided_by=?, decided_at=?, decision=? "
                        "WHERE id=? AND status='pending'", (who, self.ledger.now(), reason, proposal.id))
        self.log.record(who, "glossary.reject", subject=f"term:{proposal.term_id}",
                        reason=f"proposal #{proposal.id}: {reason}")
        return self.get(proposal.id)

    def _decidable(self, proposal_id: int, user: str | None, action: str) -> Proposal:
        who = normalize_user(user) or ANONYMOUS
        try:
            proposal = self.get(proposal_id)
        except ProposalError as exc:
            raise self.log.refuse(ProposalError, who, action, str(exc)) from None
        current = self.mesh.terms.get(proposal.term_id)
        steward = current.steward if current is not None else proposal.term.steward
        self.authorize(user, proposal.term_id, steward, proposal.proposer, action)
        if proposal.status != "pending":
            raise self.log.refuse(ProposalError, who, action, f"Proposal #{proposal.id} is already {proposal.status}.",
                               subject=f"term:{proposal.term_id}")
        return proposal

    def _write(self, proposed: Term) -> Path:
        """Replace (or append) the term in the file that declares it (a new term: glossary/<mesh>.yaml)."""
        path = self.mesh.term_files.get(proposed.id) or self.mesh.root / GLOSSARY_FOLDER / f"{self.mesh.name}.yaml"
        data: dict[str, Any] = {"terms": []}
        if path.is_file():
            loaded = read_yaml(path).data
            data = loaded if isinstance(loaded, dict) else data
        terms = list(data.get("terms") or [])
        body = _term_dict(proposed)
        for i, raw in enumerate(terms):
            if isinstance(raw, dict) and _raw_id(raw) == proposed.id:
                terms[i] = body
                break
        else:
            terms.append(body)
        data["terms"] = terms
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, dump_yaml(data))
        return path



def _raw_id(raw: dict[str, Any]) -> str | None:
    """The id a glossary file's entry declares (or its name gives), without validating the rest of it."""
    try:
        return Term.model_validate({"name": raw.get("name") or "x", "definition": "x", "id": raw.get("id") or ""}).id
    except ValidationError:
        return None


def _term_dict(t: Term) -> dict[str, Any]:
    """A term as the glossary files write it: empty lists left out, key order as a person reads it."""
    out: dict[str, Any] = {"id": t.id, "name": t.name, "definition": t.definition}
    for key in ("synonyms", "abbreviations", "related"):
        if getattr(t, key):
            out[key] = list(getattr(t, key))
    if t.steward:
        out["steward"] = t.steward
    out["status"] = t.status
    return out

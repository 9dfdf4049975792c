"""Grants with an expiry, the owners who may decide on them, and the append-only audit log.

A consumer asks for access to a restricted product (kind `access`) or to its personal data unmasked (kind
`pii`) with an access agreement (catalog.access.agreements): the agreement is the only way a request becomes a
grant. An active agreement holds a grant here, which governed sessions pick up on their next query and drop at
expiry or when the agreement ends. Every decision, use of a grant and refusal is one row of `audit_log`, which
no code path updates or deletes (and SQLite triggers refuse to). The older `access_requests` table stays in
the migrations for history; nothing writes or reads it any more.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Literal

import polars as pl

from catalog.access.identity import ANONYMOUS, normalize_user
from catalog.descriptors.declared import DeclaredMesh
from catalog.errors import MeshError
from catalog.state.store import StateStore, iso
from catalog.text import csv_row
from catalog.numbers import moment_text

GrantKind = Literal["access", "pii"]
GRANT_KINDS: tuple[str, ...] = ("access", "pii")
MIN_PURPOSE = 10

AUDIT_SCHEMA = {"id": pl.Int64, "ts": pl.String, "actor": pl.String, "action": pl.String, "outcome": pl.String,
                "product_id": pl.String, "kind": pl.String, "subject": pl.String, "role": pl.String,
                "reason": pl.String, "request_id": pl.Int64, "grant_id": pl.Int64, "query_id": pl.String}
GRANT_SCHEMA = {"id": pl.Int64, "request_id": pl.Int64, "user": pl.String, "product_id": pl.String,
                "kind": pl.String, "granted_by": pl.String, "granted_at": pl.String, "expires_at": pl.String,
                "revoked_by": pl.String, "revoked_at": pl.String, "status": pl.String}


def matching(*conditions: tuple[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """The WHERE clause of the `(sql, value)` conditions whose value is given, each `?` of a condition taking
    its value, with the parameters: how the ledger's and the agreement desk's listings filter."""
    given = [(sql, value) for sql, value in conditions if value]
    return (" AND ".join(sql for sql, _ in given) or "1 = 1",
            tuple(value for sql, value in given for _ in range(sql.count("?"))))


@dataclass(frozen=True)
class Grant:
    id: int
    request_id: int | None
    user: str
    product_id: str
    kind: str
    granted_by: str
    granted_at: str
    expires_at: str
    revoked_by: str | None = None
    revoked_at: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.product_id, self.kind)


class AccessLedger:
    """Grants and the audit log over the mesh's state store (the one owner of grants, audit_log and the
    no longer written access_requests); `clock` is injectable for tests, and the agreement desk reads it too."""

    def __init__(self, mesh: DeclaredMesh, state: StateStore, clock: Callable[[], datetime] | None = None):
        self.mesh = mesh
        self.state = state
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(timezone.utc))

    def now(self) -> str:
        return iso(self.clock())

    # ---------------------------------------------------------------- owners

    def owners_of(self, product_id: str) -> set[str]:
        """Who may decide on a product's requests: its owner and its domain's owner."""
        product = self.mesh.product(product_id)
        domain = self.mesh.domains.get(product.domain)
        names = [product.owner, domain.owner if domain else None]
        return {n for n in (normalize_user(x) for x in names) if n}

    def owned_by(self, user: str | None) -> list[str]:
        name = normalize_user(user)
        return sorted(pid for pid in self.mesh.products if name and name in self.owners_of(pid))

    # ---------------------------------------------------------------- audit

    def _audit(self, con: Any, actor: str, action: str, outcome: str, *, product_id: str | None = None,
               kind: str | None = None, subject: str | None = None, role: str | None = None,
               reason: str | None = None, request_id: int | None = None, grant_id: int | None = None,
               query_id: str | None = None) -> None:
        con.execute("INSERT INTO audit_log (ts, actor, action, outcome, product_id, kind, subject, role, reason, "
                    "request_id, grant_id, query_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (self.now(), actor, action, outcome, product_id, kind, subject, role, reason, request_id,
                     grant_id, query_id))

    def audit_refusal(self, actor: str | None, action: str, reason: str, **fields: Any) -> None:
        """Record a refusal (the caller raises the error the user sees)."""
        with self.state.transaction() as con:
            self._audit(con, normalize_user(actor) or ANONYMOUS, action, "refused", reason=reason, **fields)

    def record(self, actor: str | None, action: str, outcome: str = "ok", **fields: Any) -> None:
        """One audit row for a decision another module owns (a glossary proposal, an agreement's transition)."""
        with self.state.transaction() as con:
            self._audit(con, normalize_user(actor) or ANONYMOUS, action, outcome, **fields)

    def audit(self, product_id: str | None = None, actor: str | None = None) -> pl.DataFrame:
        """The audit log, oldest first: who did what, when, to which product, with what outcome and why."""
        where, params = matching(("product_id = ?", product_id),
                                 ("(actor = ? OR subject = ?)", actor and (normalize_user(actor) or actor)))
        return self.state.frame(f"SELECT {', '.join(AUDIT_SCHEMA)} FROM audit_log WHERE {where} ORDER BY id",
                                params, AUDIT_SCHEMA)

    def audit_csv(self, product_id: str | None = None) -> str:
        """The audit log as CSV text (header row first), for export and for auditors' tools."""
        frame = self.audit(product_id)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(frame.columns)
        writer.writerows(csv_row(row) for row in frame.iter_rows())
        return out.getvalue()

    # ---------------------------------------------------------------- grants an agreement holds

    def issue_grant(self, user: str, product_id: str, kind: str, granted_by: str, expires_at: str,
                    agreement_id: int) -> Grant:
        """The grant an active access agreement holds (catalog.access.agreements): the policy reads it like any
        other, so an agreement opens nothing the grants would not."""
        if kind not in GRANT_KINDS:
            raise MeshError(f"unknown grant kind {kind!r}")
        with self.state.transaction() as con:
            cursor = con.execute("INSERT INTO grants (request_id, user, product_id, kind, granted_by, granted_at, "
                                 "expires_at) VALUES (NULL,?,?,?,?,?,?)",
                                 (user, product_id, kind, granted_by, self.now(), expires_at))
            grant_id = int(cursor.lastrowid or 0)
            self._audit(con, granted_by, "grant.issue", "ok", product_id=product_id, kind=kind, subject=user,
                        reason=f"agreement #{agreement_id}, until {expires_at}", grant_id=grant_id)
        return self.get_grant(grant_id)

    def extend_grant(self, grant_id: int, expires_at: str, by: str, agreement_id: int) -> Grant:
        """A renewed agreement's grant runs to the new expiry."""
        grant = self.get_grant(grant_id)
        with self.state.transaction() as con:
            con.execute("UPDATE grants SET expires_at=? WHERE id=? AND revoked_at IS NULL", (expires_at, grant.id))
            self._audit(con, by, "grant.extend", "ok", product_id=grant.product_id, kind=grant.kind,
                        subject=grant.user, reason=f"agreement #{agreement_id}, until {expires_at}", grant_id=grant.id)
        return self.get_grant(grant.id)

    def end_grant(self, grant_id: int, by: str, agreement_id: int, reason: str) -> Grant:
        """End an agreement's grant now (the agreement was revoked); who may do so is the agreement's to decide."""
        grant = self.get_grant(grant_id)
        with self.state.transaction() as con:
            con.execute("UPDATE grants SET revoked_by=?, revoked_at=? WHERE id=? AND revoked_at IS NULL",
                        (by, self.now(), grant.id))
            self._audit(con, by, "grant.end", "ok", product_id=grant.product_id, kind=grant.kind, subject=grant.user,
                        reason=f"agreement #{agreement_id}: {reason}", grant_id=grant.id)
        return self.get_grant(grant.id)

    def expire_grant(self, con: Any, grant: Grant, at: str, by: str, agreement_id: int) -> None:
        """An agreement's grant ends at `at` (its agreement expired, possibly early): the policy then reads it as
        lapsed, like any grant past its expiry. Written on `con`, the agreement's own transaction, so the grant
        and its agreement end together or not at all."""
        con.execute("UPDATE grants SET expires_at=? WHERE id=? AND revoked_at IS NULL AND expires_at > ?",
                    (at, grant.id, at))
        self._audit(con, by, "grant.expire", "ok", product_id=grant.product_id, kind=grant.kind,
                    subject=grant.user, reason=f"agreement #{agreement_id}, expired at {at}", grant_id=grant.id)

    # ---------------------------------------------------------------- grants

    def get_grant(self, grant_id: int) -> Grant:
        rows = self.state.query(f"SELECT {', '.join(list(GRANT_SCHEMA)[:-1])} FROM grants WHERE id = ?",
                                     (int(grant_id),))
        if not rows:
            raise MeshError(f"There is no grant #{grant_id} in mesh {self.mesh.name!r}.")
        return Grant(*rows[0])

    def active_grants(self, user: str | None) -> list[Grant]:
        """Grants in force for this user right now (not expired, not revoked)."""
        name = normalize_user(user)
        if not name:
            return []
        rows = self.state.query(f"SELECT {', '.join(list(GRANT_SCHEMA)[:-1])} FROM grants WHERE user = ? "
                                     "AND revoked_at IS NULL AND expires_at > ? ORDER BY expires_at DESC",
                                     (name, self.now()))
        return [Grant(*row) for row in rows]

    def grants(self, user: str | None = None, product_id: str | None = None) -> pl.DataFrame:
        """Every grant (newest first) with its status now: active, expired or revoked."""
        where, params = matching(("user = ?", user and (normalize_user(user) or user)), ("product_id = ?", product_id))
        now = self.now()
        return self.state.frame(
            f"SELECT {', '.join(list(GRANT_SCHEMA)[:-1])}, CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN "
            f"expires_at <= ? THEN 'expired' ELSE 'active' END AS status FROM grants WHERE {where} ORDER BY id DESC",
            (now, *params), GRANT_SCHEMA)

    def live_grants(self, user: str | None) -> frozenset[tuple[str, str]]:
        """(product, kind) pairs of this user's grants in force on products that are not broken; which of them
        change what a role sees is the policy's to decide (`Viewers.effective_grants`)."""
        out = set()
        for grant in self.active_grants(user):
            product = self.mesh.products.get(grant.product_id)
            if product is not None and not product.broken:
                out.add(grant.key)
        return frozenset(out)

    def lapsed(self, user: str | None) -> dict[tuple[str, str], Grant]:
        """(product, kind) -> the latest ended (expired or revoked) grant, where no grant of that kind is in force."""
        name = normalize_user(user)
        if not name:
            return {}
        active = {g.key for g in self.active_grants(name)}
        rows = self.state.query(f"SELECT {', '.join(list(GRANT_SCHEMA)[:-1])} FROM grants WHERE user = ? "
                                     "AND (revoked_at IS NOT NULL OR expires_at <= ?) ORDER BY id",
                                     (name, self.now()))
        return {g.key: g for g in (Grant(*r) for r in rows) if g.key not in active}

    # ---------------------------------------------------------------- governed queries

    def refuse_lapsed(self, user: str | None, role: str, refused: list[tuple[str, Grant]],
                      masked: list[tuple[str, Grant]]) -> list[str]:
        """Record, in one transaction, a query's reliance on ended grants: `refused` products it may not read any
        more, `masked` ones whose personal data runs masked again. Returns the reasons, refusals first."""
        actor = normalize_user(user) or ANONYMOUS
        reasons = []
        with self.state.transaction() as con:
            for pid, grant in [*refused, *masked]:
                how = (f"was revoked at {moment_text(grant.revoked_at)}" if grant.revoked_at
                       else f"expired at {moment_text(grant.expires_at)}")
                effect = (f"so the role {role!r} may not read {pid} any more" if (pid, grant) in refused
                          else "so its personal data is masked again")
                reason = f"Your {grant.kind} grant #{grant.id} on {pid} {how}, {effect}."
                reasons.append(reason)
                self._audit(con, actor, "grant.use", "refused", product_id=pid, kind=grant.kind, subject=actor,
                            role=role, reason=reason, grant_id=grant.id)
        return reasons

    def record_use(self, user: str, role: str, products: Iterable[str], grants: frozenset[tuple[str, str]],
                   query_id: str, status: str) -> None:
        """One audit row per grant a query relied on (the query read a product only the grant opened)."""
        relied = sorted(key for key in grants if key[0] in set(products))
        if not relied:
            return
        by_key = {g.key: g for g in self.active_grants(user)}
        with self.state.transaction() as con:
            for product_id, kind in relied:
                grant = by_key.get((product_id, kind))
                self._audit(con, normalize_user(user) or ANONYMOUS, "grant.use", "ok" if status == "ok" else status,
                            product_id=product_id, kind=kind, subject=normalize_user(user), role=role,
                            reason=f"the query relied on the {kind} grant", grant_id=grant.id if grant else None,
                            query_id=query_id)

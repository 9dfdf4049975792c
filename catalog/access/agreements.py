"""Access agreements: purpose-bound, time-bound access to one output port of a product.

A consumer (a person, or a person acting for a consuming product or domain) asks for a port of a product with
a purpose and a duration. The port's approval mode decides who approves: `auto` (unrestricted data: approved at
once), `owner` (the product's owner or its domain's owner), `owner+steward` (an owner and a mesh steward, in
either order). States:

    requested -> approved -> active -> expired (by the clock) | revoked (owner, steward or consumer)
    requested -> rejected (owner or steward) | cancelled (the consumer)
    active / expired -> active again when an owner renews it

An active agreement holds a grant in the access ledger, with the agreement's expiry; that grant is what the
one visibility policy reads, so an agreement never opens a second way in. Every transition, and every refusal,
is one audit-log row. `AgreementDesk` is the one owner of `agreements`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import polars as pl

from catalog.access.decisions import DecisionLog
from catalog.access.identity import ANONYMOUS, normalize_user
from catalog.access.ledger import GRANT_KINDS, MIN_PURPOSE, AccessLedger, iso, matching
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import NAME_RE, PRODUCT_ID_RE
from catalog.descriptors.ports import output_port, output_ports
from catalog.errors import AccessDenied, MeshError
from catalog.text import check_text
from catalog.numbers import moment_text

STATES = ("requested", "approved", "active", "expired", "revoked", "rejected", "cancelled")
MAX_DAYS = 366
REMIND_DAYS = 7
AUTO = "auto"  # the approver an `auto` port's agreements are approved by
AGREEMENT_SCHEMA = {"id": pl.Int64, "ts": pl.String, "requested_by": pl.String, "consumer": pl.String,
                    "consumer_kind": pl.String, "product_id": pl.String, "port": pl.String, "kind": pl.String,
                    "purpose": pl.String, "days": pl.Float64, "approval": pl.String, "status": pl.String,
                    "owner_approved_by": pl.String, "steward_approved_by": pl.String, "decided_by": pl.String,
                    "decided_at": pl.String, "reason": pl.String, "activated_at": pl.String,
                    "expires_at": pl.String, "grant_id": pl.Int64}
_COLUMNS = ", ".join(AGREEMENT_SCHEMA)


class AgreementError(MeshError):
    """An agreement request or transition that was refused; the message names the request or agreement."""


@dataclass(frozen=True)
class Agreement:
    id: int
    ts: str
    requested_by: str
    consumer: str
    consumer_kind: str  # person, product or domain
    product_id: str
    port: str
    kind: str  # access or pii: what the grant opens
    purpose: str
    days: float
    approval: str
    status: str  # as stored; `state` reads the clock
    owner_approved_by: str | None = None
    steward_approved_by: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    reason: str | None = None
    activated_at: str | None = None
    expires_at: str | None = None
    grant_id: int | None = None

    def state(self, now: str) -> str:
        """The status now: an active agreement past its expiry is expired."""
        if self.status == "active" and self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return self.status


class AgreementDesk:
    """Request, approve, reject, cancel, renew and revoke access agreements of one mesh.

    `is_steward(user)` is the write authority's answer (catalog.access.authority.is_steward); the clock is the
    ledger's, so a test moves both at once. `on_transition(action, agreement, actor, reason)` hears every
    transition once it is recorded (the facade turns them into notifications)."""

    def __init__(self, mesh: DeclaredMesh, ledger: AccessLedger, is_steward: Callable[[str], bool],
                 on_transition: Callable[[str, "Agreement", str, str], None] | None = None):
        self.mesh = mesh
        self.ledger = ledger
        self.state = ledger.state
        self.is_steward = is_steward
        self.on_transition = on_transition
        self.log = DecisionLog(ledger)  # every refusal and transition: one audit row

    def now(self) -> str:
        return self.ledger.now()

    # ------------------------------------------------------------------ request

    def request(self, user: str | None, product_id: str, port: str, purpose: str, days: float | None = None,
                *, until: datetime | str | None = None, kind: str = "access", consumer: str | None = None
                ) -> Agreement:
        """Ask for `port` of `product_id` for `days` (or `until` a moment), for a purpose. `consumer` is the
        requester (default), `product:<domain.name>` or `domain:<name>`. An `auto` port is approved and active at
        once. Refused, recorded and with nothing written, for an unknown product or port, a past expiry, a
        missing purpose or a duplicate."""
        actor = normalize_user(user) or ANONYMOUS
        ref = f"Agreement request by {actor} for {str(product_id)[:120]} port {str(port)[:60]!r}"
        fields = {"product_id": str(product_id)[:200], "kind": kind}

        def refuse(error: type[MeshError], why: str) -> MeshError:
            return self.log.refuse(error, actor, "agreement.request", f"{ref} refused: {why}", **fields)

        if actor == ANONYMOUS:
            raise refuse(AccessDenied, "sign in first; an agreement needs to know who asks.")
        try:
            purpose = check_text(purpose, "purpose", 2000)
        except MeshError as exc:
            raise refuse(AgreementError, str(exc)) from None
        product = self.mesh.products.get(product_id)
        if product is None:
            raise refuse(AgreementError, f"there is no product {product_id!r} in mesh {self.mesh.name!r}.")
        found = output_port(product, port)
        if found is None:
            names = ", ".join(p.name for p in output_ports(product))
            raise refuse(AgreementError, f"{product_id} has no output port {port!r}; its ports are: {names}.")
        if kind not in GRANT_KINDS:
            raise refuse(AgreementError, f"unknown kind {kind!r}; ask for 'access' or 'pii'.")
        if kind not in self.kinds(product_id):
            raise refuse(AgreementError, f"{product_id} has no personal-data columns, so there is nothing to unmask.")
        if len(purpose) < MIN_PURPOSE:
            raise refuse(AgreementError, f"say what you need it for (at least {MIN_PURPOSE} characters).")
        try:
            length = self._length(days, until)
        except MeshError as exc:
            raise refuse(AgreementError, str(exc)) from None
        try:
            consumer_kind, consumer_name = self._consumer(consumer, actor)
        except MeshError as exc:
            raise refuse(AgreementError, str(exc)) from None
        open_ = [a for a in self._rows("requested_by = ? AND product_id = ? AND port = ? AND kind = ?",
                                       (actor, product_id, port, kind))
                 if a.state(self.now()) in ("requested", "approved", "active")]
        if open_:
            raise refuse(AgreementError, f"agreement #{open_[0].id} for it is already {open_[0].state(self.now())}.")
        with self.state.transaction() as con:
            cursor = con.execute(
                "INSERT INTO agreements (ts, requested_by, consumer, consumer_kind, product_id, port, kind, purpose, "
                "days, approval, status) VALUES (?,?,?,?,?,?,?,?,?,?, 'requested')",
                (self.now(), actor, consumer_name, consumer_kind, product_id, port, kind, purpose, length,
                 found.approval))
            agreement_id = int(cursor.lastrowid or 0)
        self._record(actor, "agreement.request", self.get(agreement_id), purpose)
        if found.approval == AUTO:
            self._approve_and_activate(self.get(agreement_id), AUTO)
        return self.get(agreement_id)

    def kinds(self, product_id: str) -> list[str]:
        """What one may ask for on a product: to read its ports, and its personal data unmasked when it has any."""
        return ["access", "pii"] if self.mesh.products[product_id].pii_columns else ["access"]

    def consumers(self, user: str | None, product_id: str) -> list[str]:
        """Whom an agreement on `product_id` may be for, as `request(consumer=...)` takes them: the requester
        first, then each other product they own (`product:<id>`)."""
        who = normalize_user(user) or ANONYMOUS
        return [who, *(f"product:{pid}" for pid in self.ledger.owned_by(who) if pid != product_id)]

    def request_outcome(self, agreement: Agreement) -> str:
        """What the requester reads once the request is in: active at once (an `auto` port), or whom it waits for."""
        if agreement.status == "active":
            return (f"Agreement #{agreement.id} is active until {moment_text(agreement.expires_at)} "
                    "(approved automatically).")
        owners = ", ".join(sorted(self.ledger.owners_of(agreement.product_id)))
        return f"Agreement #{agreement.id} requested from {owners}" + (
            " and a steward." if agreement.approval == "owner+steward" else ".")

    def _length(self, days: float | None, until: datetime | str | None) -> float:
        """Days from now the agreement runs, from `days` or `until`; a past or endless expiry is refused."""
        if (days is None) == (until is None):
            raise MeshError("give the duration as days or an expiry date (one of them).")
        if until is not None:
            moment = until if isinstance(until, datetime) else _parse(str(until))
            if moment is None:
                raise MeshError(f"the expiry {until!s} is not a date (YYYY-MM-DD) or a time.")
            days = (moment - self.ledger.clock()).total_seconds() / 86400
            if days <= 0:
                raise MeshError(f"the expiry {until!s} is in the past; give a future date.")
        assert days is not None
        if days <= 0:
            raise MeshError(f"the duration must be positive, not {days:g} days.")
        if days > MAX_DAYS:
            raise MeshError(f"an agreement runs at most {MAX_DAYS} days; renew it when it ends.")
        return float(days)

    def _consumer(self, consumer: str | None, actor: str) -> tuple[str, str]:
        if consumer is None or normalize_user(consumer) == actor:
            return "person", actor
        kind, _, name = str(consumer).partition(":")
        if kind == "product" and PRODUCT_ID_RE.match(name) and name in self.mesh.products:
            return "product", name
        if kind == "domain" and NAME_RE.match(name) and name in self.mesh.domains:
            return "domain", name
        raise MeshError(f"the consumer {str(consumer)[:120]!r} is not you, product:<a product of this mesh> or "
                        "domain:<a domain of this mesh>.")

    # ------------------------------------------------------------------ read

    def get(self, agreement_id: int) -> Agreement:
        rows = self._rows("id = ?", (int(agreement_id),))
        if not rows:
            raise AgreementError(f"There is no agreement #{agreement_id} in mesh {self.mesh.name!r}.")
        return rows[0]

    def _rows(self, where: str, params: tuple[Any, ...]) -> list[Agreement]:
        return [Agreement(*row) for row in self.state.query(
            f"SELECT {_COLUMNS} FROM agreements WHERE {where} ORDER BY id DESC", params)]

    def agreements(self, product_id: str | None = None, user: str | None = None,
                   status: str | None = None) -> pl.DataFrame:
        """Agreements, newest first, with their status now (an active one past its expiry reads expired)."""
        rows = self._rows(*matching(("product_id = ?", product_id),
                                    ("requested_by = ?", user and (normalize_user(user) or user))))
        now = self.now()
        frame = pl.DataFrame([{**a.__dict__, "status": a.state(now)} for a in rows], schema=AGREEMENT_SCHEMA)
        return frame.filter(pl.col("status") == status) if status else frame

    def expiring(self, owner: str | None = None, within_days: float = REMIND_DAYS) -> pl.DataFrame:
        """Active agreements that end within `within_days` (the owners' reminder), soonest first; with `owner`,
        only on the products they may decide on."""
        now = self.ledger.clock()
        horizon = iso(now + timedelta(days=within_days))
        frame = self.agreements(status="active").filter(pl.col("expires_at") <= horizon)
        if owner is not None:
            frame = frame.filter(pl.col("product_id").is_in(self.ledger.owned_by(owner)))
        return frame.sort("expires_at")

    def to_decide(self, user: str | None) -> pl.DataFrame:
        """Requested agreements this person may approve now, newest first: as an owner of the product (not their
        own request), or as a steward of an `owner+steward` port whose steward approval is still missing."""
        who = normalize_user(user)
        if not who:
            return self.agreements(status="requested").clear()
        steward = self.is_steward(who)
        owned = set(self.ledger.owned_by(who))
        rows = [a for a in self._rows("status = 'requested'", ()) if a.requested_by != who and (
            (a.product_id in owned and a.owner_approved_by is None)
            or (a.approval == "owner+steward" and steward and a.steward_approved_by is None
                and a.owner_approved_by != who))]
        return pl.DataFrame([a.__dict__ for a in rows], schema=AGREEMENT_SCHEMA)

    def consumer_edges(self) -> list[tuple[str, str, int, str]]:
        """(provider, consuming product, agreement id, port) of every agreement a product holds now: the
        lineage graph's `agreement` edges."""
        return [(r["product_id"], r["consumer"], r["id"], r["port"])
                for r in self.agreements(status="active").filter(pl.col("consumer_kind") == "product")
                .iter_rows(named=True)]

    # ------------------------------------------------------------------ owners' and stewards' decisions

    def approve(self, agreement_id: int, user: str | None, days: float | None = None,
                until: datetime | str | None = None) -> Agreement:
        """An owner's (or, for `owner+steward`, a steward's) approval; once every approval it needs is in, the
        agreement is approved and active at once, holding a grant until its expiry. An owner may set a
        different length as they approve (`days` or `until`); the audit row names both."""
        who = normalize_user(user) or ANONYMOUS
        agreement = self._pending(agreement_id, who, "agreement.approve")
        owners = self.ledger.owners_of(agreement.product_id)
        as_owner = who in owners and agreement.owner_approved_by is None
        as_steward = (agreement.approval == "owner+steward" and self.is_steward(who)
                      and agreement.steward_approved_by is None and not as_owner)
        if (days is not None or until is not None) and as_owner:
            try:
                length = self._length(days, until)
            except MeshError as exc:
                raise self._refuse(agreement, AgreementError, who, "agreement.approve",
                                   f" not approved: {exc}") from None
            with self.state.transaction() as con:
                con.execute("UPDATE agreements SET days=? WHERE id=? AND status='requested'", (length, agreement.id))
            self._record(who, "agreement.change", self.get(agreement.id), f"{agreement.days:g} -> {length:g} days")
            agreement = self.get(agreement.id)
        if not as_owner and not as_steward:
            needed = "an owner" + (" and a steward" if agreement.approval == "owner+steward" else "")
            already = [n for n in (agreement.owner_approved_by, agreement.steward_approved_by) if n]
            raise self._refuse(agreement, AccessDenied, who, "agreement.approve",
                               f": {who} may not approve it; it needs {needed} of {agreement.product_id} "
                               f"({', '.join(sorted(owners)) or 'no owner declared'})"
                               + (f", and {', '.join(already)} approved already" if already else "") + ".")
        column = "owner_approved_by" if as_owner else "steward_approved_by"
        with self.state.transaction() as con:
            con.execute(f"UPDATE agreements SET {column}=? WHERE id=? AND status='requested'", (who, agreement.id))
        agreement = self.get(agreement.id)
        self._record(who, "agreement.approve", agreement, f"as {'owner' if as_owner else 'steward'}")
        if agreement.approval == "owner" or (agreement.owner_approved_by and agreement.steward_approved_by):
            self._approve_and_activate(agreement, who)
        return self.get(agreement.id)

    def _approve_and_activate(self, agreement: Agreement, by: str) -> None:
        now = self.now()
        with self.state.transaction() as con:
            con.execute("UPDATE agreements SET status='approved', decided_by=?, decided_at=? WHERE id=? "
                        "AND status='requested'", (by, now, agreement.id))
        self._record(by, "agreement.approved", self.get(agreement.id), f"approval {agreement.approval}")
        expires = iso(self.ledger.clock() + timedelta(days=agreement.days))
        grant = self.ledger.issue_grant(agreement.requested_by, agreement.product_id, agreement.kind, by, expires,
                                        agreement.id)
        with self.state.transaction() as con:
            con.execute("UPDATE agreements SET status='active', activated_at=?, expires_at=?, grant_id=? "
                        "WHERE id=? AND status='approved'", (self.now(), expires, grant.id, agreement.id))
        self._record(by, "agreement.activate", self.get(agreement.id), f"until {expires}, grant #{grant.id}")

    def reject(self, agreement_id: int, user: str | None, reason: str) -> Agreement:
        """An owner or steward rejects a requested agreement, with a reason the consumer reads."""
        who = normalize_user(user) or ANONYMOUS
        agreement = self._pending(agreement_id, who, "agreement.reject")
        reason = self._reason(reason, who, "agreement.reject", agreement)
        if who not in self.ledger.owners_of(agreement.product_id) and not self.is_steward(who):
            raise self._refuse(agreement, AccessDenied, who, "agreement.reject",
                               f": only an owner of {agreement.product_id} or a steward may reject it.")
        return self._end(agreement, who, "rejected", "agreement.reject", reason)

    def cancel(self, agreement_id: int, user: str | None, reason: str = "") -> Agreement:
        """The consumer withdraws a request nobody has decided on yet."""
        who = normalize_user(user) or ANONYMOUS
        agreement = self._pending(agreement_id, who, "agreement.cancel")
        if who != agreement.requested_by:
            raise self._refuse(agreement, AccessDenied, who, "agreement.cancel",
                               f": only {agreement.requested_by}, who asked for it, may cancel it.")
        return self._end(agreement, who, "cancelled", "agreement.cancel", reason.strip() or "cancelled by the consumer")

    def revoke(self, agreement_id: int, user: str | None, reason: str) -> Agreement:
        """End an active agreement now: an owner, a steward or the consumer; its grant ends with it."""
        who = normalize_user(user) or ANONYMOUS
        agreement = self._existing(agreement_id, who, "agreement.revoke")
        if agreement.state(self.now()) != "active":
            raise self._refuse(agreement, AgreementError, who, "agreement.revoke",
                               f" is {agreement.state(self.now())}, not active; there is nothing to revoke.")
        allowed = who == agreement.requested_by or who in self.ledger.owners_of(agreement.product_id) \
            or self.is_steward(who)
        if not allowed:
            raise self._refuse(agreement, AccessDenied, who, "agreement.revoke", f": only an owner of "
                               f"{agreement.product_id}, a steward or {agreement.requested_by} may revoke it.")
        reason = self._reason(reason, who, "agreement.revoke", agreement)
        if agreement.grant_id is not None:
            self.ledger.end_grant(agreement.grant_id, who, agreement.id, reason)
        return self._end(agreement, who, "revoked", "agreement.revoke", reason, current="active")

    def renew(self, agreement_id: int, user: str | None, days: float | None = None,
              until: datetime | str | None = None) -> Agreement:
        """An owner extends an active or expired agreement: it runs `days` more from its expiry (or from now, if
        it has expired), or until `until`; its grant follows."""
        who = normalize_user(user) or ANONYMOUS
        agreement = self._existing(agreement_id, who, "agreement.renew")
        state = agreement.state(self.now())
        if state not in ("active", "expired"):
            raise self._refuse(agreement, AgreementError, who, "agreement.renew",
                               f" is {state}; only an active or expired agreement can be renewed.")
        if who not in self.ledger.owners_of(agreement.product_id):
            raise self._refuse(agreement, AccessDenied, who, "agreement.renew",
                               f": only an owner of {agreement.product_id} may renew it.")
        try:
            length = self._length(days if days is not None or until is not None else agreement.days, until)
        except MeshError as exc:
            raise self._refuse(agreement, AgreementError, who, "agreement.renew", f" not renewed: {exc}") from None
        start = self.ledger.clock() if state == "expired" or until is not None else \
            datetime.fromisoformat(str(agreement.expires_at))
        expires = iso(start + timedelta(days=length)) if until is None else \
            iso(self.ledger.clock() + timedelta(days=length))
        if state == "expired" or agreement.grant_id is None:
            grant_id = self.ledger.issue_grant(agreement.requested_by, agreement.product_id, agreement.kind, who,
                                               expires, agreement.id).id
        else:
            grant_id = self.ledger.extend_grant(agreement.grant_id, expires, who, agreement.id).id
        with self.state.transaction() as con:
            con.execute("UPDATE agreements SET status='active', expires_at=?, grant_id=? WHERE id=?",
                        (expires, grant_id, agreement.id))
        self._record(who, "agreement.renew", self.get(agreement.id), f"until {expires}")
        return self.get(agreement.id)

    def expire_due(self, user: str | None, as_of: datetime | str | None = None) -> list[Agreement]:
        """End every active agreement whose expiry is due by `as_of` (default now), and its grant with it: the
        scheduled job (`meshwork agreement expire`). Expiring on time is bookkeeping anyone signed in may run;
        expiring early (`as_of` after now) ends access before its date, so only an owner of the product or a
        steward may, and agreements they may not decide on are left alone."""
        who = normalize_user(user) or ANONYMOUS
        if who == ANONYMOUS:
            raise self.log.refuse(AccessDenied, who, "agreement.expire", "Expiring agreements: sign in first.")
        moment = self.ledger.clock() if as_of is None else \
            (as_of if isinstance(as_of, datetime) else _parse(str(as_of)))
        if moment is None:
            raise self.log.refuse(AgreementError, who, "agreement.expire", f"Expiring agreements: {as_of!s} is not a "
                               "date (YYYY-MM-DD) or a time.")
        moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        horizon, now = iso(moment), self.now()
        early = horizon > now
        steward = self.is_steward(who)
        out = []
        for agreement in self._rows("status = 'active' AND expires_at <= ?", (horizon,)):
            if early and agreement.expires_at > now and not steward \
                    and who not in self.ledger.owners_of(agreement.product_id):
                continue
            at = min(str(agreement.expires_at), now)
            grant = None if agreement.grant_id is None else self.ledger.get_grant(agreement.grant_id)
            with self.state.transaction() as con:  # the agreement and its grant end together
                if not con.execute("UPDATE agreements SET status='expired', expires_at=? WHERE id=? "
                                   "AND status='active'", (at, agreement.id)).rowcount:
                    continue  # another run ended it a moment ago
                if grant is not None:
                    self.ledger.expire_grant(con, grant, at, who, agreement.id)
            self._record(who, "agreement.expire", self.get(agreement.id), f"due by {horizon}, ended at {at}")
            out.append(self.get(agreement.id))
        return out

    # ------------------------------------------------------------------ shared steps

    def _existing(self, agreement_id: int, who: str, action: str) -> Agreement:
        if who == ANONYMOUS:
            raise self.log.refuse(AccessDenied, who, action, f"Agreement #{agreement_id}: sign in first.")
        try:
            return self.get(agreement_id)
        except AgreementError as exc:
            raise self.log.refuse(AgreementError, who, action, str(exc)) from None

    def _pending(self, agreement_id: int, who: str, action: str) -> Agreement:
        agreement = self._existing(agreement_id, who, action)
        if agreement.status != "requested":
            raise self._refuse(agreement, AgreementError, who, action, f" is already {agreement.state(self.now())}.")
        if who == agreement.requested_by and action == "agreement.approve":
            raise self._refuse(agreement, AccessDenied, who, action,
                               ": you cannot approve your own request; another owner must.")
        return agreement

    def _reason(self, reason: str, who: str, action: str, agreement: Agreement) -> str:
        try:
            text = check_text(reason, "reason", 2000)
        except MeshError as exc:
            raise self._refuse(agreement, AgreementError, who, action, f": {exc}") from None
        if not text:
            raise self._refuse(agreement, AgreementError, who, action, ": give a reason.")
        return text

    def _end(self, agreement: Agreement, who: str, status: str, action: str, reason: str,
             current: str = "requested") -> Agreement:
        with self.state.transaction() as con:
            updated = con.execute("UPDATE agreements SET status=?, decided_by=?, decided_at=?, reason=? WHERE id=? "
                                  "AND status=?", (status, who, self.now(), reason, agreement.id, current)).rowcount
        if not updated:
            raise AgreementError(f"Agreement #{agreement.id} changed a moment ago; look again.")
        self._record(who, action, self.get(agreement.id), reason)
        return self.get(agreement.id)

    def _refuse(self, agreement: Agreement, error: type[MeshError], who: str, action: str, rest: str) -> MeshError:
        """Record a refusal about `agreement`, worded "Agreement #<id><rest>", with its product, kind and consumer
        on the audit row; the caller raises what it gives back."""
        return self.log.refuse(error, who, action, f"Agreement #{agreement.id}{rest}", product_id=agreement.product_id,
                               kind=agreement.kind, subject=agreement.requested_by)

    def _record(self, who: str, action: str, agreement: Agreement, reason: str = "") -> None:
        self.log.record(who, action, f"agreement #{agreement.id} ({agreement.port}, {agreement.status})"
                        + (f": {reason}" if reason else ""), product_id=agreement.product_id, kind=agreement.kind,
                        subject=agreement.requested_by, grant_id=agreement.grant_id)
        if self.on_transition is not None:
            self.on_transition(action, agreement, who, reason)



def _parse(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) <= 10:
        parsed = parsed.replace(hour=23, minute=59, second=59)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

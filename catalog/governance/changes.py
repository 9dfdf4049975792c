"""Descriptor changes: classify them, keep a changelog, and tell the consumers they affect.

`diff(old, new)` compares two product descriptors and classifies every difference as
`breaking` (a consumer's query or result can break: a column removed or renamed, a type
narrowed, PII newly flagged, an SLA loosened, access narrowed), `warning` (a weaker
promise that breaks nothing by itself) or `info`. `ChangeTracker.sync()` compares the
mesh on disk with the last descriptors it saw, writes the changelog, and puts one alert
per change in the inbox of every consumer: explicit subscribers and, automatically, the
owners of derived products that read the product (transitively), with the impact on
their products and columns.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import polars as pl
from pydantic import ValidationError

from catalog.access.identity import normalize_user
from catalog.access.policy import Policy, product_for
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import Column, ProductDescriptor
from catalog.descriptors.yamlio import DocumentInvalid, load_file
from catalog.errors import MeshError, UnknownProduct
from catalog.lineage.graph import LineageIndex, impact
from catalog.sqltypes import classify_type
from catalog.state.store import StateStore
from catalog.numbers import hours_text

ChangeSeverity = Literal["breaking", "warning", "info"]
SEVERITY_ORDER = {"breaking": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Change:
    """One classified difference between two descriptors of a product."""

    severity: ChangeSeverity
    kind: str
    message: str
    column: str | None = None

    def __str__(self) -> str:
        return f"{self.severity.upper():8} {self.kind:22} {self.message}"


# ------------------------------------------------------------------ diff

def _columns_diff(old: list[Column], new: list[Column]) -> list[Change]:
    changes: list[Change] = []
    old_by, new_by = {c.name: c for c in old}, {c.name: c for c in new}
    removed = [c for c in old if c.name not in new_by]
    added = [c for c in new if c.name not in old_by]
    renamed: dict[str, Column] = {}
    for column in removed:
        same_type = [c for c in added if c.name not in {r.name for r in renamed.values()}
                     and classify_type(column.type, c.type) is None and c.pii == column.pii]
        by_description = [c for c in same_type if column.description and c.description == column.description]
        by_position = [c for c in same_type if new.index(c) == old.index(column)]
        match = (by_description or by_position or [None])[0]
        if match is not None:
            renamed[column.name] = match
    for column in removed:
        if column.name in renamed:
            changes.append(Change("breaking", "column_renamed", f"column {column.name} renamed to "
                                  f"{renamed[column.name].name}: queries naming {column.name} fail", column.name))
        else:
            changes.append(Change("breaking", "column_removed", f"column {column.name} removed: queries "
                                  "naming it fail", column.name))
    for column in added:
        if column not in renamed.values():
            changes.append(Change("info", "column_added", f"column {column.name} ({column.type}) added",
                                  column.name))
    for name, before in old_by.items():
        after = new_by.get(name)
        if after is None:
            continue
        kind = classify_type(before.type, after.type)
        if kind == "widened":
            changes.append(Change("info", "type_widened", f"column {name} widened {before.type} -> {after.type}",
                                  name))
        elif kind == "narrowed":
            changes.append(Change("breaking", "type_narrowed", f"column {name} narrowed {before.type} -> "
                                  f"{after.type}: values may no longer fit", name))
        elif kind == "changed":
            changes.append(Change("breaking", "type_changed", f"column {name} changed type {before.type} -> "
                                  f"{after.type}: expressions over it may fail", name))
        if after.pii and not before.pii:
            changes.append(Change("breaking", "pii_flagged", f"column {name} is now personal data "
                                  f"({after.pii_category}): roles without PII access see it masked", name))
        elif before.pii and not after.pii:
            changes.append(Change("warning", "pii_unflagged", f"column {name} is no longer marked personal "
                                  "data: every role sees it unmasked", name))
        elif before.pii and after.pii and before.pii_category != after.pii_category:
            changes.append(Change("breaking", "pii_category_changed", f"column {name} PII category "
                                  f"{before.pii_category} -> {after.pii_category}: its masked values change", name))
        if before.key and not after.key:
            changes.append(Change("warning", "key_removed", f"column {name} is no longer a key: uniqueness is "
                                  "not promised", name))
        elif after.key and not before.key:
            changes.append(Change("info", "key_added", f"column {name} is now a key", name))
        if before.description != after.description:
            changes.append(Change("info", "column_description", f"column {name} description changed", name))
    return changes


def _availability(text: str | None) -> float | None:
    match = re.search(r"(\d+(?:\.\d+)?)\s*%", text or "")
    return float(match.group(1)) if match else None


def _sla_diff(old: ProductDescriptor, new: ProductDescriptor) -> list[Change]:
    changes: list[Change] = []
    before, after = old.sla.freshness_hours, new.sla.freshness_hours
    if before is not None and after is None:
        changes.append(Change("breaking", "sla_loosened", f"freshness SLA of {hours_text(before)} removed"))
    elif before is not None and after is not None and after > before:
        changes.append(Change("breaking", "sla_loosened",
                              f"freshness SLA loosened {hours_text(before)} -> {hours_text(after)}"))
    elif after is not None and (before is None or after < before):
        changes.append(Change("info", "sla_tightened", f"freshness SLA tightened to {hours_text(after)}"))
    if old.sla.availability != new.sla.availability:
        a, b = _availability(old.sla.availability), _availability(new.sla.availability)
        if old.sla.availability and (new.sla.availability is None or (a is not None and b is not None and b < a)):
            changes.append(Change("breaking", "sla_loosened", f"availability SLA loosened "
                                  f"{old.sla.availability} -> {new.sla.availability or 'none'}"))
        elif a is not None and b is not None and b > a:
            changes.append(Change("info", "sla_tightened", f"availability SLA tightened to {new.sla.availability}"))
        else:
            changes.append(Change("warning", "sla_changed", f"availability SLA changed "
                                  f"{old.sla.availability or 'none'} -> {new.sla.availability}"))
    if old.sla.timestamp_column != new.sla.timestamp_column:
        changes.append(Change("info", "sla_changed", f"freshness measured on {new.sla.timestamp_column or 'nothing'} "
                              f"(was {old.sla.timestamp_column or 'nothing'})"))
    return changes


def _access_diff(old: ProductDescriptor, new: ProductDescriptor) -> list[Change]:
    a, b = old.access, new.access
    if not a.restricted and b.restricted:
        return [Change("breaking", "access_restricted", "product is now restricted to roles "
                       f"{', '.join(b.roles) or '(none)'}: other roles lose access")]
    if a.restricted and not b.restricted:
        return [Change("warning", "access_opened", "product is no longer restricted: every role can read it")]
    if a.restricted and b.restricted:
        lost, gained = sorted(set(a.roles) - set(b.roles)), sorted(set(b.roles) - set(a.roles))
        out = []
        if lost:
            out.append(Change("breaking", "access_restricted", f"roles {', '.join(lost)} lose access"))
        if gained:
            out.append(Change("info", "access_opened", f"roles {', '.join(gained)} gain access"))
        return out
    return []


def _major(version: str) -> str:
    return version.split(".")[0].lstrip("vV")


def diff(old: ProductDescriptor, new: ProductDescriptor) -> list[Change]:
    """Every difference from `old` to `new`, breaking ones first."""
    changes: list[Change] = []
    if old.name != new.name:
        changes.append(Change("breaking", "product_renamed", f"product renamed {old.name} -> {new.name}: its id "
                              "changes, so every query naming it fails"))
    changes += _columns_diff(old.columns, new.columns)
    changes += _sla_diff(old, new)
    changes += _access_diff(old, new)
    if old.status != new.status:
        severity = {"draft": "breaking", "deprecated": "warning"}.get(new.status, "info")
        changes.append(Change(severity, "status_changed", f"status {old.status} -> {new.status}"))  # type: ignore[arg-type]
    old_checks = {json.dumps(c.model_dump(mode="json"), sort_keys=True): c.label for c in old.quality}
    new_checks = {json.dumps(c.model_dump(mode="json"), sort_keys=True): c.label for c in new.quality}
    for key in sorted(old_checks.keys() - new_checks.keys()):
        changes.append(Change("warning", "check_removed", f"quality check '{old_checks[key]}' removed or changed: "
                              "one promise fewer"))
    for key in sorted(new_checks.keys() - old_checks.keys()):
        changes.append(Change("info", "check_added", f"quality check '{new_checks[key]}' added"))
    if old.source.model_dump() != new.source.model_dump():
        changes.append(Change("info", "source_changed", f"source changed ({old.source.kind} -> {new.source.kind})"))
    for name in ("title", "description", "owner", "tags"):
        if getattr(old, name) != getattr(new, name):
            changes.append(Change("info", f"{name}_changed", f"{name} changed"))
    breaking = any(c.severity == "breaking" for c in changes)
    if old.version != new.version:
        changes.append(Change("info", "version_changed", f"version {old.version} -> {new.version}"))
    if breaking and _major(old.version) == _major(new.version):
        changes.append(Change("warning", "version_not_bumped", f"breaking changes but the major version stays "
                              f"{_major(new.version)} ({old.version} -> {new.version}); bump it so consumers notice"))
    return sorted(changes, key=lambda c: SEVERITY_ORDER[c.severity])


def is_breaking(changes: list[Change]) -> bool:
    return any(c.severity == "breaking" for c in changes)


def worst(changes: list[Change]) -> ChangeSeverity:
    return min((c.severity for c in changes), key=SEVERITY_ORDER.__getitem__, default="info")


def load_descriptor(path: str | Path) -> ProductDescriptor:
    """A product descriptor from a YAML file (for `meshwork diff`); MeshError says what is wrong and where."""
    path = Path(path)
    try:
        return load_file(ProductDescriptor, path, what="a product descriptor (a mapping of fields)")
    except OSError as exc:
        raise MeshError(f"{path}: cannot read file: {exc.strerror}") from None
    except DocumentInvalid as exc:
        count = (f" ({len(exc.errors)} problem(s); run `meshwork validate` on the mesh)"
                 if exc.errors[0].kind not in ("yaml", "mapping") else "")
        raise MeshError(f"{exc}{count}") from None


# ------------------------------------------------------------------ changelog, subscriptions, alerts

@dataclass
class ChangeSet:
    """The changes one product's descriptor went through between two syncs."""

    product_id: str
    id: str
    old_version: str | None
    new_version: str | None
    changes: list[Change] = field(default_factory=list)

    @property
    def severity(self) -> ChangeSeverity:
        return worst(self.changes)

    def summary(self) -> str:
        counts = {s: sum(c.severity == s for c in self.changes) for s in SEVERITY_ORDER}
        tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        head = "; ".join(c.message for c in self.changes if c.severity != "info")[:400] or self.changes[0].message
        version = f" {self.old_version} -> {self.new_version}" if self.old_version != self.new_version else ""
        return f"{self.product_id}{version}: {tally}. {head}"


ALERT_SCHEMA = {"id": pl.Int64, "ts": pl.String, "product_id": pl.String, "severity": pl.String,
                "summary": pl.String, "your_products": pl.String, "your_columns": pl.String,
                "changed_columns": pl.String, "read": pl.Boolean}
CHANGELOG_SCHEMA = {"ts": pl.String, "product_id": pl.String, "change_set": pl.String, "old_version": pl.String,
                    "new_version": pl.String, "severity": pl.String, "kind": pl.String, "column_name": pl.String,
                    "message": pl.String}


def _digest(descriptor: ProductDescriptor) -> tuple[str, str]:
    text = descriptor.model_dump_json(by_alias=True)
    return hashlib.sha256(text.encode()).hexdigest(), text


class ChangeTracker:
    """Changelog, subscriptions and inbox alerts of one mesh, kept in its state store (the one owner of
    descriptor_snapshots, changelog, subscriptions and alerts); `lineage` says which columns a change reaches,
    `now` is the ledger's clock."""

    def __init__(self, mesh: DeclaredMesh, state: StateStore, lineage: LineageIndex, now: Callable[[], str]):
        self.mesh = mesh
        self.state = state
        self.lineage = lineage
        self._now = now
        self._synced = False

    def now(self) -> str:
        return self._now()

    # ---------------------------------------------------------------- consumers

    def _transitive_downstreams(self, product_id: str) -> list[str]:
        seen: dict[str, None] = {}
        queue = deque(sorted(self.mesh.downstreams(product_id)))
        while queue:
            node = queue.popleft()
            if node in seen or node == product_id:
                continue
            seen[node] = None
            queue.extend(sorted(self.mesh.downstreams(node)))
        return list(seen)

    def consumers(self, product_id: str) -> dict[str, set[str]]:
        """Consumer -> their derived products that read this one (empty set: an explicit subscriber only)."""
        out: dict[str, set[str]] = {}
        for user, in self.state.query("SELECT user FROM subscriptions WHERE product_id = ?", (product_id,)):
            out.setdefault(user, set())
        for downstream in self._transitive_downstreams(product_id):
            product = self.mesh.products.get(downstream)
            owner = normalize_user(product.owner) if product else None
            if owner:
                out.setdefault(owner, set()).add(downstream)
        return out

    def subscribe(self, user: str | None, product_id: str, policy: Policy | None = None) -> None:
        name = normalize_user(user)
        if not name:
            raise MeshError("Sign in first: a subscription needs to know whom to alert.")
        if policy is not None:
            product_for(self.mesh, product_id, policy)  # a hidden product cannot be subscribed to
        if product_id not in self.mesh.products:
            raise UnknownProduct(f"There is no product {product_id!r} in mesh {self.mesh.name!r} to subscribe to.")
        self.sync()  # the baseline for later alerts is the product as it is now
        with self.state.transaction() as con:
            con.execute("INSERT OR IGNORE INTO subscriptions (user, product_id, ts) VALUES (?,?,?)",
                        (name, product_id, self.now()))

    def unsubscribe(self, user: str | None, product_id: str) -> None:
        with self.state.transaction() as con:
            con.execute("DELETE FROM subscriptions WHERE user = ? AND product_id = ?",
                        (normalize_user(user) or "", product_id))

    def subscriptions(self, user: str | None, policy: Policy | None = None) -> pl.DataFrame:
        """What this user hears about: explicit subscriptions, and products their derived products read."""
        name = normalize_user(user) or ""
        rows: dict[str, dict[str, Any]] = {}
        for pid, ts in self.state.query("SELECT product_id, ts FROM subscriptions WHERE user = ?", (name,)):
            rows[pid] = {"product_id": pid, "how": "explicit", "via": "", "since": ts}
        mine = [pid for pid, p in self.mesh.products.items() if normalize_user(p.owner) == name]
        upstream_of: dict[str, set[str]] = {}
        for own in mine:
            queue, seen = deque(self.mesh.upstreams(own)), set()
            while queue:
                up = queue.popleft()
                if up in seen or up not in self.mesh.products:
                    continue
                seen.add(up)
                upstream_of.setdefault(up, set()).add(own)
                queue.extend(self.mesh.upstreams(up))
        for pid, via in upstream_of.items():
            if pid in rows:
                rows[pid]["via"] = ", ".join(sorted(via))
            else:
                rows[pid] = {"product_id": pid, "how": "automatic", "via": ", ".join(sorted(via)), "since": None}
        schema = {"product_id": pl.String, "how": pl.String, "via": pl.String, "since": pl.String}
        frame = pl.DataFrame(sorted(rows.values(), key=lambda r: r["product_id"]), schema=schema)
        if policy is not None and not policy.unfiltered:
            frame = frame.filter(pl.col("product_id").is_in(list(policy.listed)))
        return frame

    # ---------------------------------------------------------------- impact

    def _column_impact(self, product_id: str, column: str) -> set[tuple[str, str]]:
        """(product, column) pairs downstream that read this column, from the lineage when it is available."""
        index = self.lineage
        try:
            return {(c.product_id, c.column) for c in impact(index, f"{product_id}.{column}").columns}
        except MeshError:
            pass  # a removed column is not in the current lineage's outputs; walk the readers instead
        out: set[tuple[str, str]] = set()
        queue = deque([(product_id, column)])
        while queue:
            pid, col = queue.popleft()
            for down in sorted(self.mesh.downstreams(pid)):
                for read in index.readers(down).get((pid, col), []):
                    if (down, read) not in out:
                        out.add((down, read))
                        queue.append((down, read))
        return out

    def _alert_rows(self, change_set: ChangeSet) -> list[tuple[Any, ...]]:
        consumers = self.consumers(change_set.product_id)
        if not consumers:
            return []
        changed = sorted({c.column for c in change_set.changes if c.column and c.severity != "info"})
        column_impact = {col: self._column_impact(change_set.product_id, col) for col in changed}
        rows = []
        for user, theirs in sorted(consumers.items()):
            columns = sorted(f"{pid}.{col}" for hits in column_impact.values() for pid, col in hits if pid in theirs)
            touched = sorted({c.rsplit(".", 1)[0] for c in columns}) if columns else sorted(theirs)
            impact = {"products": touched, "columns": columns, "changed_columns": changed,
                      "reads": sorted(theirs)}
            rows.append((self.now(), user, change_set.product_id, change_set.id, change_set.severity,
                         change_set.summary(), json.dumps(impact)))
        return rows

    # ---------------------------------------------------------------- sync

    def sync(self, force: bool = False) -> list[ChangeSet]:
        """Compare every product with its last seen descriptor; record and alert what changed.

        The first sync of a mesh only takes the baseline. Runs once per Mesh object unless forced;
        the whole comparison is one transaction, so two processes never record a change twice.
        """
        if self._synced and not force:
            return []
        found: list[ChangeSet] = []
        current = {pid: p for pid, p in self.mesh.products.items() if not p.broken}
        with self.state.transaction() as con:
            snapshots = {pid: (digest, text, version) for pid, digest, text, version in
                         con.execute("SELECT product_id, digest, descriptor, version FROM descriptor_snapshots")}
            baseline = not snapshots
            for pid, product in current.items():
                digest, text = _digest(product.descriptor)
                seen = snapshots.get(pid)
                if seen is not None and seen[0] != digest:
                    try:
                        before = ProductDescriptor.model_validate_json(seen[1])
                    except ValidationError:
                        before = None
                    if before is not None:
                        changes = diff(before, product.descriptor)
                        if changes:
                            found.append(ChangeSet(pid, uuid.uuid4().hex[:12], before.version,
                                                   product.descriptor.version, changes))
                if seen is None or seen[0] != digest:
                    con.execute("INSERT OR REPLACE INTO descriptor_snapshots (product_id, ts, version, digest, "
                                "descriptor) VALUES (?,?,?,?,?)",
                                (pid, self.now(), product.descriptor.version, digest, text))
            for pid, (_, _, version) in snapshots.items():
                if pid not in self.mesh.products:
                    found.append(ChangeSet(pid, uuid.uuid4().hex[:12], version, None, [Change(
                        "breaking", "product_removed", f"product {pid} removed from the mesh: queries naming it fail")]))
                    con.execute("DELETE FROM descriptor_snapshots WHERE product_id = ?", (pid,))
            if not baseline:
                for change_set in found:
                    con.executemany(
                        "INSERT INTO changelog (ts, product_id, change_set, old_version, new_version, severity, "
                        "kind, column_name, message) VALUES (?,?,?,?,?,?,?,?,?)",
                        [(self.now(), change_set.product_id, change_set.id, change_set.old_version,
                          change_set.new_version, c.severity, c.kind, c.column, c.message)
                         for c in change_set.changes])
                    con.executemany("INSERT INTO alerts (ts, user, product_id, change_set, severity, summary, impact) "
                                    "VALUES (?,?,?,?,?,?,?)", self._alert_rows(change_set))
        self._synced = True
        return [] if baseline else found

    # ---------------------------------------------------------------- reading

    def record_drift(self, product_id: str, failing: list[dict[str, Any]],
                     before: list[dict[str, Any]]) -> ChangeSet | None:
        """Schema drift a quality run found in the data (a declared column missing, a type changed): a breaking
        change of what consumers read, logged and alerted like a descriptor change, once, on the run that first
        meets it (`failing`: this run's failing schema results; `before`: the previous run's results)."""
        seen = {(r.get("name"), r.get("message")) for r in before if r.get("status") == "fail"}
        changes = []
        for result in failing:
            if (result.get("name"), result.get("message")) in seen:
                continue
            observed = result.get("observed")
            columns = list(observed) if isinstance(observed, (list, dict)) else []
            for column in columns or [None]:
                changes.append(Change("breaking", "data_" + str(result.get("kind")), str(result.get("message")),
                                      column))
        if not changes:
            return None
        version = self.mesh.product(product_id).descriptor.version
        change_set = ChangeSet(product_id, uuid.uuid4().hex[:12], version, version, changes)
        with self.state.transaction() as con:
            con.executemany(
                "INSERT INTO changelog (ts, product_id, change_set, old_version, new_version, severity, kind, "
                "column_name, message) VALUES (?,?,?,?,?,?,?,?,?)",
                [(self.now(), product_id, change_set.id, version, version, c.severity, c.kind, c.column, c.message)
                 for c in changes])
            con.executemany("INSERT INTO alerts (ts, user, product_id, change_set, severity, summary, impact) "
                            "VALUES (?,?,?,?,?,?,?)", self._alert_rows(change_set))
        return change_set

    def changelog(self, product_id: str | None = None, policy: Policy | None = None) -> pl.DataFrame:
        """Recorded descriptor changes, newest first; with a viewer `policy`, of the products it shows in full
        (a change names columns), a hidden `product_id` being an unknown product."""
        self.sync()
        if policy is not None and product_id:
            product_for(self.mesh, product_id, policy)
        where, params = ("WHERE product_id = ?", (product_id,)) if product_id else ("", ())
        frame = self.state.frame(f"SELECT {', '.join(CHANGELOG_SCHEMA)} FROM changelog {where} "
                                      "ORDER BY id DESC", params, CHANGELOG_SCHEMA)
        return _shown(frame, policy)

    def inbox(self, user: str | None, unread_only: bool = False, policy: Policy | None = None) -> pl.DataFrame:
        """This user's alerts, newest first, with the impact on their products and columns; with a viewer
        `policy`, only alerts about products it shows in full (an alert an ended grant allowed stays unread)."""
        self.sync()
        name = normalize_user(user) or ""
        tail = "AND read_at IS NULL" if unread_only else ""
        rows = []
        for id_, ts, pid, severity, summary, impact, read_at in self.state.query(
                f"SELECT id, ts, product_id, severity, summary, impact, read_at FROM alerts WHERE user = ? {tail} "
                "ORDER BY id DESC", (name,)):
            detail = json.loads(impact)
            rows.append({"id": id_, "ts": ts, "product_id": pid, "severity": severity, "summary": summary,
                         "your_products": ", ".join(detail.get("products", [])),
                         "your_columns": ", ".join(detail.get("columns", [])),
                         "changed_columns": ", ".join(detail.get("changed_columns", [])), "read": read_at is not None})
        return _shown(pl.DataFrame(rows, schema=ALERT_SCHEMA), policy)

    def mark_read(self, user: str | None, alert_ids: list[int] | None = None) -> int:
        """Mark this user's alerts (all, or the ids given) read; returns how many changed."""
        name = normalize_user(user) or ""
        with self.state.transaction() as con:
            if alert_ids is None:
                return con.execute("UPDATE alerts SET read_at = ? WHERE user = ? AND read_at IS NULL",
                                   (self.now(), name)).rowcount
            return sum(con.execute("UPDATE alerts SET read_at = ? WHERE user = ? AND id = ? AND read_at IS NULL",
                                   (self.now(), name, int(i))).rowcount for i in alert_ids)


def _shown(frame: pl.DataFrame, policy: Policy | None) -> pl.DataFrame:
    """Rows about products the viewer sees in full (all rows without a viewer)."""
    if policy is None or policy.unfiltered:
        return frame
    return frame.filter(pl.col("product_id").is_in(list(policy.allowed)))

"""Incident transitions and breaking descriptor changes as notification events, addressed to the people they
concern (the product's owner and assignee, its subscribers and the owners of the products that read it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import polars as pl

from catalog.access.identity import normalize_user
from catalog.descriptors.declared import DeclaredMesh
from catalog.incidents import Transition
from catalog.notify import Event

NOTIFIED = {"opened": "incident.opened", "reopened": "incident.reopened", "auto-resolved": "incident.resolved",
            "resolved": "incident.resolved", "assigned": "incident.assigned"}

Consumers = Callable[[str], Iterable[str]]  # product id -> subscribers and downstream owners
MaySee = Callable[[str, str], bool]  # (user, product id) -> the user may see the product in full


def _people(mesh: DeclaredMesh, product_id: str, consumers: Consumers, may_see: MaySee,
            extra: Iterable[str | None] = ()) -> tuple[str, ...]:
    product = mesh.products.get(product_id)
    names = [product.owner if product else None, *extra, *consumers(product_id)]
    out = [n for n in dict.fromkeys(normalize_user(x) for x in names) if n and "@" in n]
    return tuple(n for n in out if may_see(n, product_id))  # nobody hears of a product they may not see


def incident_events(mesh: DeclaredMesh, transitions: list[Transition], consumers: Consumers,
                    may_see: MaySee) -> list[Event]:
    out = []
    for t in transitions:
        kind = NOTIFIED.get(t.action)
        if kind is None:
            continue
        product = mesh.products.get(t.product_id)
        verb = {"auto-resolved": "resolved (the cause passes again)"}.get(t.action, t.action)
        text = f"Incident #{t.incident_id} on {t.product_id} {verb}: {t.summary}"
        if t.assignee:
            text += f". Assignee: {t.assignee}"
        if t.note and t.action != "auto-resolved":
            text += f". Note: {t.note}"
        out.append(Event(kind=kind, title=f"incident #{t.incident_id} {verb.split(' ')[0]}: {t.cause}", text=text,
                         product_id=t.product_id, domain=product.domain if product else None,
                         severity="info" if "resolved" in t.action else "error",
                         recipients=_people(mesh, t.product_id, consumers, may_see, [t.assignee]),
                         data={"incident_id": t.incident_id, "cause": t.cause, "state": t.state,
                               "action": t.action, "actor": t.actor, "assignee": t.assignee}))
    return out


def change_events(mesh: DeclaredMesh, changelog: pl.DataFrame, after: str | None, consumers: Consumers,
                  may_see: MaySee) -> list[Event]:
    """One event per breaking change set recorded after `after` (ISO time), oldest first."""
    rows = changelog.filter(pl.col("severity") == "breaking")
    if after is not None:
        rows = rows.filter(pl.col("ts") > after)
    out = []
    sets: dict[str, list[dict[str, Any]]] = {}
    for row in rows.sort("ts").iter_rows(named=True):
        sets.setdefault(row["change_set"], []).append(row)
    for change_set, changes in sets.items():
        first = changes[0]
        pid = first["product_id"]
        product = mesh.products.get(pid)
        version = (f" {first['old_version']} -> {first['new_version']}"
                   if first["old_version"] != first["new_version"] else "")
        text = f"Breaking change to {pid}{version}: " + "; ".join(c["message"] for c in changes)
        out.append(Event(kind="change.breaking", title=f"breaking change to {pid}", text=text, product_id=pid,
                         domain=product.domain if product else None, severity="error",
                         recipients=_people(mesh, pid, consumers, may_see), ts=first["ts"],
                         data={"change_set": change_set, "changes": [c["message"] for c in changes],
                               "old_version": first["old_version"], "new_version": first["new_version"]}))
    return out

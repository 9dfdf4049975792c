"""The gate for one viewer: the role's visible products widened by the user's grants, and ended grants on record.

`catalog.query.gate` decides what SQL may do over a set of visible products; this module decides that set for
(role, user) and turns a query's reliance on an ended grant into a refusal the ledger records: naming a
product only an ended grant had opened raises GrantLapsed; reading a product whose PII grant ended runs
masked, that refusal to unmask is recorded too, and the vetted query carries a notice saying so.
"""

from __future__ import annotations

from dataclasses import replace

from catalog.access.ledger import AccessLedger, Grant
from catalog.access.policy import Grants, Viewers
from catalog.descriptors.declared import DeclaredMesh
from catalog.errors import GrantLapsed
from catalog.query import gate

ASK_AGAIN = "Ask its owner for access again on the Access & alerts page."


def vet(text: str, *, mesh: DeclaredMesh, viewers: Viewers, ledger: AccessLedger, role: str, user: str,
        visible: frozenset[str], grants: Grants, dialect: str = "duckdb",
        deadline: float | None = None) -> gate.VettedQuery:
    """`gate.vet` for `user` as `role`, whose database shows `visible` with `grants` applied."""
    shown = set(visible)
    closed: dict[str, Grant] = {}
    masked: dict[str, Grant] = {}
    for (pid, kind), grant in ledger.lapsed(user).items():
        product = mesh.products.get(pid)
        if product is None or product.broken:
            continue
        if pid not in shown:
            closed[pid] = grant
        elif kind == "pii" and (pid, "pii") not in grants and not viewers.role_reads_pii(role):
            masked[pid] = grant
    # A broken product the viewer may see passes the gate and fails when its view is built, with its
    # problems named ("... is broken: ..."), instead of reading as a restricted one.
    broken = {pid for pid in viewers.policy(role, user, grants=grants).allowed if mesh.products[pid].broken}
    restricted = set(mesh.products) - shown - set(closed) - broken
    vetted = gate.vet(text, shown | set(closed) | broken, restricted, role, dialect=dialect, deadline=deadline)
    refused = [(pid, closed[pid]) for pid in sorted(vetted.products & set(closed))]
    unmasked_no_more = [(pid, masked[pid]) for pid in sorted(vetted.products & set(masked))]
    if not refused and not unmasked_no_more:
        return vetted
    reasons = ledger.refuse_lapsed(user, role, refused, unmasked_no_more)
    if refused:
        raise GrantLapsed(f"{reasons[0]} {ASK_AGAIN}")
    # the query runs, masked: the person is told why the values they read yesterday are starred today
    return replace(vetted, notices=tuple(f"{reason} {ASK_AGAIN}" for reason in reasons))

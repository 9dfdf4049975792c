"""Tests that need a grant get it the one way a user does: an access agreement, requested and approved."""

from __future__ import annotations

from datetime import datetime

from catalog.access.agreements import Agreement
from catalog.descriptors.ports import output_ports


def granted(mesh, user: str, product_id: str, purpose: str, approver: str, days: float | None = None, *,
            until: datetime | str | None = None, kind: str = "access") -> Agreement:
    """Request `kind` on the product's first output port and have `approver` (an owner) approve it; returns the
    active agreement, whose `grant_id` is the grant the policy reads."""
    port = output_ports(mesh.product(product_id))[0].name
    agreement = mesh.agreements.request(user, product_id, port, purpose, days, until=until, kind=kind)
    if agreement.status == "requested":
        agreement = mesh.agreements.approve(agreement.id, approver)
    assert agreement.status == "active", agreement
    return agreement

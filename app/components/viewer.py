"""Who sees what, for this session: the one visibility policy (`mesh.policy(role, user)`), asked by every page.

A page never decides visibility itself: it asks `policy(mesh)` which products the viewer may query
(`visible`), which are listed but locked (`locked`), whose personal data they read unmasked (`sees_pii`).
`state(mesh, pid)` sorts a product id from a URL or a list into what a page may show: its whole page, a
locked page, or nothing (the same "not found" whether the id is unknown or hidden from this viewer).
"""

from __future__ import annotations

from typing import Literal

import catalog
from catalog.access.policy import Policy
from components import context

Shown = Literal["open", "locked"] | None


def policy(mesh: catalog.Mesh) -> Policy:
    """The visibility policy for this session's role and user (grants re-resolved on every call)."""
    return mesh.policy(context.current_role(mesh), context.current_user(mesh))


def state(mesh: catalog.Mesh, product_id: str | None, viewer: Policy | None = None) -> Shown:
    """"open" (the whole product, broken or not), "locked" (listed: name, title, domain, owner, description,
    trust signals and Request access), or None (not found for this viewer: unknown and hidden alike)."""
    if not product_id or product_id not in mesh.products:
        return None
    viewer = viewer or policy(mesh)
    if viewer.can_see(product_id):
        return "open"
    if viewer.is_locked(product_id):
        return "locked"
    return None


def listed(mesh: catalog.Mesh, viewer: Policy | None = None) -> list[str]:
    """Product ids this viewer may find (open or locked), sorted."""
    return sorted((viewer or policy(mesh)).listed)


def queryable(mesh: catalog.Mesh, viewer: Policy | None = None) -> list[str]:
    """Product ids shown to this viewer in full (columns, samples, statistics, checks), sorted."""
    return sorted((viewer or policy(mesh)).allowed)


def check_results(mesh: catalog.Mesh, product_id: str, results: list[dict], viewer: Policy) -> list[dict]:
    """Check results as this viewer may see them: a check reading data they may not see (personal data they
    see masked, a product they may not query) keeps its name and status, without counts, message or rows."""
    return mesh.sensitivity.redact(product_id, results, viewer)


def search(mesh: catalog.Mesh, text: str, viewer: Policy | None = None, **options):
    """`mesh.search` as this viewer (role and user: live grants widen the results, locked products are listed)."""
    viewer = viewer or policy(mesh)
    return mesh.search(text, role=viewer.role, user=viewer.user, **options)

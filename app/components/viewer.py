"""Who sees what, for this session: the one visibility policy (`mesh.policy(role, user)`), asked by every page.

A page never decides visibility itself: it asks `policy(mesh)` which products the viewer may query
(`visible`), which are listed but locked (`locked`), whose personal data they read unmasked (`sees_pii`).
`state(mesh, pid)` sorts a product id from a URL or a list into what a page may show: its whole page, a
locked page, or nothing (the same "not found" whether the id is unknown or hidden from this viewer).
"""

from __future__ import annotations

from typing import Literal

import catalog
from components import context

Shown = Literal["open", "locked"] | None


def policy(mesh: catalog.Mesh):
    """The visibility policy for this session's role and user (grants re-resolved on every call)."""
    role, user = context.current_role(mesh), context.current_user(mesh)
    if hasattr(mesh, "policy"):
        return mesh.policy(role, user)
    return _Interim(mesh, role, user)


class _Interim:
    """Stand-in with the policy's interface until `catalog.policy` lands (roles, restrictions, live grants;
    every restricted product listed)."""

    def __init__(self, mesh: catalog.Mesh, role: str, user: str):
        from catalog.viewsql import visible_products

        self.mesh, self.role, self.user = mesh, role, user
        self.grants = mesh.access.effective_grants(role, user)
        self.visible = visible_products(mesh, role, self.grants)
        self.locked = frozenset(pid for pid, p in mesh.products.items()
                                if pid not in self.visible and p.descriptor.access.restricted)

    def can_query(self, pid: str) -> bool:
        return pid in self.visible

    def is_locked(self, pid: str) -> bool:
        return pid in self.locked

    def is_listed(self, pid: str) -> bool:
        return pid in self.visible or pid in self.locked

    def sees_pii(self, pid: str) -> bool:
        return self.mesh.role_sees_pii(self.role, self.mesh.products[pid]) or (pid, "pii") in self.grants


def state(mesh: catalog.Mesh, product_id: str | None, viewer=None) -> Shown:
    """"open" (the whole product), "locked" (listed: name, title, domain, owner, description, trust signals
    and Request access), or None (not found for this viewer). A broken product is open to whoever the policy
    would let query it, so its page can say why it is broken."""
    if not product_id or product_id not in mesh.products:
        return None
    viewer = viewer or policy(mesh)
    if viewer.can_query(product_id):
        return "open"
    if viewer.is_locked(product_id):
        return "locked"
    product = mesh.products[product_id]
    if product.broken and not product.descriptor.access.restricted:
        return "open"
    return None


def listed(mesh: catalog.Mesh, viewer=None) -> list[str]:
    """Product ids this viewer may find (open or locked), sorted."""
    viewer = viewer or policy(mesh)
    return sorted(pid for pid in mesh.products if state(mesh, pid, viewer))


def queryable(mesh: catalog.Mesh, viewer=None) -> list[str]:
    """Product ids whose columns, samples, statistics and checks this viewer may see, sorted."""
    viewer = viewer or policy(mesh)
    return sorted(pid for pid in mesh.products if state(mesh, pid, viewer) == "open")


def hidden_checks(mesh: catalog.Mesh, product_id: str, viewer=None) -> set[str]:
    """Checks of a product whose failing counts and example rows this viewer may not see: those that read
    personal data they see masked (`catalog.quality.sensitive_checks`); every check of a product they may
    not query."""
    viewer = viewer or policy(mesh)
    product = mesh.products[product_id]
    if not viewer.can_query(product_id):
        return {c.label for c in product.descriptor.quality}
    if viewer.sees_pii(product_id):
        return set()
    try:
        from catalog.quality import sensitive_checks
    except ImportError:  # before the engine's rule lands: every check that reads a PII column counts
        return {c.label for c in product.descriptor.quality
                if any(col.name in str(c.model_dump()) for col in product.pii_columns)}
    return set(sensitive_checks(mesh, product))


def search(mesh: catalog.Mesh, text: str, **options):
    """`mesh.search` for this viewer (role and, once the library takes it, user: grants widen the results)."""
    import inspect

    from catalog.search import search as run

    viewer = options.pop("viewer", None) or policy(mesh)
    if "user" in inspect.signature(run).parameters:
        options["user"] = viewer.user
    return mesh.search(text, role=viewer.role, **options)

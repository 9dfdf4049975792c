"""The one visibility policy: for a viewer (role, user), which products they may query, which are
listed but locked, which are hidden, and which columns they see masked.

Every surface asks this module and nothing else: governed sessions (through catalog.query.role_views),
search and facets, product pages, lineage, scorecards, reviews, governance, dashboards, the CLI.

The rule, decided once here:
- A product's data is *restricted* when its descriptor says so, when a product it reads (transitively)
  is restricted, or when it reads the same source (file, table) as a restricted product: restrictions
  follow the data, so a second descriptor over a restricted file cannot open it.
- A viewer may read a product when, for every restriction on its data, their role is named by it or
  they hold a live grant (`access` or `pii`) on the product that declares it. Grants come from
  `catalog.access.ledger` on every call, so an expired or revoked grant lapses at once.
- A restricted product the viewer may not read is *locked* (listed with its name, title, domain, owner,
  description and trust signals; never its columns, samples, statistics or check results) when the
  mesh says `discovery: listed` (the default), or *hidden* (nowhere; an anonymous node in lineage) when
  it says `discovery: hidden`.
- PII is unmasked when the role reads PII or the user holds a live `pii` grant on the product.
- Without a viewer (`role=None`) the policy is the steward's catalog view: everything listed and open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from catalog.access import identity
from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import Column, DataProduct
from catalog.errors import AccessDenied, MeshError, UnknownProduct
from catalog.sources import data_keys
from catalog.state.cache import MeshCache

Grants = frozenset[tuple[str, str]]
HIDDEN_PREFIX = "restricted:"
HIDDEN_LABEL = "restricted product"
LOCKED_FIELDS = ("id", "domain", "name", "title", "owner", "description")  # what a locked product shows


# ---------------------------------------------------------------------- role-only primitives

def role_reads(role: str | None, product: DataProduct) -> bool:
    """The product's own declaration: unrestricted, or restricted to roles that include `role`."""
    access = product.descriptor.access
    return not access.restricted or (role is not None and role in access.roles)


def role_reads_pii(mesh: DeclaredMesh, role: str | None) -> bool:
    spec = mesh.roles.get(role or "")
    return bool(spec and spec.pii)


# ---------------------------------------------------------------------- restrictions follow the data

def source_keys(product: DataProduct) -> set[str]:
    """What a product's raw data is (catalog.sources.data_keys): two products with a key in common read the
    same data, so a restriction on one applies to the other."""
    return data_keys(product)


@dataclass(frozen=True)
class _Static:
    """What the policy needs from the descriptors, which an open mesh never changes: computed once (MeshCache)."""

    rules: dict[str, frozenset[str]]
    by_rules: dict[frozenset[str], frozenset[str]]  # one restriction set -> the products it applies to
    every: frozenset[str]
    broken: frozenset[str]
    with_pii: frozenset[str]
    columns: dict[str, tuple[Column, ...]]


def _static(mesh: DeclaredMesh) -> _Static:
    products = mesh.products
    rules = _restrictions(mesh)
    grouped: dict[frozenset[str], set[str]] = {}
    for pid, applied in rules.items():
        if applied:
            grouped.setdefault(applied, set()).add(pid)
    return _Static(rules=rules, by_rules={k: frozenset(v) for k, v in grouped.items()}, every=frozenset(products),
                   broken=frozenset(pid for pid, p in products.items() if p.broken),
                   with_pii=frozenset(pid for pid, p in products.items() if p.pii_columns),
                   columns={pid: tuple(p.columns) for pid, p in products.items()})


def _restrictions(mesh: DeclaredMesh) -> dict[str, frozenset[str]]:
    declared = {pid for pid, p in mesh.products.items() if p.descriptor.access.restricted}
    by_key: dict[str, set[str]] = {}
    for pid in declared:
        for key in source_keys(mesh.products[pid]):
            by_key.setdefault(key, set()).add(pid)
    direct: dict[str, set[str]] = {}
    for pid, product in mesh.products.items():
        own = {pid} if pid in declared else set()
        for key in source_keys(product) if by_key else ():
            own |= by_key.get(key, set())
        direct[pid] = own
    out: dict[str, frozenset[str]] = {}

    def closure(pid: str, seen: frozenset[str]) -> frozenset[str]:
        if pid in out:
            return out[pid]
        found = set(direct.get(pid, ()))
        for upstream in mesh.upstreams(pid):
            if upstream in mesh.products and upstream not in seen:
                found |= closure(upstream, seen | {pid})
        result = frozenset(found)
        if not seen:
            out[pid] = result
        return result

    for pid in mesh.products:
        out[pid] = closure(pid, frozenset())
    return out


# ---------------------------------------------------------------------- the policy

@dataclass(frozen=True)
class LockedProduct:
    """What a locked product shows: who owns it and what it is, never its columns or data.
    Trust signals (certification, rating) come from `mesh.trust(id)`; *Request access* is pre-filled
    with `request_kind` for `id`."""

    id: str
    domain: str
    name: str
    title: str
    owner: str
    description: str
    locked: bool = True
    request_kind: str = "access"

    @classmethod
    def of(cls, product: DataProduct) -> "LockedProduct":
        return cls(id=product.id, domain=product.domain, name=product.name, title=product.title,
                   owner=product.owner, description=product.description)

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in LOCKED_FIELDS}


@dataclass(frozen=True)
class Policy:
    """Who sees what, for one viewer; build it with `mesh.policy(role, user)` (cheap: one grants lookup)."""

    role: str | None
    user: str | None
    allowed: frozenset[str]  # products shown in full (columns, description...), broken or not
    visible: frozenset[str]  # products this viewer may query: allowed and not broken
    locked: frozenset[str]  # restricted, listed, locked
    hidden: frozenset[str]  # restricted and not listed at all (`discovery: hidden`)
    grants: Grants
    unmasked: frozenset[str]  # products whose PII this viewer reads unmasked
    _columns: Mapping[str, tuple[Column, ...]] = field(repr=False, compare=False, default_factory=dict)
    _aliases: Mapping[str, str] = field(repr=False, compare=False, default_factory=dict)

    # ---- questions every surface asks

    @property
    def unfiltered(self) -> bool:
        """True for the no-viewer policy (the steward's catalog view)."""
        return self.role is None

    @property
    def listed(self) -> frozenset[str]:
        """Products that appear at all: shown in full or locked."""
        return self.allowed | self.locked

    def can_query(self, pid: str) -> bool:
        return pid in self.visible

    def can_see(self, pid: str) -> bool:
        """Shown in full: columns, description, checks, statistics (the product may still be broken)."""
        return pid in self.allowed

    def is_listed(self, pid: str) -> bool:
        return pid in self.allowed or pid in self.locked

    def is_locked(self, pid: str) -> bool:
        return pid in self.locked

    def is_hidden(self, pid: str) -> bool:
        return pid in self.hidden

    def sees_pii(self, pid: str) -> bool:
        return pid in self.unmasked and pid in self.allowed

    def masked_columns(self, pid: str) -> list[Column]:
        """The PII columns of `pid` this viewer sees masked (every PII column when the product is not open)."""
        columns = self._columns.get(pid, ())
        return [] if self.sees_pii(pid) else [c for c in columns if c.pii]

    def filter(self, product_ids: Iterable[str]) -> list[str]:
        """The listed ids among `product_ids`, in their order."""
        return [pid for pid in product_ids if self.is_listed(pid)]

    def alias(self, pid: str) -> str:
        """How a product is named to this viewer: its id, or an opaque `restricted:N` when hidden."""
        return self._aliases.get(pid, pid)

    def locked_view(self, product: DataProduct) -> LockedProduct:
        return LockedProduct.of(product)


class Viewers:
    """Builds the policy of any viewer of one mesh: the facade holds one (`Mesh.viewers`) and hands it to
    whatever must decide for a role other than its caller's.

    `grants(role, user)` returns the (product, kind) pairs of the user's live grants (the ledger's); it is
    asked on every `policy` call, so an expired or revoked grant lapses at once, and only the grants that
    change what `role` sees apply. What derives from the descriptors alone (restrictions, PII columns) is
    computed once, through `cache`.
    """

    def __init__(self, mesh: DeclaredMesh, grants: Callable[[str, str], Grants], *, cache: MeshCache):
        self.mesh = mesh
        self._grants = grants
        self._cache = cache

    def _static(self) -> _Static:
        return self._cache.get("policy", "static", lambda: _static(self.mesh))

    def restrictions(self) -> dict[str, frozenset[str]]:
        """Product id -> the ids of the restricted products whose restriction applies to its data (itself, the
        restricted products it reads transitively, and restricted products over the same source)."""
        return self._static().rules

    def role_reads(self, role: str | None, product: DataProduct) -> bool:
        """The role alone (grants aside) may read the product: its own restriction and every one on its data."""
        products = self.mesh.products
        return all(role_reads(role, products[r]) for r in self.restrictions().get(product.id, ())
                   if r in products) and role_reads(role, product)

    def role_reads_pii(self, role: str | None) -> bool:
        """The role alone (grants aside) reads PII unmasked."""
        return role_reads_pii(self.mesh, role)

    def effective_grants(self, role: str, user: str | None) -> Grants:
        """The user's live grants that change what `role` sees: access to a product the role alone may not
        read, personal data the role alone sees masked."""
        if not user:
            return frozenset()
        products = self.mesh.products
        out = set()
        for pid, kind in self._grants(role, user):
            product = products.get(pid)
            if product is None or product.broken:
                continue
            if kind == "access" and not self.role_reads(role, product):
                out.add((pid, kind))
            elif kind == "pii" and not self.role_reads_pii(role) and product.pii_columns:
                out.add((pid, kind))
        return frozenset(out)

    def policy(self, role: str | None = None, user: str | None = None, grants: Grants | None = None) -> Policy:
        """The policy for `role` (None: the unfiltered steward's view) and `user`'s live grants.

        `grants` overrides the lookup (the engine passes the grants its database was built for). A user who
        may not act as `role` in an enforced mesh is refused, as a session would be.
        """
        mesh = self.mesh
        products = mesh.products
        static = self._static()
        columns = static.columns
        if role is None:
            return Policy(role=None, user=user, allowed=static.every, visible=static.every - static.broken,
                          locked=frozenset(), hidden=frozenset(), grants=frozenset(), unmasked=static.with_pii,
                          _columns=columns)
        if role not in mesh.roles:
            raise MeshError(f"unknown role {role!r}; this mesh has roles: {', '.join(sorted(mesh.roles))}")
        if user is not None and grants is None:
            held = identity.allowed_roles(mesh, user)
            if role not in held:
                raise AccessDenied(f"{identity.normalize_user(user) or identity.ANONYMOUS} does not hold the role "
                                   f"{role!r} in mesh {mesh.name!r}; roles available to them: {', '.join(held)}.")
        if grants is None:
            grants = self.effective_grants(role, user)
        opened = {pid for pid, _ in grants}
        readable: dict[str, bool] = {}

        def reads(restricted: str) -> bool:
            if restricted not in readable:
                readable[restricted] = role_reads(role, products[restricted]) or restricted in opened
            return readable[restricted]

        closed_ids = {pid for rules, pids in static.by_rules.items() if not all(reads(r) for r in rules)
                      for pid in pids}
        allowed = static.every - closed_ids
        closed = sorted(closed_ids)
        hide = getattr(mesh.descriptor, "discovery", "listed") == "hidden"
        hidden = frozenset(closed) if hide else frozenset()
        locked = frozenset() if hide else frozenset(closed)
        aliases = {pid: f"{HIDDEN_PREFIX}{n}" for n, pid in enumerate(sorted(hidden), start=1)}
        unmasked = (static.with_pii & allowed if role_reads_pii(mesh, role) else
                    frozenset(pid for pid, kind in grants
                              if kind == "pii" and pid in allowed and pid in static.with_pii))
        return Policy(role=role, user=user, allowed=allowed, visible=allowed - static.broken,
                      locked=locked, hidden=hidden, grants=frozenset(grants), unmasked=unmasked,
                      _columns=columns, _aliases=aliases)

    def resolve(self, role: str | None, user: str | None) -> Policy | None:
        """The policy of a call's viewer; None (no filtering) when the call names neither role nor user. A user
        without a role acts as the mesh's least-privileged role."""
        if role is None and user is None:
            return None
        if role is None:
            role = identity.default_role(self.mesh)
        return self.policy(role, user)

    def product_for(self, product_id: str, policy: Policy | None = None) -> DataProduct | LockedProduct:
        """`product_for` for `policy`'s viewer (the unfiltered view when None)."""
        return product_for(self.mesh, product_id, policy or self.policy())


def product_for(mesh: DeclaredMesh, product_id: str, policy: Policy) -> DataProduct | LockedProduct:
    """The product a link names, as this viewer may see it: the product, its locked card, or UnknownProduct
    with the same message for an unknown id and a hidden one, so a URL cannot probe what exists."""
    if not isinstance(product_id, str) or product_id not in mesh.products or policy.is_hidden(product_id):
        raise UnknownProduct(f"no product {str(product_id)[:200]!r} in mesh {mesh.name!r}")
    product = mesh.products[product_id]
    return LockedProduct.of(product) if policy.is_locked(product_id) else product

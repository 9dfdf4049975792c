"""Who a user is to the mesh, and which roles they hold.

Roles come from mesh.yaml: `users` (email -> roles, groups) and `groups` (group ->
roles). In `open` mode (the default, for local use) any role may be chosen; in
`enforced` mode only the roles a user holds. An unknown, anonymous or malformed
identity always gets the least-privileged role, never an error. Grants
(`catalog.access.ledger`) widen what a user sees within a role; they never add a role.
"""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from catalog.descriptors.declared import DeclaredMesh
from catalog.descriptors.model import IdentityConfig, UserSpec
from catalog.descriptors.yamlio import YamlError, read_yaml
from catalog.errors import AccessDenied


class RefusalLog(Protocol):
    """Where a refusal is recorded: the access ledger's audit log."""

    def audit_refusal(self, actor: str | None, action: str, reason: str, **fields: Any) -> None: ...

ANONYMOUS = "anonymous"
# Printable, no spaces, no control characters: emails and login names, nothing a header could smuggle.
_USER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._%+\-'@]{0,253}$")


def normalize_user(raw: object) -> str | None:
    """The canonical form of a user name (trimmed, lower-case), or None when it is not a plausible one."""
    if not isinstance(raw, str):
        return None
    value = raw.strip().lower()
    return value if _USER_RE.match(value) else None


@dataclass(frozen=True)
class Principal:
    """A resolved identity: who, where the app learnt it, and the roles they may act as (default first)."""

    user: str
    roles: tuple[str, ...]
    known: bool
    enforced: bool
    source: str = "library"

    @property
    def default_role(self) -> str:
        return self.roles[0]


def config(mesh: DeclaredMesh) -> IdentityConfig:
    """The identity settings; fails closed when mesh.yaml is invalid but asks for `enforced` mode.

    MESHWORK_IDENTITY=enforced turns enforcement on for every mesh a process opens (the samples included).
    The loader falls back to a default descriptor when mesh.yaml does not validate, which would
    silently turn enforcement off; re-reading the raw mode keeps a typo from opening every role.
    """
    settings = mesh.descriptor.identity
    if os.environ.get("MESHWORK_IDENTITY", "").strip().lower() == "enforced" and settings.mode != "enforced":
        return settings.model_copy(update={"mode": "enforced"})  # a server-wide switch: never loosens a mesh
    if settings.mode == "enforced" or not _mesh_yaml_invalid(mesh):
        return settings
    try:
        raw = read_yaml(mesh.root / "mesh.yaml").data
    except (YamlError, OSError):
        return settings
    identity = raw.get("identity") if isinstance(raw, dict) else None
    if isinstance(identity, dict) and identity.get("mode") != "open" and "mode" in identity:
        return IdentityConfig(mode="enforced")
    return settings


def _mesh_yaml_invalid(mesh: DeclaredMesh) -> bool:
    return any(Path(p.path).name == "mesh.yaml" and p.product_id is None and p.severity == "error"
               for p in mesh.problems)


def default_role(mesh: DeclaredMesh) -> str:
    """The least-privileged role: `identity.default_role` when the mesh has it, else `analyst`."""
    wanted = config(mesh).default_role
    return wanted if wanted in mesh.roles else "analyst"


def _users(mesh: DeclaredMesh) -> dict[str, UserSpec]:
    out: dict[str, UserSpec] = {}
    for name, spec in mesh.descriptor.users.items():
        key = normalize_user(name)
        if key:
            out[key] = spec
    return out


def is_known(mesh: DeclaredMesh, user: str | None) -> bool:
    key = normalize_user(user)
    return bool(key) and key in _users(mesh)


def held_roles(mesh: DeclaredMesh, user: str | None) -> list[str]:
    """Roles mesh.yaml gives this user (directly or through groups), least-privileged role first.

    Roles the mesh does not define are ignored: naming a role in `users` cannot create it.
    """
    base = default_role(mesh)
    spec = _users(mesh).get(normalize_user(user) or "")
    held: set[str] = set()
    if spec is not None:
        held.update(spec.roles)
        for group in spec.groups:
            group_spec = mesh.descriptor.groups.get(group)
            if group_spec is not None:
                held.update(group_spec.roles)
    held &= set(mesh.roles)
    held.discard(base)
    return [base, *sorted(held)]


def allowed_roles(mesh: DeclaredMesh, user: str | None) -> list[str]:
    """Roles this user may act as now: every role in open mode, the held ones in enforced mode."""
    if config(mesh).mode == "open":
        base = default_role(mesh)
        return [base, *sorted(r for r in mesh.roles if r != base)]
    return held_roles(mesh, user)


def principal(mesh: DeclaredMesh, user: str | None, source: str = "library") -> Principal:
    """Resolve a user (None or malformed -> anonymous) to the roles they may act as."""
    name = normalize_user(user) or ANONYMOUS
    # An app visitor without a usable identity gets the least-privileged role even in open mode.
    roles = [default_role(mesh)] if name == ANONYMOUS and source != "library" else allowed_roles(mesh, name)
    return Principal(user=name, roles=tuple(roles), known=is_known(mesh, name),
                     enforced=config(mesh).mode == "enforced", source=source if name != ANONYMOUS else "anonymous")


def local_user(mesh: DeclaredMesh) -> str:
    """The user a local process acts as: MESHWORK_USER, else `identity.local_user`, else the OS user."""
    for candidate in (os.environ.get("MESHWORK_USER"), config(mesh).local_user, _os_user()):
        name = normalize_user(candidate)
        if name:
            return name
    return ANONYMOUS


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no USER/LOGNAME and no passwd entry (some containers)
        return None


def check_role(mesh: DeclaredMesh, audit: RefusalLog, role: str, user: str | None) -> None:
    """Raise AccessDenied (and record it) when `user` may not act as `role` in this mesh."""
    roles = allowed_roles(mesh, user)
    if role in roles:
        return
    name = normalize_user(user) or ANONYMOUS
    reason = (f"{name} does not hold the role {role!r} in mesh {mesh.name!r}; roles available to them: "
              f"{', '.join(roles)}. Ask an administrator to add the role to `users` in mesh.yaml.")
    audit.audit_refusal(actor=name, action="session.open", role=role, reason=reason)
    raise AccessDenied(reason)


def user_roles_frame(mesh: DeclaredMesh) -> pl.DataFrame:
    """One row per user named in mesh.yaml with the roles they hold: for reviews and the app."""
    rows = [{"user": user, "roles": ", ".join(held_roles(mesh, user)),
             "groups": ", ".join(spec.groups)} for user, spec in sorted(_users(mesh).items())]
    return pl.DataFrame(rows, schema={"user": pl.String, "roles": pl.String, "groups": pl.String})

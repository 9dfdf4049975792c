"""Who an MCP call runs as: one user and one role per call, never a wider view than that person has.

Over stdio the caller is the local user (MESHWORK_USER, `identity.local_user`, the OS user) held to the mesh's
identity mode: in `enforced` mode only a role mesh.yaml gives them. Over HTTP it is the user a bearer token
maps to in mesh.yaml (`mcp.tokens`, stored as SHA-256 hashes), checked the same way on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from catalog.access import identity
from catalog.errors import AccessDenied, MeshError
from catalog.mesh import Mesh

TOKEN_BYTES = 32


@dataclass(frozen=True)
class Caller:
    """The identity one call runs as, and the transport it came over (for the audit log)."""

    user: str
    role: str
    via: str  # "stdio" or "http"


def digest(token: str) -> str:
    """The hex SHA-256 mesh.yaml stores for a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh random token and its SHA-256: the token goes to the person, only the hash into mesh.yaml."""
    token = "mwk_" + secrets.token_urlsafe(TOKEN_BYTES)
    return token, digest(token)


def checked(mesh: Mesh, user: str, role: str | None, via: str) -> Caller:
    """`user` acting as `role` (default: their least-privileged role), or AccessDenied (recorded) when the
    mesh's identity mode does not let them."""
    name = identity.normalize_user(user) or identity.ANONYMOUS
    chosen = role or mesh.roles_for(name)[0]
    if chosen not in mesh.roles:
        raise MeshError(f"unknown role {chosen!r}; this mesh has roles: {', '.join(sorted(mesh.roles))}")
    identity.check_role(mesh.declared, mesh.access, chosen, name)
    return Caller(user=name, role=chosen, via=via)


def local_caller(mesh: Mesh, role: str | None = None, user: str | None = None) -> Caller:
    """The stdio caller: `user` or the local user, as `role` or their least-privileged one."""
    return checked(mesh, user or identity.local_user(mesh.declared), role, "stdio")


class TokenBook:
    """The bearer tokens mesh.yaml accepts, by hash; `caller(token)` is the one way an HTTP request gets an
    identity. Every comparison is constant-time, and a refused token is recorded without the token."""

    def __init__(self, mesh: Mesh):
        self.mesh = mesh
        self.tokens = list(mesh.descriptor.mcp.tokens)

    def caller(self, token: str | None) -> Caller:
        """The caller this token acts as, or AccessDenied with a plain reason (recorded in the audit log)."""
        if not token:
            reason = "this MCP server needs a bearer token: send `Authorization: Bearer <token>`"
            self.mesh.access.audit_refusal(None, "mcp.connect", reason)
            raise AccessDenied(reason)
        hashed = digest(token)
        match = None
        for entry in self.tokens:  # no early exit: the time taken does not tell how many entries matched
            if hmac.compare_digest(entry.sha256, hashed):
                match = entry
        if match is None:
            reason = (f"this bearer token is not one mesh {self.mesh.name!r} accepts (unknown, or removed from "
                      "`mcp.tokens` in mesh.yaml)")
            self.mesh.access.audit_refusal(None, "mcp.connect", reason)
            raise AccessDenied(reason)
        return checked(self.mesh, match.user, match.role, "http")

"""Who a CLI command speaks to: `--role` and `--user`, resolved once to the one visibility policy.

Every command that lists products takes both. Without `--user` the command acts as the local user
(MESHWORK_USER, identity.local_user, the OS user); without `--role`, as that user's least-privileged
role, so a terminal never shows more than the catalog would. A role the user does not hold is a
refusal (exit 2, recorded in the audit log), never a wider view.
"""

from __future__ import annotations

import typer

import catalog
from catalog.access import identity
from catalog.cli.common import fail
from catalog.errors import MeshError
from catalog.access.policy import Policy

ROLE = typer.Option(None, "--role", help="act as this role (default: the user's least-privileged role)")
USER = typer.Option(None, "--user", help="act as this user (default: MESHWORK_USER, identity.local_user, "
                                         "the OS user); their live grants apply")


def viewer(mesh: catalog.Mesh, role: str | None, user: str | None) -> Policy:
    """The policy for the command's viewer, or exit 2 with the reason."""
    name = (identity.normalize_user(user) or identity.ANONYMOUS) if user else identity.local_user(mesh.declared)
    try:
        chosen = role or mesh.roles_for(name)[0]
        if chosen not in mesh.roles:
            raise MeshError(f"unknown role {chosen!r}; this mesh has roles: {', '.join(sorted(mesh.roles))}")
        identity.check_role(mesh.declared, mesh.access, chosen, name)
        return mesh.policy(chosen, name)
    except MeshError as exc:
        fail(str(exc), 2)
        raise  # unreachable: fail exits

"""Where a mesh's state lives: the embedded SQLite file (the default), or a PostgreSQL database shared by
several app servers. `MESHWORK_STATE_URL` wins over `state:` in mesh.yaml, so one mesh folder can be deployed
with the database (and its password) given by the environment, never written among the descriptors."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from catalog.errors import MeshError

ENV = "MESHWORK_STATE_URL"
SCHEMES = ("postgresql", "postgres")


def state_url(declared: str | None, environ: dict[str, str] | None = None) -> str | None:
    """The PostgreSQL URL the state store uses, or None for the SQLite file in the state folder."""
    env = os.environ if environ is None else environ
    chosen, origin = (env.get(ENV), ENV) if env.get(ENV) else (declared, "mesh.yaml: state")
    if not chosen or chosen.strip().lower() in {"sqlite", "sqlite:"}:
        return None
    scheme = urlsplit(chosen.strip()).scheme.lower()
    if scheme not in SCHEMES:
        raise MeshError(f"{origin}: the state store is 'sqlite' (the default) or a postgresql://user@host/db URL, "
                        f"not a {scheme or 'bare'} location")
    return chosen.strip()

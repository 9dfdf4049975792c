"""Which mesh and role this browser session works with, and the cached mesh itself.

The mesh is cached with `st.cache_resource` keyed by its path and the mtimes of its
descriptors, so switching pages never reloads it and editing a descriptor does.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from pathlib import Path

import pandas  # noqa: F401 - imported before the warm-up thread starts: two threads importing one module
import pyarrow  # noqa: F401   at once can see it half-built
import streamlit as st

import catalog
import catalog.governance  # noqa: F401
import catalog.search  # noqa: F401
from catalog.errors import MeshError
from catalog.history import ensure_history
from catalog.identity import default_role
from components import identity as app_identity

REPO = Path(__file__).resolve().parents[2]
SAMPLES = {name: REPO / "sample_data" / name for name in ("banking", "life_sciences", "supply_chain")}


def _default_mesh_path() -> str:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--mesh", default=None)
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args.mesh or os.environ.get("MESHWORK_MESH") or str(SAMPLES["banking"])


def descriptor_signature(root: Path) -> tuple[tuple[str, int], ...]:
    """(path, mtime) of every descriptor: a cheap key that changes when a descriptor does."""
    files = [root / "mesh.yaml", *root.glob("*/domain.yaml"), *root.glob("*/products/*.y*ml")]
    out = []
    for path in files:
        try:
            out.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            continue
    return tuple(sorted(out))


@st.cache_resource(show_spinner="Loading the mesh…", max_entries=8)
def _load(path: str, signature: tuple[tuple[str, int], ...]) -> catalog.Mesh:
    mesh = catalog.open_mesh(path)
    threading.Thread(target=_warm, args=(mesh,), name="meshwork-warm", daemon=True).start()
    return mesh


def _warm(mesh: catalog.Mesh) -> None:
    """Build the derived indexes (search, signals, compliance) and the default role's database while the person
    reads the first page, so the first search, product page or query does not wait for them. A failure here is
    left to the page that needs it."""
    try:
        mesh.search_index.table()
        mesh.compliance()
        if mesh.engine.name == "duckdb":  # a Spark engine would start a JVM for a visit that may never query
            database = mesh.engine.database(default_role(mesh))
            database.ensure(set(sorted(database.visible)[:1]))  # the first view pays the SQL generator's set-up
    except Exception:  # noqa: BLE001 - the page that needs the index reports its own error
        pass


def stored_state(mesh: catalog.Mesh, *tables: str) -> tuple:
    """A cache key for what a page reads from the mesh's state store: the mesh, its descriptors and the newest
    row of each table, so a cached result is recomputed exactly when something it reads was stored."""
    ensure_history(mesh)  # the sample history is written on first use: before the key, not after it
    return str(mesh.root), descriptor_signature(mesh.root), *mesh.state.revision(*tables)


def mesh_path() -> str:
    if "mesh_path" not in st.session_state:
        st.session_state.mesh_path = st.query_params.get("mesh") or _default_mesh_path()
    return st.session_state.mesh_path


def current_mesh() -> catalog.Mesh | None:
    """The mesh this session works on, or None (with the reason shown) if it cannot open."""
    path = Path(mesh_path()).expanduser()
    try:
        return _load(str(path.resolve()), descriptor_signature(path))
    except MeshError as exc:
        st.error(f"Cannot open the mesh: {exc}")
        st.caption("Pick one of the sample meshes in the sidebar, or type the folder that holds mesh.yaml.")
        return None


def require_mesh() -> catalog.Mesh:
    mesh = current_mesh()
    if mesh is None:
        st.stop()
    return mesh


def current_role(mesh: catalog.Mesh) -> str:
    """The role picked in the sidebar, if this user may act as it; else their least-privileged role."""
    roles = app_identity.current_principal(mesh).roles
    role = st.session_state.get("role")
    return role if role in roles else roles[0]


def current_user(mesh: catalog.Mesh | None = None) -> str:
    """Who is using the app (see components/identity.py for the order of trust)."""
    mesh = mesh or _quiet_mesh()
    if mesh is None:
        return st.session_state.get("user") or os.environ.get("MESHWORK_USER") or os.environ.get("USER") or "anonymous"
    return app_identity.current_principal(mesh).user


def _quiet_mesh() -> catalog.Mesh | None:
    path = Path(mesh_path()).expanduser()
    try:
        return _load(str(path.resolve()), descriptor_signature(path))
    except MeshError:
        return None


def session(mesh: catalog.Mesh):
    """The governed session of this browser tab, for the current role."""
    return mesh.session(role=current_role(mesh), user=current_user(mesh))


def _on_pick() -> None:
    choice = st.session_state.mesh_choice
    if choice in SAMPLES:
        st.session_state.mesh_path = str(SAMPLES[choice])


def _on_path() -> None:
    typed = st.session_state.mesh_path_input.strip()
    if typed:
        st.session_state.mesh_path = typed


def sidebar() -> None:
    """Mesh picker and role switcher, on every page."""
    path = mesh_path()
    with st.sidebar:
        st.markdown("### :material/hub: Meshwork")
        current = next((n for n, p in SAMPLES.items() if Path(path).resolve() == p.resolve()), "other folder")
        options = [*SAMPLES, "other folder"]
        st.selectbox("Mesh", options, index=options.index(current), key="mesh_choice", on_change=_on_pick,
                     format_func=lambda n: n.replace("_", " ").title() if n in SAMPLES else "Other folder…")
        if st.session_state.get("mesh_choice") == "other folder":
            st.text_input("Mesh folder", value=path, key="mesh_path_input", on_change=_on_path,
                          help="the folder that holds mesh.yaml")
        mesh = _quiet_mesh()  # the page itself says why a mesh cannot open, once
        if mesh is not None:
            who = app_identity.current_principal(mesh)
            app_identity.sidebar_identity(mesh, who)
            roles = list(who.roles)
            role = current_role(mesh)
            if st.session_state.get("role") not in roles:
                st.session_state["role"] = role
            st.selectbox("Role", roles, index=roles.index(role), key="role",
                         help="what you may see: roles without PII access see personal data masked")
            spec = mesh.roles[role]
            st.caption(("Sees personal data unmasked." if spec.pii else "Personal data is masked.")
                       + (f" {spec.description}" if spec.description else ""))

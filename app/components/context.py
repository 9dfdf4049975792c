"""Which mesh and role this browser session works with, and the cached mesh itself.

The mesh is cached with `st.cache_resource` keyed by its path and the mtimes of its
descriptors, so switching pages never reloads it and editing a descriptor does.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
from pathlib import Path

import pandas  # noqa: F401 - imported before the warm-up thread starts: two threads importing one module
import pyarrow  # noqa: F401   at once can see it half-built
import streamlit as st

import catalog
import catalog.governance.policies  # noqa: F401
import catalog.discover.search  # noqa: F401
from catalog.descriptors.loader import descriptors_revision
from catalog.errors import MeshError
from catalog.access.identity import default_role
from components import identity as app_identity, page
from components.text import md

REPO = Path(__file__).resolve().parents[2]
SAMPLES = {name: REPO / "sample_data" / name for name in ("banking", "life_sciences", "supply_chain")}


MESH_PARAM, ROLE_PARAM = "mesh", "role"
_KEY = re.compile(r"[^a-z0-9_-]+")


def _started_with() -> list[Path]:
    """The meshes named when the server started: every `--mesh`, MESHWORK_MESH, and MESHWORK_MESHES (paths
    separated by the OS path separator), in that order."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--mesh", action="append", default=[])
    args, _ = parser.parse_known_args(sys.argv[1:])
    named = [*args.mesh, os.environ.get("MESHWORK_MESH", ""),
             *os.environ.get("MESHWORK_MESHES", "").split(os.pathsep)]
    return [Path(n).expanduser().resolve() for n in named if n.strip()]


def served_meshes() -> dict[str, Path]:
    """Key (the name used in `?mesh=`) -> folder of every mesh this session may open: those the server was
    started with, then the three samples. Nothing a browser sends can add to it; server-side code (a test) may
    add one through `st.session_state["mesh_path"]`."""
    extra = [*_started_with()]
    if st.session_state.get("mesh_path"):
        extra.insert(0, Path(st.session_state["mesh_path"]).expanduser().resolve())
    out: dict[str, Path] = {}
    for path in extra:
        if path in out.values():
            continue
        base = _KEY.sub("_", path.name.lower()).strip("_") or "mesh"
        key, n = base, 2
        while key in out:
            key, n = f"{base}-{n}", n + 1
        out[key] = path
    for name, path in SAMPLES.items():
        if path.resolve() not in out.values():
            out[name if name not in out else f"sample_{name}"] = path
    return out


def mesh_label(key: str) -> str:
    return key.replace("_", " ").replace("-", " ").title()


def _notes() -> list[str]:
    return st.session_state.setdefault("url_notes", [])


def mesh_key() -> str:
    """The served mesh this session works on; a `?mesh=` naming another served mesh switches to it, and one
    naming anything else is ignored with a note that says the same whatever the value names."""
    served = served_meshes()
    current = st.session_state.get("mesh_key")
    if current not in served:
        current = next(iter(served))
    asked = st.query_params.get(MESH_PARAM)
    if asked and asked != current and asked != st.session_state.get("mesh_in_url"):  # a link asks, not our echo
        if asked in served:
            current = asked
        else:
            _notes().append(f"This link names a mesh this server does not serve; showing {mesh_label(current)}.")
    st.session_state.mesh_key = current
    st.session_state.mesh_in_url = current
    if asked != current:  # written back at once, so the next call in this run sees the link as answered
        st.query_params[MESH_PARAM] = current
    return current


def state_params() -> dict[str, str]:
    """The query parameters that keep a link on this session's mesh and role."""
    params = {MESH_PARAM: st.session_state.get("mesh_key") or mesh_key()}
    if st.session_state.get("role"):
        params[ROLE_PARAM] = st.session_state["role"]
    return params


def descriptor_signature(root: Path) -> str:
    """A cheap key that changes when a descriptor does (the files' paths, mtimes and sizes, nothing parsed)."""
    return descriptors_revision(root)


@st.cache_resource(show_spinner="Loading the mesh…", max_entries=8)
def _load(path: str, signature: str) -> catalog.Mesh:
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
        if mesh.engine.STARTS_IN_PROCESS:  # a Spark engine would start a JVM for a visit that may never query
            database = mesh.engine.database(default_role(mesh))
            database.ensure(set(sorted(database.visible)[:1]))  # the first view pays the SQL generator's set-up
    except Exception:  # noqa: BLE001 - the page that needs the index reports its own error
        pass


def stored_state(mesh: catalog.Mesh, *tables: str) -> tuple:
    """A cache key for what a page reads from the mesh's state store: the mesh, its descriptors and the newest
    row of each table, so a cached result is recomputed exactly when something it reads was stored."""
    return str(mesh.root), descriptor_signature(mesh.root), *mesh.state.revision(*tables)


def mesh_path() -> str:
    return str(served_meshes()[mesh_key()])


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
        page.end()
    return mesh


def current_role(mesh: catalog.Mesh) -> str:
    """The role this session acts as: the one a link (`?role=`) or the sidebar asked for, if this user may act
    as it; else the one they had, else their least-privileged role. A refused role leaves a one-line note."""
    roles = app_identity.current_principal(mesh).roles
    role = st.session_state.get("role")
    role = role if role in roles else roles[0]
    asked = st.query_params.get(ROLE_PARAM)
    if asked and asked != role and asked != st.session_state.get("role_in_url"):  # a link asks, not our echo
        if asked in roles:
            role = asked
        else:
            _notes().append(f"This link asks for a role you may not act as in {mesh_label(mesh_key())}; "
                            f"you see it as {role}.")
    if st.session_state.get("role") != role:
        st.session_state["role"] = role
    st.session_state.role_in_url = role
    if asked != role:
        st.query_params[ROLE_PARAM] = role
    return role


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
    """Another mesh: the page's selections (product, domain, tab...) belonged to the old one."""
    choice = st.session_state.mesh_choice
    if choice in served_meshes():
        st.session_state.mesh_key = choice
        st.query_params.clear()
        st.query_params[MESH_PARAM] = choice
        if st.session_state.get("role"):
            st.query_params[ROLE_PARAM] = st.session_state["role"]


def _on_role() -> None:
    st.query_params[ROLE_PARAM] = st.session_state["role"]


def show_notes() -> None:
    """What a link asked for and did not get, one line each, above the page."""
    for note in dict.fromkeys(st.session_state.pop("url_notes", [])):
        st.info(note, icon=":material/link_off:")


def settle() -> catalog.Mesh | None:
    """Before the page: the mesh and role this run works with (a link's `?mesh=` or `?role=` may change them),
    and a note above the page on what a link asked for and did not get. The mesh (None if it cannot open) is
    handed to `sidebar()`, so the descriptors are not scanned once more for it."""
    mesh_key()
    mesh = _quiet_mesh()
    if mesh is not None:
        current_role(mesh)
    show_notes()
    return mesh


def sidebar(mesh: catalog.Mesh | None) -> None:
    """Mesh picker and role switcher, on every page; both live in the URL too (`?mesh=`, `?role=`). Drawn after
    the page (see components/page.py), from what `settle()` decided before it."""
    served = served_meshes()
    key = mesh_key()
    with st.sidebar:
        st.markdown("### :material/hub: Meshwork")
        options = list(served)
        if st.session_state.get("mesh_choice") != key:
            st.session_state.mesh_choice = key
        st.selectbox("Mesh", options, key="mesh_choice", on_change=_on_pick, format_func=mesh_label,
                     help="the meshes this server was started with (`--mesh`, MESHWORK_MESHES) and the samples")
        if mesh is not None:  # the page itself says why a mesh cannot open, once
            who = app_identity.current_principal(mesh)
            app_identity.sidebar_identity(mesh, who)
            roles = list(who.roles)
            current_role(mesh)
            st.selectbox("Role", roles, key="role", on_change=_on_role,
                         help="what you may see: roles without PII access see personal data masked")
            spec = mesh.roles[st.session_state["role"]]
            st.caption(("Sees personal data unmasked." if spec.pii else "Personal data is masked.")
                       + (f" {md(spec.description)}" if spec.description else ""))

"""Who is using the app, in this order of trust:

1. Streamlit's OIDC login (`st.user`), when `.streamlit/secrets.toml` has an `[auth]` section;
   until the visitor logs in they are anonymous and see a login button;
2. a trusted reverse-proxy header (`st.context.headers`), only when mesh.yaml names it in
   `identity.trusted_header`; a missing or malformed value makes the visitor anonymous;
3. `st.session_state["user"]` (set by server-side code such as tests, never by a widget);
4. the local user: MESHWORK_USER, mesh.yaml `identity.local_user`, else the OS user.

An anonymous visitor, or one with a malformed identity, gets the least-privileged role only.
"""

from __future__ import annotations

import streamlit as st

import catalog
from catalog.access import identity
from catalog.access.identity import ANONYMOUS, Principal
from components.text import md

SOURCES = {"login": "signed in", "header": "from the proxy", "session": "set by the app",
           "local": "local user", "anonymous": "not identified"}


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # Streamlit raises when there is no secrets.toml at all
        return False


def _headers() -> dict[str, str]:
    try:
        return {k.lower(): v for k, v in st.context.headers.items()}
    except Exception:  # no request context (bare script run)
        return {}


def current_principal(mesh: catalog.Mesh) -> Principal:
    """The visitor as the mesh sees them: user name, where it came from, and the roles they may pick."""
    if st.user.get("is_logged_in"):
        return mesh.principal(st.user.get("email") or st.user.get("preferred_username"), "login")
    if _auth_configured():
        return mesh.principal(None, "login")
    header = identity.config(mesh).trusted_header
    if header:
        return mesh.principal(_headers().get(header.lower()), "header")
    if st.session_state.get("user"):
        return mesh.principal(st.session_state["user"], "session")
    return mesh.principal(identity.local_user(mesh), "local")


def sidebar_identity(mesh: catalog.Mesh, who: Principal) -> None:
    """Who the app thinks you are, and a login or logout button when Streamlit login is configured."""
    if who.user == ANONYMOUS:
        st.caption(":material/person_off: Not identified: you get the least-privileged view "
                   f"(role {md(who.default_role)}).")
    else:
        note = "" if who.known or not who.enforced else " · not in this mesh's users: least-privileged view"
        st.caption(f":material/person: **{md(who.user)}** ({SOURCES.get(who.source, who.source)}){note}")
    if not who.enforced:
        st.caption(":material/lock_open: Identity mode **open**: anyone may choose any role here.",
                   help="`identity.mode: enforced` in mesh.yaml (or MESHWORK_IDENTITY=enforced for the whole server) "
                        "limits each person to the roles mesh.yaml gives them.")
    if st.user.get("is_logged_in"):
        st.button("Log out", icon=":material/logout:", on_click=st.logout, key="identity_logout")
    elif _auth_configured():
        st.button("Log in", icon=":material/login:", on_click=st.login, key="identity_login")

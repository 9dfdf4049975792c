"""Pin a workbench cell (its query and chart) to a new or existing dashboard."""

from __future__ import annotations

import streamlit as st

import catalog
from catalog.charts import ChartSpec
from catalog.dashboards.model import SIZES, Tile, slug
from catalog.errors import MeshError
from components import context
from components.links import page_link
from components.popover import form_popover
from components.text import code, md

NEW = "A new dashboard…"


def pin_button(mesh: catalog.Mesh, query: str, chart_spec: ChartSpec | None, key: str) -> None:
    """A 'Pin to dashboard' popover: pick a dashboard (or name a new one in a domain), then write its YAML."""
    popover = form_popover("Pin to dashboard", key=f"{key}_pin_open", icon=":material/push_pin:")
    if popover is None:
        return
    with popover:
        boards = {b.id: b for b in mesh.dashboards.list().values() if not b.unreadable}
        choice = st.selectbox("Dashboard", [*boards, NEW], key=f"{key}_pin_board",
                              format_func=lambda i: f"{boards[i].title} ({i})" if i in boards else i)
        title = None
        if choice == NEW:
            domains = sorted(mesh.domains)
            domain = st.selectbox("Domain", domains, key=f"{key}_pin_domain",
                                  help="the domain whose folder keeps the dashboard (and reviews it in git)")
            title = st.text_input("Dashboard title", key=f"{key}_pin_title", placeholder="e.g. Customer 360")
            dashboard_id = f"{domain}.{slug(title)}" if title and title.strip() else ""
            if dashboard_id:
                st.caption(f"Saved as {code(f'{domain}/dashboards/{slug(title)}.yaml')}")
        else:
            dashboard_id = choice
        tile_title = st.text_input("Tile title", value=(chart_spec.title if chart_spec and chart_spec.title else ""),
                                   key=f"{key}_pin_tile", placeholder="what this chart shows")
        size = st.select_slider("Width", list(SIZES), value="medium", key=f"{key}_pin_size")
        if st.button("Pin", key=f"{key}_pin_go", type="primary"):
            if not dashboard_id:
                st.error("Name the new dashboard first.")
                return
            try:
                tile = Tile(title=tile_title.strip() or "Untitled chart", query=query, chart=chart_spec, size=size)
                path = mesh.dashboards.pin(dashboard_id, tile, title=title, user=context.current_user(mesh))
            except (MeshError, ValueError) as exc:
                st.error(md(exc))
                return
            st.success(f"Pinned to {code(dashboard_id)} ({md(path.relative_to(mesh.root))}).")
            page_link("views/dashboards.py", "Open the dashboard", {"dashboard": dashboard_id}, ":material/dashboard:")

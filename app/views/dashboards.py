"""Dashboards: shared, role-aware boards of pinned workbench charts.

Without a query parameter: every dashboard by domain, with owner and last view. Deep link
`/dashboards?dashboard=<domain>.<name>`: shared filters, then tiles in a responsive grid, each run in
the viewer's governed session (cached), with its freshness and a link to open its query in the workbench.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
import streamlit as st

from catalog.charts import render_chart
from catalog.dashboards.model import GRID_UNITS, Dashboard, DashboardFilter, slug
from catalog.dashboards.run import TileResult
from catalog.errors import ChartError, MeshError
from catalog.numbers import moment_text, rows_text
from components import context, page
from components.links import page_link, workbench_link
from components.text import code, md
from components.tables import show_table

PAGE = "views/dashboards.py"

mesh = context.require_mesh()
desk = mesh.dashboards
role, user = context.current_role(mesh), context.current_user(mesh)


def dashboard_link(board: Dashboard) -> None:
    page_link(PAGE, board.title, {"dashboard": board.id}, ":material/dashboard:")


def show_list() -> None:
    page.title("Dashboards")
    st.caption("Charts pinned from the workbench, shared by link. Every tile runs with your role, so personal "
               "data is masked for you exactly as in the workbench. Pin a workbench cell to add one.")
    boards = desk.list()
    if not boards:
        st.info("No dashboards yet. In the workbench, run a query and use **Pin to dashboard** on its cell.")
        return
    views = desk.last_views()
    for domain in sorted({b.domain for b in boards.values()}):
        st.subheader(md(mesh.domains[domain].title if domain in mesh.domains else domain))
        for board in (b for b in boards.values() if b.domain == domain):
            with st.container(border=True):
                left, right = st.columns([3, 2])
                with left:
                    dashboard_link(board)
                    if board.description:
                        st.caption(md(board.description))
                with right:
                    seen = views.get(board.id)
                    broken = sum(s.broken for s in board.slots)
                    st.markdown(f"Owner: {md(board.owner) or 'none declared'}  \n"
                                f"{len(board.slots)} tiles" + (f" · :red[{broken} broken]" if broken else "")
                                + f"  \nLast viewed: {md(moment_text(seen[0]) + ' by ' + seen[1]) if seen else 'never'}")
                if board.problems:
                    with st.expander(f"{len(board.problems)} problem(s) in {md(board.path.name)}"):
                        for problem in board.problems:
                            st.text(str(problem))


def filter_widgets(board: Dashboard) -> dict[str, object]:
    values: dict[str, object] = {}
    if not board.filters:
        return values
    cols = st.columns(min(len(board.filters), 4))
    for n, spec in enumerate(board.filters):
        key = f"dashfilter_{board.id}_{spec.name}"
        with cols[n % len(cols)]:
            values[spec.name] = filter_widget(board, spec, key)
    return values


def filter_widget(board: Dashboard, spec: DashboardFilter, key: str) -> object:
    if spec.kind == "select":
        options = desk.filter_options(board, spec, role, user)
        default = [v for v in (spec.default if isinstance(spec.default, list) else [spec.default]) if v in options]
        return st.multiselect(spec.caption, options, default=default, key=key, placeholder="All")
    if spec.kind == "date_range":
        default = tuple(date.fromisoformat(str(v)) for v in spec.default if v) if isinstance(spec.default, list) else ()
        picked = st.date_input(spec.caption, value=default, key=key, format="YYYY-MM-DD")
        picked = tuple(picked) if isinstance(picked, (list, tuple)) else (picked,)
        return (picked[0] if picked else None, picked[1] if len(picked) > 1 else None)
    low, high = st.columns(2)
    default = spec.default if isinstance(spec.default, (list, tuple)) else (None, None)
    return (low.number_input(f"{spec.caption} from", value=default[0], key=f"{key}_lo"),
            high.number_input("to", value=default[1], key=f"{key}_hi"))


def tile_downloads(board: Dashboard, result: TileResult, values: dict[str, object]) -> None:
    def make(fmt: str):
        def data() -> bytes:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"tile.{fmt}"
                desk.export_tile(board, result.slot, role, user, path, fmt, values)
                return path.read_bytes()
        return data

    name = slug(result.slot.title)
    with st.popover("Download", icon=":material/download:"):
        st.download_button("CSV", make("csv"), file_name=f"{name}.csv", mime="text/csv",
                           key=f"dl_csv_{board.id}_{result.index}", on_click="ignore")
        st.download_button("Parquet", make("parquet"), file_name=f"{name}.parquet",
                           mime="application/vnd.apache.parquet", key=f"dl_pq_{board.id}_{result.index}",
                           on_click="ignore")


def show_tile(board: Dashboard, result: TileResult, values: dict[str, object]) -> None:
    tile = result.slot.tile
    with st.container(border=True):
        st.markdown(f"**{md(result.slot.title)}**")
        if tile is not None and tile.description:
            st.caption(md(tile.description))
        if not result.ok:
            (st.error if result.slot.broken else st.warning)(md(result.error), icon=":material/info:")
        elif tile is not None and tile.chart is not None:
            try:
                st.altair_chart(render_chart(result.frame, tile.chart).properties(height=260), width="stretch")
            except ChartError as exc:
                st.warning(f"The chart cannot be drawn: {md(exc)}", icon=":material/info:")
        else:
            show_table(result.frame, human=False, height=260)
        notes = [result.freshness()]
        if result.ok:
            notes.append(rows_text(result.total_rows) + (f" (first {result.frame.height:,} shown)"
                                                          if result.truncated else ""))
        if result.applied:
            notes.append("filtered by " + ", ".join(result.applied))
        unfiltered = [n for n in result.not_applied if values.get(n) not in (None, [], (None, None))]
        if unfiltered:
            notes.append("not filtered by " + ", ".join(unfiltered) + " (no such column)")
        st.caption(md(" · ".join(n for n in notes if n)))
        if tile is not None:
            left, right = st.columns(2)
            with left:
                workbench_link(tile.query)
            if result.ok:
                with right:
                    tile_downloads(board, result, values)


def show_dashboard(board: Dashboard) -> None:
    page_link(PAGE, "All dashboards", {}, ":material/arrow_back:")
    page.title(md(board.title))
    st.caption(f"{code(board.id)} · owner {md(board.owner) or 'none declared'} · viewing as **{md(role)}**"
               + (" (personal data unmasked)" if mesh.roles[role].pii else " (personal data masked)"))
    if board.description:
        st.markdown(md(board.description))
    for problem in board.problems:
        if problem.severity == "error" and not any(problem in s.problems for s in board.slots):
            st.error(md(problem))
    if st.session_state.get("dashboard_viewed") != (board.id, role):
        desk.record_view(board.id, user, role)
        st.session_state["dashboard_viewed"] = (board.id, role)
    values = filter_widgets(board)
    progress = st.progress(0.0, text=f"Loading {len(board.slots)} tiles…")

    def tick(result: TileResult, done: int, total: int) -> None:
        progress.progress(done / total, text=f"Loaded {done} of {total} tiles")

    try:
        results = desk.run(board, role, user, values, on_tile=tick)
    except MeshError as exc:
        progress.empty()
        st.error(md(exc))
        return
    progress.empty()
    by_index = {r.index: r for r in results}
    for row in board.rows():
        units = [s.tile.units if s.tile else 2 for s in row]
        spec = units + ([GRID_UNITS - sum(units)] if sum(units) < GRID_UNITS else [])
        cols = st.columns(spec, gap="medium")
        for col, slot in zip(cols, row):
            with col:
                show_tile(board, by_index[slot.index], values)
    st.download_button("Export as HTML", lambda: desk.export_html(board, role, user, values=values).encode(),
                       file_name=f"{board.id}.html", mime="text/html", icon=":material/download:",
                       on_click="ignore", key=f"html_{board.id}")
    st.caption("The HTML file holds every chart (as SVG) and needs no network; it shows data as your role sees it.")


asked = st.query_params.get("dashboard")
if asked:
    try:
        show_dashboard(desk.get(asked))
    except MeshError as exc:
        page.title("Dashboard not found")
        st.warning(md(exc), icon=":material/search_off:")
        page_link(PAGE, "All dashboards", {}, ":material/arrow_back:")
else:
    show_list()

"""Workbench: notebook-style cells of governed SQL over the products this role can see, with charts,
exports, query history, ready-made example notebooks and `.ipynb` export.

Deep links: `/workbench?sql=<urlencoded query>` opens the page with a new cell holding that query, and
`?notebook=<saved notebook or example>` opens that notebook; neither runs anything: only the person's click on
Run does, so a link someone else made never queries in your name. Reads state -> asks `catalog` (sessions,
notebooks, charts) -> lays the cells out.
"""

from __future__ import annotations

import streamlit as st

from catalog.workbench.ipynb import ipynb_bytes
from catalog.workbench.notebook import Cell, Notebook, NotebookError, NotebookStore, example_notebooks
from components import context, page
from components.cells import cell_toolbar, history_list, markdown_cell
from components.editor import PLAIN_KEY, available, sql_editor
from components.jobs import CellQueries, draw_outcome, prepare_views
from components.notebook_actions import NotebookActions
from components.schema_browser import schema_browser
from components.text import md
from components.tables import show_table

MAX_SHOWN = 1000  # rows a result table shows; the count, exports and notebooks see them all
TIMEOUT_S = 30.0
SCRATCH = "Scratch notebook"
HISTORY_READ = 200  # recent runs read for the history list (which shows each distinct query once)

mesh = context.require_mesh()
role = context.current_role(mesh)
user = context.current_user(mesh)
session = mesh.session(role=role, user=user, timeout_s=TIMEOUT_S)
schema = session.schema()
history = mesh.query_history(user)  # in the state store: the same on every app server
store = NotebookStore(mesh.state_dir, user)

# ---------------------------------------------------------------- page state (per browser tab and mesh)

if st.session_state.get("wb_mesh") != str(mesh.root):
    st.session_state.wb_mesh = str(mesh.root)
    st.session_state.wb_notebook = Notebook(title=SCRATCH, cells=[Cell(source="")])
    st.session_state.wb_charts = {}  # cell id -> ChartSpec | None chosen in the builder
    st.session_state.wb_versions = {}  # cell id -> editor version (a new text needs a new editor)
    CellQueries(st.session_state).reset()
notebook: Notebook = st.session_state.wb_notebook
queries = CellQueries(st.session_state)  # each cell's running query and last outcome
charts: dict = st.session_state.wb_charts
actions = NotebookActions(st.session_state, store, queries, charts,  # what the buttons and pickers do
                          new_session=lambda: mesh.session(role=role, user=user, timeout_s=TIMEOUT_S),
                          run_query=lambda s, q: history.run(s, q, MAX_SHOWN), query_params=st.query_params)


def show_cell_outcome(cell: Cell) -> None:
    drawn, chart = draw_outcome(mesh, session, role, queries.outcomes.get(cell.id), charts.get(cell.id, cell.chart),
                                key=cell.id, suggest=cell.id not in charts and not cell.chart)
    if drawn:
        charts[cell.id] = chart


# ---------------------------------------------------------------- deep links: ?sql=... and ?notebook=... fill, never run

asked_sql = st.query_params.get("sql")
if asked_sql and st.session_state.get("wb_deep_link") != asked_sql:
    st.session_state.wb_deep_link = asked_sql
    if len(notebook.cells) == 1 and not notebook.cells[0].source.strip() and notebook.cells[0].id not in queries.outcomes:
        notebook.cells.clear()
    actions.add_cell(asked_sql)
    st.session_state.wb_filled = True
asked_notebook = st.query_params.get("notebook")
if asked_notebook and st.session_state.get("wb_notebook_asked") != asked_notebook:
    st.session_state.wb_notebook_asked = asked_notebook
    try:
        actions.open_notebook(store.open(asked_notebook, example_notebooks(mesh.declared)[0]))
        notebook = st.session_state.wb_notebook
    except NotebookError:
        st.session_state.wb_open_error = "This link names a notebook you have not saved and no example is called so."

prepare_views(mesh, role, user, [actions.current_sql(c) for c in notebook.cells if c.kind == "sql"],
              st.session_state.setdefault("wb_prepared", set()))

# ---------------------------------------------------------------- header: role, what is masked

page.title("Workbench")
masked = schema.filter(schema["masked"])
spec = mesh.roles[role]
with st.container(horizontal=True, vertical_alignment="center"):
    if masked.is_empty():
        st.markdown(f"Querying as **{md(role)}**: " + ("personal data unmasked." if spec.pii else "no masked columns."))
    else:
        st.markdown(f"Querying as **{md(role)}**: :orange[{masked.height} personal-data columns masked] in "
                    f"{masked['product_id'].n_unique()} products.")
        with st.popover("What is masked", icon=":material/visibility_off:"):
            show_table(masked.select("product_id", "column", "mask"))
            st.caption("Masks are applied inside the views this role reads, so no query can undo them. "
                       "Switch role in the sidebar to see another view.")
notice = st.empty()  # always there, so the page keeps its shape (a running query waits with it drawn)
if st.session_state.pop("wb_filled", False):
    notice.info("A link filled a cell below; read it, then press **Run** to run it as you.", icon=":material/link:")

main, side = st.columns([3, 1], gap="medium")

# ---------------------------------------------------------------- side: notebooks, schema, history

with side:
    st.markdown("#### Notebooks")
    examples, problems = example_notebooks(mesh.declared)
    options = store.choices(examples)
    if options:
        st.selectbox("Open a notebook", list(options), format_func=options.get, key="wb_pick", index=None,
                     placeholder="Examples and your saved notebooks", on_change=actions.open_picked, args=(examples,))
    else:
        st.caption("No example or saved notebooks yet: Save keeps this one.")
    if st.session_state.get("wb_open_error"):
        st.error(md(st.session_state.pop("wb_open_error")))
    for problem in problems:
        st.caption(f":red[:material/error:] {md(problem)}")
    st.markdown("#### Products")
    schema_browser(schema, actions.pick_product, actions.insert_name)
    st.markdown("#### History")
    history_box = st.container()

# ---------------------------------------------------------------- main: toolbar and cells

with main:
    with st.container(horizontal=True, vertical_alignment="bottom"):
        title = st.text_input("Notebook title", value=notebook.title, key=f"wb_title_{id(notebook)}")
        if title.strip() and title.strip() != notebook.title:
            notebook.title = title.strip()
        if st.button("Run all", icon=":material/play_circle:", key="wb_run_all"):
            actions.sync_sources()
            cells = notebook.sql_cells()
            progress = st.progress(0.0, text="Running the notebook…")
            for i, cell in enumerate(cells, start=1):
                actions.run_cell(cell, cell.source, wait=True)
                progress.progress(i / len(cells), text=f"Ran {i} of {len(cells)} cells")
            progress.empty()
        if st.button("Save", icon=":material/save:", key="wb_save"):
            actions.sync_sources()
            path = store.save(notebook)
            st.toast(f"Saved as {md(path.stem)}", icon=":material/save:")
        actions.sync_sources()
        st.download_button("Export .ipynb", data=lambda: ipynb_bytes(notebook, mesh.root, role, user),
                           file_name=f"{notebook.slug}.ipynb", mime="application/x-ipynb+json", key="wb_ipynb",
                           icon=":material/description:", on_click="ignore",
                           help="a Jupyter notebook that runs these cells through the catalog API")
    if notebook.description:
        st.caption(md(notebook.description))

    pending: list = []  # cells whose query runs: waited for once the whole page is drawn
    for position, cell in enumerate(list(notebook.cells), start=1):
        with st.container(border=True, key=f"wb_cell_{cell.id}"):
            cell_toolbar(cell, position, len(notebook.cells), on_move=actions.move, on_delete=actions.delete)
            if cell.kind == "markdown":
                markdown_cell(cell)
                continue
            sql, run = sql_editor(cell.source, actions.source_key(cell), schema)
            if run and sql.strip():
                actions.run_cell(cell, sql)
            elif run:  # Run on an empty cell: clear what it showed before, and say why nothing ran
                queries.forget(cell.id)
                cell.source = ""
                st.info("This cell is empty: write a query, then press Run (or Ctrl+Enter).",
                        icon=":material/edit_note:")
            waiting = queries.running(cell.id)
            if waiting is not None:
                pending.append((cell, *waiting))
                continue
            with st.empty().container():  # where `finish` drew it: the same place, so an open popover stays open
                show_cell_outcome(cell)

    with st.container(horizontal=True):
        st.button("Add SQL cell", icon=":material/add:", on_click=actions.add_cell, key="wb_add_sql")
        st.button("Add note", icon=":material/notes:", on_click=actions.add_cell, args=("", "markdown"), key="wb_add_md")
        if available():
            st.toggle("Plain text editor", key=PLAIN_KEY, help="a plain text box instead of the code editor "
                      "(no highlighting; easier with a screen reader)")

# ---------------------------------------------------------------- side: history (after the cells ran)

with history_box:
    history_list(history.recent(HISTORY_READ), on_replay=actions.add_cell)

# ---------------------------------------------------------------- running queries: waited for last

for cell, slot, clock in pending:
    queries.finish(cell.id, slot, clock, lambda cell=cell: show_cell_outcome(cell))

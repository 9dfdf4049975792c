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
from components import context
from components.cells import cell_toolbar, history_list, markdown_cell
from components.editor import PLAIN_KEY, available, plain, sql_editor
from components.jobs import CellQueries, draw_outcome, prepare_views
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


def _source_key(cell: Cell) -> str:
    return f"wb_ed_{cell.id}_{st.session_state.wb_versions.get(cell.id, 0)}"


def current_sql(cell: Cell) -> str:
    """What the cell's editor holds now (the cell's saved source until the person types); the plain editor's box
    is read directly, since a click's callback runs before the page copies it."""
    key = _source_key(cell)
    if plain() and f"{key}_area" in st.session_state:
        return st.session_state[f"{key}_area"]
    return st.session_state.get(f"{key}_text", cell.source)


def sync_sources() -> None:
    for cell in notebook.cells:
        if cell.kind == "sql":
            cell.source = current_sql(cell)
            cell.chart = charts.get(cell.id, cell.chart)


def run_cell(cell: Cell, sql: str, wait: bool = False) -> None:
    """Start the cell's query in the background, with its own session (so Cancel can interrupt it); with
    `wait` (Run all), wait for it here."""
    cell.source = sql
    own = mesh.session(role=role, user=user, timeout_s=TIMEOUT_S)
    queries.start(cell.id, own, sql, lambda s, q: history.run(s, q, MAX_SHOWN), wait_here=wait)


def show_cell_outcome(cell: Cell) -> None:
    drawn, chart = draw_outcome(mesh, session, role, queries.outcomes.get(cell.id), charts.get(cell.id, cell.chart),
                                key=cell.id, suggest=cell.id not in charts and not cell.chart)
    if drawn:
        charts[cell.id] = chart


def add_cell(source: str = "", kind: str = "sql", run: bool = False) -> Cell:
    sync_sources()
    cell = notebook.add(source, kind=kind)  # type: ignore[arg-type]
    if run and source.strip():
        run_cell(cell, source)
    return cell


def move(cell_id: str, offset: int) -> None:
    sync_sources()
    notebook.move(cell_id, offset)


def delete(cell_id: str) -> None:
    sync_sources()
    notebook.remove(cell_id)
    queries.forget(cell_id)
    if not notebook.cells:
        notebook.add("")


def open_notebook(loaded: Notebook) -> None:
    st.session_state.wb_notebook = loaded
    queries.outcomes.clear()
    charts.clear()


def open_picked(examples: list[Notebook]) -> None:
    choice = st.session_state.get("wb_pick")
    if not choice:
        return
    try:
        open_notebook(store.open(choice, examples))
    except NotebookError as exc:
        st.session_state.wb_open_error = str(exc)
        return
    st.session_state.wb_pick = None
    st.session_state.wb_notebook_asked = choice
    st.query_params["notebook"] = choice
    st.query_params.pop("sql", None)


def insert_name(name: str) -> None:
    """Put a product's or column's name at the end of the last SQL cell's query (the editor opens again
    holding it), with a space before it when the query does not end in one."""
    sync_sources()
    cell = next((c for c in reversed(notebook.cells) if c.kind == "sql"), None) or notebook.add("")
    text = cell.source
    gap = "" if not text or text.endswith((" ", "\n", "(", ",", ".")) else " "
    cell.source = f"{text}{gap}{name}"
    st.session_state.wb_versions[cell.id] = st.session_state.wb_versions.get(cell.id, 0) + 1


def pick_product(product_id: str) -> None:
    add_cell(f"SELECT *\nFROM {product_id}\nLIMIT 100", run=True)


# ---------------------------------------------------------------- deep links: ?sql=... and ?notebook=... fill, never run

asked_sql = st.query_params.get("sql")
if asked_sql and st.session_state.get("wb_deep_link") != asked_sql:
    st.session_state.wb_deep_link = asked_sql
    if len(notebook.cells) == 1 and not notebook.cells[0].source.strip() and notebook.cells[0].id not in queries.outcomes:
        notebook.cells.clear()
    add_cell(asked_sql)
    st.session_state.wb_filled = True
asked_notebook = st.query_params.get("notebook")
if asked_notebook and st.session_state.get("wb_notebook_asked") != asked_notebook:
    st.session_state.wb_notebook_asked = asked_notebook
    try:
        open_notebook(store.open(asked_notebook, example_notebooks(mesh.declared)[0]))
        notebook = st.session_state.wb_notebook
    except NotebookError:
        st.session_state.wb_open_error = "This link names a notebook you have not saved and no example is called so."

prepare_views(mesh, role, user, [current_sql(c) for c in notebook.cells if c.kind == "sql"],
              st.session_state.setdefault("wb_prepared", set()))

# ---------------------------------------------------------------- header: role, what is masked

st.title("Workbench")
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
                     placeholder="Examples and your saved notebooks", on_change=open_picked, args=(examples,))
    else:
        st.caption("No example or saved notebooks yet: Save keeps this one.")
    if st.session_state.get("wb_open_error"):
        st.error(md(st.session_state.pop("wb_open_error")))
    for problem in problems:
        st.caption(f":red[:material/error:] {md(problem)}")
    st.markdown("#### Products")
    schema_browser(schema, pick_product, insert_name)
    st.markdown("#### History")
    history_box = st.container()

# ---------------------------------------------------------------- main: toolbar and cells

with main:
    with st.container(horizontal=True, vertical_alignment="bottom"):
        title = st.text_input("Notebook title", value=notebook.title, key=f"wb_title_{id(notebook)}")
        if title.strip() and title.strip() != notebook.title:
            notebook.title = title.strip()
        if st.button("Run all", icon=":material/play_circle:", key="wb_run_all"):
            sync_sources()
            cells = notebook.sql_cells()
            progress = st.progress(0.0, text="Running the notebook…")
            for i, cell in enumerate(cells, start=1):
                run_cell(cell, cell.source, wait=True)
                progress.progress(i / len(cells), text=f"Ran {i} of {len(cells)} cells")
            progress.empty()
        if st.button("Save", icon=":material/save:", key="wb_save"):
            sync_sources()
            path = store.save(notebook)
            st.toast(f"Saved as {md(path.stem)}", icon=":material/save:")
        sync_sources()
        st.download_button("Export .ipynb", data=lambda: ipynb_bytes(notebook, mesh.root, role, user),
                           file_name=f"{notebook.slug}.ipynb", mime="application/x-ipynb+json", key="wb_ipynb",
                           icon=":material/description:", on_click="ignore",
                           help="a Jupyter notebook that runs these cells through the catalog API")
    if notebook.description:
        st.caption(md(notebook.description))

    pending: list = []  # cells whose query runs: waited for once the whole page is drawn
    for position, cell in enumerate(list(notebook.cells), start=1):
        with st.container(border=True, key=f"wb_cell_{cell.id}"):
            cell_toolbar(cell, position, len(notebook.cells), on_move=move, on_delete=delete)
            if cell.kind == "markdown":
                markdown_cell(cell)
                continue
            sql, run = sql_editor(cell.source, _source_key(cell), schema)
            if run and sql.strip():
                run_cell(cell, sql)
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
        st.button("Add SQL cell", icon=":material/add:", on_click=add_cell, key="wb_add_sql")
        st.button("Add note", icon=":material/notes:", on_click=add_cell, args=("", "markdown"), key="wb_add_md")
        if available():
            st.toggle("Plain text editor", key=PLAIN_KEY, help="a plain text box instead of the code editor "
                      "(no highlighting; easier with a screen reader)")

# ---------------------------------------------------------------- side: history (after the cells ran)

with history_box:
    history_list(history.recent(HISTORY_READ), on_replay=add_cell)

# ---------------------------------------------------------------- running queries: waited for last

for cell, slot, clock in pending:
    queries.finish(cell.id, slot, clock, lambda cell=cell: show_cell_outcome(cell))

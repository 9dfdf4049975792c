"""Workbench: notebook-style cells of governed SQL over the products this role can see, with charts,
exports, query history, ready-made example notebooks and `.ipynb` export.

Deep links: `/workbench?sql=<urlencoded query>` opens the page with a new cell holding that query, and
`?notebook=<saved notebook or example>` opens that notebook; neither runs anything: only the person's click on
Run does, so a link someone else made never queries in your name. Reads state -> asks `catalog` (sessions,
notebooks, charts) -> lays the cells out.
"""

from __future__ import annotations

import streamlit as st

from catalog.charts import suggest_chart
from catalog.errors import MeshError
from catalog.workbench.ipynb import ipynb_bytes
from catalog.workbench.notebook import Cell, Notebook, NotebookError, NotebookStore, example_notebooks
from components import context
from components import jobs as jobs_module
from components.cells import cell_toolbar, history_list, markdown_cell
from components.chart_builder import chart_builder
from components.editor import PLAIN_KEY, available, plain, sql_editor
from components.pin import pin_button
from components.results import export_buttons, show_outcome
from components.schema_browser import schema_browser
from components.text import md

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
    st.session_state.wb_outcomes = {}  # cell id -> (sql, role, QueryResult | MeshError)
    st.session_state.wb_charts = {}  # cell id -> ChartSpec | None chosen in the builder
    st.session_state.wb_versions = {}  # cell id -> editor version (a new text needs a new editor)
    st.session_state.wb_jobs = {}  # cell id -> the query running in the background (components.jobs.Job)
notebook: Notebook = st.session_state.wb_notebook
outcomes: dict = st.session_state.wb_outcomes
charts: dict = st.session_state.wb_charts
jobs: dict = st.session_state.setdefault("wb_jobs", {})


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
    outcomes.pop(cell.id, None)
    own = mesh.session(role=role, user=user, timeout_s=TIMEOUT_S)
    jobs[cell.id] = jobs_module.start(own, sql, lambda s, q: history.run(s, q, MAX_SHOWN))
    if wait:
        outcomes[cell.id] = (sql, role, jobs_module.wait(jobs.pop(cell.id), lambda _: None))


def cancel(cell_id: str) -> None:
    job = jobs.get(cell_id)
    if job is not None:
        job.cancel()


def running(cell: Cell):
    """While the cell's query runs: its elapsed time and Cancel, in a slot the outcome later replaces; returns
    (slot, clock) or None when nothing runs. The page is drawn in full before anything waits (`finish`)."""
    job = jobs.get(cell.id)
    if job is None:
        return None
    slot = st.empty()
    with slot.container(horizontal=True, vertical_alignment="center"):
        clock = st.empty()
        clock.caption(f":material/hourglass_top: {'Cancelling…' if job.cancel_asked else 'Running the query…'}")
        st.button("Cancel", key=f"wb_cancel_{cell.id}", icon=":material/stop_circle:", on_click=cancel,
                  args=(cell.id,), disabled=job.cancel_asked, help="stop this query (within a second)")
    return slot, clock


def finish(cell: Cell, slot, clock) -> None:
    """Wait for the cell's query (the clock ticking: each tick is where a click on Cancel is noticed), then
    draw its outcome in the slot."""
    job = jobs[cell.id]
    label = "Cancelling…" if job.cancel_asked else "Running the query…"
    outcome = jobs_module.wait(job, lambda s: clock.caption(f":material/hourglass_top: {label} {s:,.1f} s"))
    jobs.pop(cell.id, None)
    if isinstance(outcome, BaseException) and not isinstance(outcome, MeshError):
        outcome = MeshError(f"The query failed: {str(outcome).splitlines()[0] if str(outcome) else type(outcome).__name__}")
    outcomes[cell.id] = (job.sql, job.role, outcome)
    with slot.container():
        draw_outcome(cell)


def draw_outcome(cell: Cell) -> None:
    """The cell's last result (table, chart, exports, pin) or its refusal or error."""
    if cell.id not in outcomes:
        return
    ran_sql, ran_role, outcome = outcomes[cell.id]
    if ran_role != role:  # never leave one role's result on screen under another role's name
        st.caption(f":material/info: This cell ran as {md(ran_role)}; its result is hidden now "
                   f"that you act as {md(role)}. Run it again to see what {md(role)} sees.")
        return
    show_outcome(outcome)
    if isinstance(outcome, MeshError):
        return
    chart_spec = chart_builder(outcome.frame, charts.get(cell.id, cell.chart or suggest_chart(outcome.frame)),
                               key=f"wb_chart_{cell.id}")
    charts[cell.id] = chart_spec
    export_buttons(session, ran_sql, key=f"wb_export_{cell.id}")
    # cell actions: pin-to-dashboard hook
    pin_button(mesh, ran_sql, chart_spec, key=f"wb_pin_{cell.id}")


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
    outcomes.pop(cell_id, None)
    if not notebook.cells:
        notebook.add("")


def open_notebook(loaded: Notebook) -> None:
    st.session_state.wb_notebook = loaded
    outcomes.clear()
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
    if len(notebook.cells) == 1 and not notebook.cells[0].source.strip() and notebook.cells[0].id not in outcomes:
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
            st.dataframe(masked.select("product_id", "column", "mask"), hide_index=True)
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
                outcomes.pop(cell.id, None)
                cell.source = ""
                st.info("This cell is empty: write a query, then press Run (or Ctrl+Enter).",
                        icon=":material/edit_note:")
            waiting = running(cell)
            if waiting is not None:
                pending.append((cell, *waiting))
                continue
            with st.empty().container():  # where `finish` drew it: the same place, so an open popover stays open
                draw_outcome(cell)

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
    finish(cell, slot, clock)

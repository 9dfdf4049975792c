"""What the workbench's buttons and pickers do to the notebook in the browser session: add, move and delete
cells, run one, open a saved or example notebook, put a product's or column's name into the last query.

The page draws; these handlers change the notebook (`state.wb_notebook`) and its editors' versions
(`state.wb_versions`), and start queries through the page's CellQueries. Everything they use is handed in."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from catalog.workbench.notebook import Cell, Notebook, NotebookError, NotebookStore
from components.editor import current_text, plain
from components.jobs import CellQueries


@dataclass
class NotebookActions:
    """The notebook's handlers for one page run. `new_session()` opens the governed session a cell's query
    runs with (its own, so Cancel interrupts only it); `run_query(session, sql)` runs it (with history);
    `query_params` is the page's URL parameters (an opened notebook is named there)."""

    state: Any
    store: NotebookStore
    queries: CellQueries
    charts: dict
    new_session: Callable[[], Any]
    run_query: Callable[[Any, str], Any]
    query_params: MutableMapping

    @property
    def notebook(self) -> Notebook:
        return self.state.wb_notebook

    # ---------------------------------------------------------------- editors' text

    def source_key(self, cell: Cell) -> str:
        return f"wb_ed_{cell.id}_{self.state.wb_versions.get(cell.id, 0)}"

    def current_sql(self, cell: Cell) -> str:
        """What the cell's editor holds now (the cell's saved source until the person types). A click's callback
        runs before the page copies the editor's report, so the report (or the plain editor's box) is read here."""
        key = self.source_key(cell)
        if plain() and f"{key}_area" in self.state:
            return self.state[f"{key}_area"]
        text = current_text(key, self.state)
        return cell.source if text is None else text

    def sync_sources(self) -> None:
        for cell in self.notebook.cells:
            if cell.kind == "sql":
                cell.source = self.current_sql(cell)
                cell.chart = self.charts.get(cell.id, cell.chart)

    # ---------------------------------------------------------------- cells

    def run_cell(self, cell: Cell, sql: str, wait: bool = False) -> None:
        """Start the cell's query in the background, with its own session (so Cancel can interrupt it); with
        `wait` (Run all), wait for it here."""
        cell.source = sql
        self.queries.start(cell.id, self.new_session(), sql, self.run_query, wait_here=wait)

    def add_cell(self, source: str = "", kind: str = "sql", run: bool = False) -> Cell:
        self.sync_sources()
        cell = self.notebook.add(source, kind=kind)  # type: ignore[arg-type]
        if run and source.strip():
            self.run_cell(cell, source)
        return cell

    def move(self, cell_id: str, offset: int) -> None:
        self.sync_sources()
        self.notebook.move(cell_id, offset)

    def delete(self, cell_id: str) -> None:
        self.sync_sources()
        self.notebook.remove(cell_id)
        self.queries.forget(cell_id)
        if not self.notebook.cells:
            self.notebook.add("")

    def insert_name(self, name: str) -> None:
        """Put a product's or column's name at the end of the last SQL cell's query (the editor opens again
        holding it), with a space before it when the query does not end in one."""
        self.sync_sources()
        cell = next((c for c in reversed(self.notebook.cells) if c.kind == "sql"), None) or self.notebook.add("")
        text = cell.source
        gap = "" if not text or text.endswith((" ", "\n", "(", ",", ".")) else " "
        cell.source = f"{text}{gap}{name}"
        self.state.wb_versions[cell.id] = self.state.wb_versions.get(cell.id, 0) + 1

    def pick_product(self, product_id: str) -> None:
        self.add_cell(f"SELECT *\nFROM {product_id}\nLIMIT 100", run=True)

    # ---------------------------------------------------------------- notebooks

    def open_notebook(self, loaded: Notebook) -> None:
        self.state.wb_notebook = loaded
        self.queries.outcomes.clear()
        self.charts.clear()

    def open_picked(self, examples: list[Notebook]) -> None:
        choice = self.state.get("wb_pick")
        if not choice:
            return
        try:
            self.open_notebook(self.store.open(choice, examples))
        except NotebookError as exc:
            self.state.wb_open_error = str(exc)
            return
        self.state.wb_pick = None
        self.state.wb_notebook_asked = choice
        self.query_params["notebook"] = choice
        self.query_params.pop("sql", None)

"""Pieces of the Workbench page that draw a notebook: a cell's toolbar, a markdown note, and the query
history list. The page keeps the state and passes the callbacks."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from catalog.workbench.notebook import Cell
from catalog.numbers import rows_text
from components.popover import form_popover
from components.text import code, md


def cell_toolbar(cell: Cell, position: int, count: int, on_move: Callable[[str, int], None],
                 on_delete: Callable[[str], None]) -> None:
    """`[n] title` with move up / move down / delete."""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.markdown(f"**[{position}]** {md(cell.title) or ('Note' if cell.kind == 'markdown' else 'SQL')}")
        st.space("stretch")
        st.button("", key=f"wb_up_{cell.id}", icon=":material/arrow_upward:", help="move up",
                  on_click=on_move, args=(cell.id, -1), type="tertiary", disabled=position == 1)
        st.button("", key=f"wb_down_{cell.id}", icon=":material/arrow_downward:", help="move down",
                  on_click=on_move, args=(cell.id, 1), type="tertiary", disabled=position == count)
        st.button("", key=f"wb_del_{cell.id}", icon=":material/delete:", help="delete this cell",
                  on_click=on_delete, args=(cell.id,), type="tertiary")


def markdown_cell(cell: Cell) -> None:
    """The note as rendered markdown, with its editor in a popover (this run's edit is shown at once)."""
    cell.source = st.session_state.get(f"wb_md_{cell.id}", cell.source)
    if cell.source.strip():
        st.markdown(cell.source)
    popover = form_popover("Edit note", key=f"wb_md_open_{cell.id}", icon=":material/edit:")
    if popover is not None:
        with popover:
            cell.source = st.text_area("Note (markdown)", value=cell.source, key=f"wb_md_{cell.id}")


HISTORY_SHOWN = 15  # distinct queries the history list shows


def distinct_queries(recent: list[dict], search: str = "", limit: int = HISTORY_SHOWN) -> list[dict]:
    """Each query once (its newest run, with how many times it ran), newest first, at most `limit`, keeping
    those whose text contains `search` (any case); queries differing only in spacing count as one."""
    seen: dict[str, dict] = {}
    needle = search.strip().lower()
    for entry in recent:
        text = " ".join((entry.get("sql") or "").split())
        if not text or (needle and needle not in text.lower()):
            continue
        if text in seen:
            seen[text]["runs"] += 1
        elif len(seen) < limit:
            seen[text] = {**entry, "runs": 1}
    return list(seen.values())


def history_list(recent: list[dict], on_replay: Callable[[str], object]) -> None:
    """Recent queries, newest first, each once: first line, role, rows or failure, how often it ran, and a
    button to reopen it in a cell; a search box filters them by their text."""
    if not recent:
        st.caption("Queries you run appear here.")
        return
    search = st.text_input("Search history", key="wb_hist_search", placeholder="Search your queries",
                           label_visibility="collapsed")
    shown = distinct_queries(recent, search)
    if not shown:
        st.caption(f"No query in your history contains {code(search)}.")
    for n, entry in enumerate(shown):
        outcome = (rows_text(entry["rows"]) if entry["status"] == "ok" and entry.get("rows") is not None
                   else f":red[{md(entry['status'].removeprefix('Query'))}]")
        first = entry["sql"].splitlines()[0][:48] if entry["sql"] else ""
        runs = f" · ran {entry['runs']}×" if entry["runs"] > 1 else ""
        with st.container(horizontal=True, vertical_alignment="center"):
            st.caption(f"{code(first)} · {md(entry['role'])} · {outcome}{runs}")
            st.button("", key=f"wb_hist_{n}", icon=":material/replay:", help="open in a new cell",
                      on_click=on_replay, args=(entry["sql"],), type="tertiary")

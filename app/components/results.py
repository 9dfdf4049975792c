"""A cell's outcome: the result table with its row count and time, or the refusal / error in plain words
(a syntax error with its position marked), and full-result exports to CSV and Parquet."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO

import streamlit as st

from catalog.errors import MeshError, QueryCancelled, QueryRejected, QuerySyntaxError, QueryTimeout
from catalog.query.session import QueryResult, Session
from components.tables import show_table
from components.text import md

MIME = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def show_outcome(outcome: QueryResult | MeshError) -> None:
    if isinstance(outcome, QuerySyntaxError):
        head, _, marked = str(outcome).partition("\n")
        st.error(md(head), icon=":material/error:")
        if marked:
            st.code(marked, language=None)
    elif isinstance(outcome, QueryRejected):
        st.error(f"**Refused.** {md(outcome)}", icon=":material/block:")
    elif isinstance(outcome, QueryCancelled):
        st.warning(md(outcome), icon=":material/stop_circle:")
    elif isinstance(outcome, QueryTimeout):
        st.warning(md(outcome), icon=":material/timer_off:")
    elif isinstance(outcome, MeshError):
        st.error(md(outcome), icon=":material/error:")
    else:
        st.caption(f":material/table_rows: {outcome.note()} · {outcome.duration_ms:,.0f} ms · "
                   f"read {md(', '.join(outcome.products)) or 'no products'}")
        for warning in outcome.warnings:  # e.g. the state database was lost: the usage event is not recorded
            st.warning(md(warning), icon=":material/warning:")
        for notice in outcome.notices:  # e.g. the person's PII grant ended: what they read is masked again
            st.info(md(notice), icon=":material/lock_clock:")
        show_table(outcome.frame, human=False, height=min(38 + 35 * max(outcome.frame.height, 1), 360))


def _exporter(session: Session, sql: str, fmt: str):
    """A deferred export for st.download_button: runs only on click, streams the full result to a private
    temporary file and hands Streamlit that file (unlinked at once, so nothing is left on disk)."""

    def make() -> IO[bytes]:
        folder = tempfile.mkdtemp(prefix="meshwork-export-")
        path = Path(folder) / f"result.{fmt}"
        session.export(sql, path, fmt)
        handle = path.open("rb")
        os.unlink(path)
        os.rmdir(folder)
        return handle

    return make


def export_buttons(session: Session, sql: str, key: str) -> None:
    """Download the full result (not just the rows shown) as CSV or Parquet."""
    left, right = st.columns(2)
    for column, fmt in ((left, "csv"), (right, "parquet")):
        with column:
            st.download_button(f"Download {fmt.upper()}", data=_exporter(session, sql, fmt), file_name=f"result.{fmt}",
                               mime=MIME[fmt], key=f"{key}_{fmt}", icon=":material/download:", on_click="ignore",
                               width="stretch", help="the full result, streamed (not only the rows shown)")

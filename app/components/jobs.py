"""Workbench queries running in the background, so the page can offer Cancel while one runs; and the bookkeeping
of each cell's query (running, or its last outcome) in the browser session.

Streamlit runs the page script in one thread: a query run inline blocks it, and no click is seen until the query
ends. Instead the query runs in a worker thread holding its own governed session; the page waits for it in short
steps, redrawing the elapsed time (each redraw is where Streamlit notices a click and starts a new run). Cancel
calls the session's interrupt: DuckDB stops the query (Spark cancels its job group), and the cell shows that it
was cancelled."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from catalog.charts import suggest_chart
from catalog.errors import MeshError
from components.chart_builder import chart_builder
from components.pin import pin_button
from components.results import export_buttons, show_outcome
from components.text import md

POLL_S = 0.1


@dataclass
class Job:
    """One query in flight: the session running it, and its outcome once done."""

    sql: str
    role: str
    session: Any
    started: float = field(default_factory=time.monotonic)
    outcome: Any = None
    done: threading.Event = field(default_factory=threading.Event)
    cancel_asked: bool = False

    def cancel(self) -> None:
        self.cancel_asked = True
        self.session.interrupt()

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started


def start(session: Any, sql: str, run: Callable[[Any, str], Any]) -> Job:
    """Start `run(session, sql)` in a worker thread; its return value becomes the job's outcome."""
    job = Job(sql=sql, role=session.role, session=session)

    def work() -> None:
        try:
            job.outcome = run(session, sql)
        except BaseException as exc:  # noqa: BLE001 - shown in the cell like any failure
            job.outcome = exc
        finally:
            job.done.set()

    threading.Thread(target=work, name="meshwork-workbench-query", daemon=True).start()
    return job


def wait(job: Job, tick: Callable[[float], None]) -> Any:
    """Wait for the job, calling `tick(elapsed seconds)` every POLL_S (a redraw: a click interrupts here)."""
    while not job.done.wait(POLL_S):
        tick(job.elapsed_s)
    return job.outcome


def prepare_views(mesh: Any, role: str, user: str | None, texts: list[str],
                  prepared: set) -> threading.Thread | None:
    """Create, in a background thread, the role views the cells' queries name, while the person reads them: the
    first Run otherwise builds them (a third of a second per product here, on a quiet machine). The session's
    `prepare` parses the SQL, never runs it or puts it on record, and prepares only what the viewer may see.
    `prepared` (per session) keeps a text from being parsed twice; returns the thread started, if any."""
    fresh = [t for t in dict.fromkeys(texts) if t.strip() and (role, user, t) not in prepared]
    if not fresh or not mesh.engine.STARTS_IN_PROCESS:  # a Spark engine would start a JVM for a query never run
        return None
    prepared.update((role, user, t) for t in fresh)

    def work() -> None:
        # A view that cannot be built here fails the same way on Run, which reports it to the person: here the
        # failures expected (ours, and the engine's own when a source cannot be read) are dropped. Anything
        # else is a bug and is left to the thread's excepthook, which prints it.
        try:
            session = mesh.session(role=role, user=user)
        except MeshError:
            return
        with contextlib.suppress(MeshError, *session.database.ERRORS):
            session.prepare(fresh)

    thread = threading.Thread(target=work, name="meshwork-workbench-prepare", daemon=True)
    thread.start()
    return thread


def _plain_failure(outcome: Any) -> Any:
    """A crash that is not one of ours reads as one line, like any other failure of the query."""
    if isinstance(outcome, BaseException) and not isinstance(outcome, MeshError):
        text = str(outcome).splitlines()[0] if str(outcome) else type(outcome).__name__
        return MeshError(f"The query failed: {text}")
    return outcome


class CellQueries:
    """Each cell's query in this browser session: the one running in the background (`jobs`, cell id -> Job)
    and the last outcome (`outcomes`, cell id -> (sql, role, QueryResult | MeshError)). The page asks it to
    start, cancel and wait; it draws the running state (clock and Cancel) and hands the outcome to `draw`."""

    def __init__(self, state: MutableMapping, prefix: str = "wb"):
        self.jobs: dict = state.setdefault(f"{prefix}_jobs", {})
        self.outcomes: dict = state.setdefault(f"{prefix}_outcomes", {})
        self.prefix = prefix

    def reset(self) -> None:
        self.jobs.clear()
        self.outcomes.clear()

    def start(self, cell_id: str, session: Any, sql: str, run: Callable[[Any, str], Any],
              wait_here: bool = False) -> None:
        """Start the cell's query with `session` (its own, so Cancel interrupts only it); with `wait_here` (Run
        all), wait for it now and keep its outcome."""
        self.outcomes.pop(cell_id, None)
        self.jobs[cell_id] = start(session, sql, run)
        if wait_here:
            job = self.jobs.pop(cell_id)
            self.outcomes[cell_id] = (sql, job.role, _plain_failure(wait(job, lambda _: None)))

    def cancel(self, cell_id: str) -> None:
        job = self.jobs.get(cell_id)
        if job is not None:
            job.cancel()

    def forget(self, cell_id: str) -> None:
        self.outcomes.pop(cell_id, None)

    def settle(self, cell_id: str) -> bool:
        """Keep the outcome of a cell's query that has ended (or, Cancel asked, ends within a second) and drop
        its job, so a run after a cancel draws the outcome and not a Cancel button that lingers a run; True
        if the cell still has a query running."""
        job = self.jobs.get(cell_id)
        if job is None:
            return False
        if job.cancel_asked:
            job.done.wait(1.0)
        if not job.done.is_set():
            return True
        self.jobs.pop(cell_id, None)
        self.outcomes[cell_id] = (job.sql, job.role, _plain_failure(job.outcome))
        return False

    def running(self, cell_id: str):
        """While the cell's query runs: its elapsed time and Cancel, in a slot the outcome later replaces;
        returns (slot, clock) or None when nothing runs. The page is drawn in full before anything waits
        (`finish`)."""
        if not self.settle(cell_id):
            return None
        job = self.jobs[cell_id]
        slot = st.empty()
        with slot.container(horizontal=True, vertical_alignment="center"):
            clock = st.empty()
            clock.caption(f":material/hourglass_top: {'Cancelling…' if job.cancel_asked else 'Running the query…'}")
            st.button("Cancel", key=f"{self.prefix}_cancel_{cell_id}", icon=":material/stop_circle:",
                      on_click=self.cancel, args=(cell_id,), disabled=job.cancel_asked,
                      help="stop this query (within a second)")
        return slot, clock

    def finish(self, cell_id: str, slot, clock, draw: Callable[[], None]) -> None:
        """Wait for the cell's query (the clock ticking: each tick is where a click on Cancel is noticed), then
        let `draw` show its outcome in the slot."""
        job = self.jobs[cell_id]
        label = "Cancelling…" if job.cancel_asked else "Running the query…"
        wait(job, lambda s: clock.caption(f":material/hourglass_top: {label} {s:,.1f} s"))
        self.settle(cell_id)
        with slot.container():
            draw()


def draw_outcome(mesh: Any, session: Any, role: str, entry: tuple | None, chart: Any, key: str,
                 suggest: bool = False) -> tuple[bool, Any]:
    """A cell's last outcome (`entry`: sql, role it ran as, result or error): the table with its chart, exports
    and pin, or the refusal or error. `chart` is the one chosen so far (with `suggest`, none was: the result's
    default chart is offered). Returns (a result was drawn, the chart now chosen)."""
    if entry is None:
        return False, chart
    ran_sql, ran_role, outcome = entry
    if ran_role != role:  # never leave one role's result on screen under another role's name
        st.caption(f":material/info: This cell ran as {md(ran_role)}; its result is hidden now "
                   f"that you act as {md(role)}. Run it again to see what {md(role)} sees.")
        return False, chart
    show_outcome(outcome)
    if isinstance(outcome, MeshError):
        return False, chart
    chart = chart_builder(outcome.frame, suggest_chart(outcome.frame) if suggest else chart, key=f"wb_chart_{key}")
    export_buttons(session, ran_sql, key=f"wb_export_{key}")
    pin_button(mesh, ran_sql, chart, key=f"wb_pin_{key}")
    return True, chart

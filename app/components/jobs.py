"""A workbench query running in the background, so the page can offer Cancel while it runs.

Streamlit runs the page script in one thread: a query run inline blocks it, and no click is seen until the query
ends. Instead the query runs in a worker thread holding its own governed session; the page waits for it in short
steps, redrawing the elapsed time (each redraw is where Streamlit notices a click and starts a new run). Cancel
calls the session's interrupt: DuckDB stops the query, and the cell shows that it was cancelled."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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

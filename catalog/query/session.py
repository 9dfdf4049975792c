"""A governed session: one user, one role, queries vetted, timed out, and counted.

`Session.sql` returns a polars DataFrame; `Session.run` also says how many rows
there were when the result is capped for display; `Session.export` streams the
full result to a file. Every run records one usage event per product it read.
The session decides and records; the engine's role database runs (on DuckDB or Spark alike).
"""

from __future__ import annotations

import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import polars as pl

from catalog.access.ledger import AccessLedger
from catalog.access.policy import Grants, Viewers
from catalog.descriptors.declared import DeclaredMesh
from catalog.engines.base import RUNNING_FOR, Cancellation, Engine, Record, RoleDatabase
from catalog.errors import MeshError, StateUnavailable
from catalog.query import gate as sandbox
from catalog.query import vetting
from catalog.query.masking import describe_mask
from catalog.query.usage_log import UsageEvent, UsageLog
from catalog.numbers import rows_text


@dataclass
class QueryResult:
    frame: pl.DataFrame
    total_rows: int
    truncated: bool
    duration_ms: float
    products: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. its usage event could not be recorded
    notices: list[str] = field(default_factory=list)  # e.g. a PII grant ended, so the personal data is masked again

    @property
    def shown_rows(self) -> int:
        return self.frame.height

    def note(self) -> str:
        if self.truncated:
            return f"showing first {self.shown_rows:,} of {self.total_rows:,} rows"
        return rows_text(self.total_rows)

    def _repr_html_(self) -> str:
        return f"<p><small>{self.note()} · {self.duration_ms:.0f} ms</small></p>" + self.frame._repr_html_()


class UnrecordedUsage(UserWarning):
    """A query ran but its usage event (and any grant-use audit) could not be written to the state store."""


class GrantEnded(UserWarning):
    """A query ran masked because a grant that unmasked its personal data has expired or was revoked."""


class Session:
    """Runs governed SQL for `user` as `role`; usable from many threads one query at a time.

    Built from narrow parts: the declared mesh, the engine, `viewers` (who sees what), the access ledger
    (ended grants refused on record, the audit of grants a query relied on) and the usage log."""

    def __init__(self, mesh: DeclaredMesh, engine: Engine, viewers: Viewers, ledger: AccessLedger,
                 usage: UsageLog, role: str, user: str, timeout_s: float = 30.0,
                 consumer_domain: str | None = None):
        self.mesh = mesh
        self.engine = engine
        self.viewers = viewers
        self.ledger = ledger
        self.usage = usage
        self.role = role
        self.user = user or "anonymous"
        self.timeout_s = timeout_s
        self.consumer_domain = consumer_domain
        self.database: RoleDatabase = engine.database_for(role, self.user)
        self.cancellation = Cancellation()

    def __repr__(self) -> str:
        return f"<Session {self.user} as {self.role} on {self.mesh.name}, timeout {self.timeout_s}s>"

    def visible_products(self) -> list[str]:
        return sorted(self.engine.database_for(self.role, self.user).visible)

    def schema(self) -> pl.DataFrame:
        """One row per column of every product this session may query: what the schema browser and the
        editor's autocomplete show, with how each PII column appears to this role (`masked`, `mask`)."""
        database = self.engine.database_for(self.role, self.user)
        rows = []
        for product_id in sorted(database.visible):
            product = self.mesh.products[product_id]
            unmasked = database.policy.sees_pii(product_id)
            for column in product.columns:
                masked = column.pii and not unmasked
                rows.append({"product_id": product_id, "domain": product.domain, "title": product.title,
                             "column": column.name, "type": column.type, "description": column.description,
                             "pii": column.pii, "masked": masked, "mask": describe_mask(column) if masked else ""})
        return pl.DataFrame(rows, schema={"product_id": pl.String, "domain": pl.String, "title": pl.String,
                                          "column": pl.String, "type": pl.String, "description": pl.String,
                                          "pii": pl.Boolean, "masked": pl.Boolean, "mask": pl.String})

    def vet(self, text: str) -> sandbox.VettedQuery:
        # The user's grants are re-resolved on every query: one approved mid-session applies at once,
        # one past its expiry stops applying (and naming its product is a refusal on record).
        self.database = self.engine.database_for(self.role, self.user)
        return vetting.vet(text, mesh=self.mesh, viewers=self.viewers, ledger=self.ledger, role=self.role,
                           user=self.user, visible=self.database.visible, grants=self.database.grants,
                           dialect=self.engine.DIALECT, deadline=time.monotonic() + self.timeout_s)

    def prepare(self, texts: Iterable[str]) -> set[str]:
        """Create the role views these queries name, without running them, so their first Run does not wait
        for them; returns the products prepared. Only products this viewer's database shows are prepared;
        nothing is put on record (no usage event, no refusal audit: the lower-level gate is used, not
        `vetting.vet`, which records a query's reliance on an ended grant), and a text that does not pass the
        gate is skipped (Run explains it). A view that cannot be built raises, as it would on Run. Safe to call
        from another thread while this session runs a query (it changes nothing on the session)."""
        database = self.engine.database_for(self.role, self.user)  # grants re-resolved, as on Run
        named: set[str] = set()
        for text in texts:
            try:
                named |= sandbox.vet(text, set(database.visible), role=self.role, dialect=self.engine.DIALECT).products
            except MeshError:
                continue
        named &= database.visible
        if named:
            database.ensure(named)
        return named

    def sql(self, text: str) -> pl.DataFrame:
        """Run one governed query and return the whole result (a lost usage event, or a grant that ended so the
        result is masked again, is a Python warning)."""
        result = self.run(text, max_rows=None)
        for message in result.warnings:
            warnings.warn(message, UnrecordedUsage, stacklevel=2)
        for message in result.notices:
            warnings.warn(message, GrantEnded, stacklevel=2)
        return result.frame

    def interrupt(self) -> None:
        """Stop the query this session is running now, from any thread: it ends with QueryCancelled (within
        about a second on DuckDB; an engine that cannot interrupt lets it finish)."""
        self.cancellation.cancel()

    def run(self, text: str, max_rows: int | None = 1000) -> QueryResult:
        """Run one governed query; keep at most `max_rows` rows but count them all. If the state store cannot
        be written when the query ends, the result is still returned, with a warning that says so."""
        vetted = self.vet(text)
        lost: list[str] = []
        self.cancellation = Cancellation()
        running = RUNNING_FOR.set(self.cancellation)
        try:
            table, total, duration_ms = self.database.run(set(vetted.products),
                                                          sandbox.runnable(vetted, self.database), max_rows,
                                                          self.timeout_s, self.user, self._recorder(vetted, lost))
        finally:
            RUNNING_FOR.reset(running)
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return QueryResult(frame=frame, total_rows=total, truncated=frame.height < total, duration_ms=duration_ms,
                           products=sorted(vetted.products), warnings=lost, notices=list(vetted.notices))

    def record_cached(self, text: str, rows: int) -> None:
        """Count a result served from a cache as a read of its products: usage metrics and the access audit
        see every read a person makes, not only the ones that reached the engine. The query is vetted
        again, so a cache never serves what this user may no longer read."""
        vetted = self.vet(text)
        self._record(vetted.products, self.database.grants, rows, 0.0, "ok")

    def export(self, text: str, path: str | Path, fmt: str = "csv") -> int:
        """Write the full result of a governed query to a CSV or Parquet file; returns the row count.

        The engine streams it (DuckDB batch by batch, Spark in parallel parts), so memory stays flat whatever
        the result's size; the file appears only once complete."""
        if fmt not in ("csv", "parquet"):
            raise MeshError(f"cannot export as {fmt!r}: choose csv or parquet")
        vetted = self.vet(text)
        return self.database.export(set(vetted.products), sandbox.runnable(vetted, self.database), Path(path), fmt,
                                    self.timeout_s, self.user, self._recorder(vetted))

    # ---------------------------------------------------------------- internals

    def _recorder(self, vetted: sandbox.VettedQuery, lost: list[str] | None = None) -> Record:
        """What the engine calls once the query ends: the usage events and the audit of grants relied on. With
        `lost`, a state store that cannot be written adds a warning there instead of discarding the result."""
        grants = self.database.grants

        def record(rows: int, duration_ms: float, status: str) -> None:
            try:
                self._record(vetted.products, grants, rows, duration_ms, status)
            except StateUnavailable as exc:
                if lost is None:
                    raise
                lost.append(f"This query's usage event could not be recorded: {exc}")
        return record

    def _record(self, products: Iterable[str], grants: Grants, rows: int, duration_ms: float, status: str) -> None:
        query_id = uuid.uuid4().hex[:12]
        events = [UsageEvent(user=self.user, role=self.role, product_id=p, rows=rows, duration_ms=duration_ms,
                             status=status, query_id=query_id, consumer_domain=self.consumer_domain)
                  for p in sorted(products)]
        self.usage.record(events)
        self.ledger.record_use(self.user, self.role, frozenset(products), grants, query_id, status)

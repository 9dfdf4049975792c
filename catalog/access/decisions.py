"""The audit trail of a workflow another module owns: glossary proposals, access agreements.

Each such workflow refuses with a message the user reads and records every decision, and both must land in the
one append-only audit log (catalog.access.ledger) the same way: a refusal is one `refused` row written before
the error is raised, a decision one `ok` row. `DecisionLog` is that one piece of code: the workflow names the
fields it always sets (`kind="term"` for the glossary) once, and passes the rest per call.
"""

from __future__ import annotations

from typing import Any

from catalog.access.ledger import AccessLedger
from catalog.errors import MeshError


class DecisionLog:
    """Refusals and decisions of one workflow, as audit rows of `ledger`, with `defaults` on every row."""

    def __init__(self, ledger: AccessLedger, **defaults: Any):
        self.ledger = ledger
        self.defaults = defaults

    def refuse(self, error: type[MeshError], actor: str | None, action: str, reason: str,
               **fields: Any) -> MeshError:
        """Record the refusal, then hand back the error for the caller to raise (`raise log.refuse(...)`)."""
        self.ledger.audit_refusal(actor, action, reason, **{**self.defaults, **fields})
        return error(reason)

    def record(self, actor: str | None, action: str, reason: str, **fields: Any) -> None:
        """One `ok` row for a decision or transition the workflow made."""
        self.ledger.record(actor, action, reason=reason, **{**self.defaults, **fields})

"""DecisionLog: the one way glossary proposals and access agreements write their audit rows."""

from __future__ import annotations

import catalog
from catalog.access.decisions import DecisionLog
from catalog.errors import MeshError


def test_a_refusal_is_recorded_before_the_error_and_defaults_are_on_every_row(minimesh):
    mesh = catalog.open_mesh(minimesh)
    log = DecisionLog(mesh.access, kind="term")
    error = log.refuse(MeshError, "Ana@Bank.example", "glossary.propose", "cycle: a -> b -> a", subject="term:a")
    assert isinstance(error, MeshError) and str(error) == "cycle: a -> b -> a"
    log.record("ana@bank.example", "glossary.approve", "proposal #1", subject="term:a")
    rows = mesh.access.audit().select("actor", "action", "outcome", "kind", "subject", "reason").rows()
    assert rows == [("ana@bank.example", "glossary.propose", "refused", "term", "term:a", "cycle: a -> b -> a"),
                    ("ana@bank.example", "glossary.approve", "ok", "term", "term:a", "proposal #1")]

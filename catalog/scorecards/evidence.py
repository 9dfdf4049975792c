"""What a scorecard or an owner review reads, gathered once per call: the straight path down.

A scorecard reads the latest quality runs, their history, the usage events, governance compliance, lineage
health and (for a review) the changelog. `Evidence` reads each of them at most once, from the owners the facade
hands it (`QualityRuns`, `UsageLog`) and from callables it wires for what other packages compute (lineage
health, compliance, the changelog); the scorecard functions take it and never reach back into the `Mesh`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import polars as pl

from catalog.descriptors.declared import DeclaredMesh
from catalog.lineage.health import Health
from catalog.quality.run import quality_history
from catalog.quality.runs import QualityRuns
from catalog.quality.sensitivity import Sensitivity
from catalog.query.usage_log import UsageLog

if TYPE_CHECKING:
    from catalog.scorecards.review import ReviewLog


class Evidence:
    """One reading of a mesh's evidence, made by the facade per call (`Mesh.evidence()`); each part is read on
    first use and kept for that call only, so a new run or usage event is seen by the next scorecard."""

    def __init__(self, mesh: DeclaredMesh, runs: QualityRuns, usage: UsageLog, sensitivity: Sensitivity,
                 reviews: "ReviewLog", *, health: Callable[[], Mapping[str, Health]],
                 compliance: Callable[[], pl.DataFrame] | None = None,
                 changelog: Callable[[], pl.DataFrame] | None = None,
                 incidents: Callable[[], Mapping[str, Mapping[str, Any]]] | None = None,
                 agreements: Callable[[], pl.DataFrame] | None = None):
        self.mesh = mesh
        self.sensitivity = sensitivity
        self.reviews = reviews
        self._runs, self._usage = runs, usage
        self._health, self._compliance, self._changelog = health, compliance, changelog
        self._incidents = incidents
        self._agreements = agreements

    @cached_property
    def runs(self) -> dict[str, dict[str, Any]]:
        """Product id -> its latest stored run."""
        return self._runs.latest()

    @cached_property
    def history(self) -> pl.DataFrame:
        """Every stored run, oldest first (catalog.quality.run.quality_history)."""
        return quality_history(self._runs)

    @cached_property
    def events(self) -> pl.DataFrame:
        """Successful usage events (a sample's synthetic history among them: it is seeded with its state store)."""
        return self._usage.frame().filter(pl.col("status") == "ok")

    @cached_property
    def health(self) -> Mapping[str, Health]:
        """Lineage health of every product (latest checks and source age against the SLA)."""
        return self._health()

    @cached_property
    def compliance(self) -> pl.DataFrame | None:
        """Governance compliance of every product; None when this mesh has none to measure."""
        return self._compliance() if self._compliance is not None else None

    @cached_property
    def changelog(self) -> pl.DataFrame | None:
        return self._changelog() if self._changelog is not None else None

    @cached_property
    def incidents(self) -> Mapping[str, Mapping[str, Any]]:
        """Product id -> its open incidents and mean time to resolve in hours (catalog.incidents)."""
        return self._incidents() if self._incidents is not None else {}

    @cached_property
    def agreements(self) -> pl.DataFrame:
        """Active access agreements (catalog.access.agreements), for what consuming domains hold; empty when
        none were wired."""
        if self._agreements is None:
            return pl.DataFrame(schema={"product_id": pl.String, "consumer_kind": pl.String, "consumer": pl.String})
        return self._agreements()

    def run_at(self, product_id: str, ts: str) -> dict[str, Any] | None:
        """The product's newest run stored at or before `ts`."""
        return self._runs.latest_at(product_id, ts)
